"""Writing runs into the mirror: one transaction per batch, with a fingerprint per run."""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import uuid
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from flowdeck.core.run_tables import RunTables
from flowdeck.store.mirror.database import RUNS_STATE_TABLE, now_ms
from flowdeck.store.mirror.source import RunInputs

Pair = tuple[str, str]
# MLflow's SQL store keeps +-inf as +-DBL_MAX and NaN as 0 with is_nan set.
DBL_MAX = 1.7976931348623157e308
NAMESPACE = uuid.UUID("5b0f6a4e-4f0e-4d55-9a57-2f1d1f6c6d10")


def stored_value(value: float) -> tuple[float, int]:
    """(value, is_nan) as MLflow's SQL store writes a metric value."""
    if math.isnan(value):
        return 0.0, 1
    if math.isinf(value):
        return (DBL_MAX if value > 0 else -DBL_MAX), 0
    return float(value), 0


def run_fingerprints(tables: RunTables, inputs: Mapping[str, RunInputs]) -> dict[str, str]:
    """A digest per run of everything a mirror copies of it except the history points."""
    parts: dict[str, list[str]] = {run_id: [] for run_id in tables.runs["run_id"]}
    for row in tables.runs.itertuples(index=False):
        parts[row.run_id].append(json.dumps([_plain(value) for value in row], default=str))
    for name, frame in (
        ("m", tables.metrics),
        ("p", tables.params),
        ("t", tables.tags),
    ):
        ordered = frame.sort_values(["run_id", "key"], kind="stable")
        for row in ordered.itertuples(index=False):
            if row.run_id in parts:
                parts[row.run_id].append(name + json.dumps([_plain(v) for v in row[1:]]))
    for run_id, found in inputs.items():
        if run_id in parts:
            parts[run_id].append(repr(found))
    return {
        run_id: hashlib.sha1("\n".join(items).encode(), usedforsecurity=False).hexdigest()
        for run_id, items in parts.items()
    }


def _plain(value: object) -> object:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return _plain(float(value))
    return value


def synced_fingerprints(conn: sqlite3.Connection) -> dict[str, str]:
    """The fingerprint each run had when it was last copied."""
    return dict(conn.execute(f"SELECT run_uuid, fingerprint FROM {RUNS_STATE_TABLE}").fetchall())


def synced_latest(conn: sqlite3.Connection, run_ids: Iterable[str]) -> dict[Pair, tuple]:
    """The (step, timestamp, value, is_nan) of each latest metric the mirror holds."""
    found: dict[Pair, tuple] = {}
    ids = list(run_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for run_id, key, step, stamp, value, is_nan in conn.execute(
            "SELECT run_uuid, key, step, timestamp, value, is_nan FROM latest_metrics "
            f"WHERE run_uuid IN ({marks})",
            chunk,
        ):
            found[(run_id, key)] = (int(step), int(stamp), float(value), int(is_nan))
    return found


def source_latest(tables: RunTables, run_ids: Iterable[str]) -> dict[Pair, tuple]:
    """The source's latest metrics of ``run_ids`` in the mirror's stored form."""
    wanted = set(run_ids)
    metrics = tables.metrics[tables.metrics["run_id"].isin(wanted)]
    found: dict[Pair, tuple] = {}
    for run_id, key, value, step, stamp in metrics[
        ["run_id", "key", "value", "step", "timestamp"]
    ].itertuples(index=False):
        stored, is_nan = stored_value(float(value))
        found[(run_id, key)] = (int(step), int(stamp), stored, is_nan)
    return found


def write_runs(
    conn: sqlite3.Connection,
    tables: RunTables,
    run_ids: list[str],
    inputs: Mapping[str, RunInputs],
    histories: Iterable[tuple[Pair, np.ndarray]],
    fingerprints: Mapping[str, str],
) -> int:
    """Replace ``run_ids`` in the mirror (inside the caller's transaction); return points added.

    ``histories`` may give a pair's points in parts as they arrive (repeats are ignored)."""
    wanted = set(run_ids)
    marks = ",".join("?" * len(run_ids))
    for table in ("params", "tags", "latest_metrics"):
        conn.execute(f"DELETE FROM {table} WHERE run_uuid IN ({marks})", run_ids)
    _delete_inputs(conn, run_ids, marks)
    runs = tables.runs[tables.runs["run_id"].isin(wanted)]
    conn.executemany(
        "INSERT OR REPLACE INTO runs (run_uuid, name, source_type, source_name, "
        "entry_point_name, user_id, status, start_time, end_time, deleted_time, source_version, "
        "lifecycle_stage, artifact_uri, experiment_id) "
        "VALUES (?, ?, 'UNKNOWN', '', '', ?, ?, ?, ?, ?, '', ?, ?, ?)",
        [
            (
                row.run_id,
                row.run_name,
                row.user_id,
                row.status,
                _int(row.start_time),
                _int(row.end_time),
                _deleted_time(row.lifecycle_stage, row.end_time),
                row.lifecycle_stage,
                row.artifact_uri,
                int(row.experiment_id),
            )
            for row in runs.itertuples(index=False)
        ],
    )
    for table, frame in (("params", tables.params), ("tags", tables.tags)):
        rows = frame[frame["run_id"].isin(wanted)]
        conn.executemany(
            f"INSERT OR REPLACE INTO {table} (key, value, run_uuid) VALUES (?, ?, ?)",
            [(key, value, run_id) for run_id, key, value in rows.itertuples(index=False)],
        )
    latest = source_latest(tables, run_ids)
    conn.executemany(
        "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (key, value, stamp, step, is_nan, run_id)
            for (run_id, key), (step, stamp, value, is_nan) in latest.items()
        ],
    )
    added = 0
    for (run_id, key), history in histories:
        added += _insert_points(conn, run_id, key, history)
    experiment_of = dict(zip(runs["run_id"], runs["experiment_id"], strict=True))
    for run_id in run_ids:
        if run_id in inputs:
            _insert_inputs(conn, run_id, int(experiment_of[run_id]), inputs[run_id])
    synced = now_ms()
    conn.executemany(
        f"INSERT OR REPLACE INTO {RUNS_STATE_TABLE} (run_uuid, fingerprint, synced_at, gone_at) "
        "VALUES (?, ?, ?, NULL)",
        [(run_id, fingerprints[run_id], synced) for run_id in run_ids],
    )
    return added


def _insert_points(conn: sqlite3.Connection, run_id: str, key: str, history: np.ndarray) -> int:
    if len(history) == 0:
        return 0
    values = history["value"].astype(np.float64)
    is_nan = np.isnan(values)
    stored = np.where(is_nan, 0.0, values)
    stored = np.where(np.isposinf(stored), DBL_MAX, stored)
    stored = np.where(np.isneginf(stored), -DBL_MAX, stored)
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        zip(
            [key] * len(history),
            stored.tolist(),
            history["timestamp"].tolist(),
            [run_id] * len(history),
            history["step"].tolist(),
            is_nan.astype(int).tolist(),
            strict=True,
        ),
    )
    return conn.total_changes - before


def _delete_inputs(conn: sqlite3.Connection, run_ids: list[str], marks: str) -> None:
    conn.execute(
        "DELETE FROM input_tags WHERE input_uuid IN (SELECT input_uuid FROM inputs WHERE "
        f"destination_type = 'RUN' AND destination_id IN ({marks}))",
        run_ids,
    )
    conn.execute(
        f"DELETE FROM inputs WHERE destination_type = 'RUN' AND destination_id IN ({marks})",
        run_ids,
    )
    conn.execute(
        "DELETE FROM inputs WHERE source_type IN ('RUN_INPUT', 'RUN_OUTPUT') "
        f"AND source_id IN ({marks})",
        run_ids,
    )


def _insert_inputs(
    conn: sqlite3.Connection, run_id: str, experiment_id: int, found: RunInputs
) -> None:
    for dataset in found.datasets:
        row = conn.execute(
            "SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?",
            (experiment_id, dataset.name, dataset.digest),
        ).fetchone()
        if row is None:
            dataset_uuid = _uuid("dataset", experiment_id, dataset.name, dataset.digest)
            conn.execute(
                "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, "
                "dataset_source_type, dataset_source, dataset_schema, dataset_profile) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    dataset_uuid,
                    experiment_id,
                    dataset.name,
                    dataset.digest,
                    dataset.source_type or "",
                    dataset.source or "",
                    dataset.schema,
                    dataset.profile,
                ),
            )
        else:
            dataset_uuid = row[0]
        input_uuid = _uuid("input", run_id, dataset_uuid)
        conn.execute(
            "INSERT OR IGNORE INTO inputs (input_uuid, source_type, source_id, destination_type, "
            "destination_id, step) VALUES (?, 'DATASET', ?, 'RUN', ?, 0)",
            (input_uuid, dataset_uuid, run_id),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO input_tags (input_uuid, name, value) VALUES (?, ?, ?)",
            [(input_uuid, name, value) for name, value in dataset.tags.items()],
        )
    for model_id in found.model_inputs:
        conn.execute(
            "INSERT OR IGNORE INTO inputs (input_uuid, source_type, source_id, destination_type, "
            "destination_id, step) VALUES (?, 'RUN_INPUT', ?, 'MODEL_INPUT', ?, 0)",
            (_uuid("model-input", run_id, model_id), run_id, model_id),
        )
    for output in found.outputs:
        conn.execute(
            "INSERT OR IGNORE INTO inputs (input_uuid, source_type, source_id, destination_type, "
            "destination_id, step) VALUES (?, 'RUN_OUTPUT', ?, 'MODEL_OUTPUT', ?, ?)",
            (
                _uuid("model-output", run_id, output.model_id, output.step),
                run_id,
                output.model_id,
                output.step,
            ),
        )


def mark_gone(conn: sqlite3.Connection, run_ids: Iterable[str]) -> int:
    """Mark runs the source no longer has as deleted (never drop them); return how many."""
    gone = [run_id for run_id in run_ids]
    if not gone:
        return 0
    stamp = now_ms()
    conn.executemany(
        "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = COALESCE(deleted_time, ?) "
        "WHERE run_uuid = ?",
        [(stamp, run_id) for run_id in gone],
    )
    conn.executemany(
        f"UPDATE {RUNS_STATE_TABLE} SET gone_at = COALESCE(gone_at, ?) WHERE run_uuid = ?",
        [(stamp, run_id) for run_id in gone],
    )
    return len(gone)


def _uuid(*parts: object) -> str:
    return uuid.uuid5(NAMESPACE, "\x1f".join(str(part) for part in parts)).hex


def _int(value: object) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)  # type: ignore[arg-type]


def _deleted_time(stage: str, end_time: object) -> int | None:
    return (_int(end_time) or now_ms()) if stage == "deleted" else None
