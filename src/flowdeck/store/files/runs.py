"""Read run folders of an mlruns/ store into records and assemble them into RunTables."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from flowdeck.core.run_tables import (
    DATASET_COLUMNS,
    KEY_VALUE_COLUMNS,
    LATEST_METRIC_COLUMNS,
    RUN_COLUMNS,
    RunTables,
)
from flowdeck.store.files.fsread import read_bytes, read_key_folder
from flowdeck.store.files.meta import MetaError, parse_meta
from flowdeck.store.files.metrics import latest_points, parse_metric_files

RUN_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
# Folders inside an experiment folder that are not runs.
RESERVED_EXPERIMENT_FOLDERS = frozenset({"tags", "datasets", "traces", "models"})


@dataclass
class RawRun:
    """What a worker thread read from one run folder (bytes not yet parsed in bulk)."""

    folder: str
    experiment_id: str
    info: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metric_files: dict[str, bytes] = field(default_factory=dict)
    input_metas: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None
    notes: list[str] = field(default_factory=list)  # what was skipped in a readable run


@dataclass
class RunRecord:
    """One run, fully parsed; ``info`` is None for a broken run (then ``problems`` says why)."""

    folder: str
    info: dict[str, Any] | None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, tuple[float, int, int]] = field(default_factory=dict)  # value, step, ts
    datasets: list[tuple[str, str, str | None]] = field(default_factory=list)  # name, digest, ctx
    problems: list[str] = field(default_factory=list)


def short_id(run_id: str) -> str:
    return run_id[:8] + "…" if len(run_id) > 9 else run_id


def read_raw_run(folder: str, experiment_id: str) -> RawRun:
    """Read one run folder's files (runs on a worker thread; never raises for bad content)."""
    raw = RawRun(folder=folder, experiment_id=experiment_id)
    name = os.path.basename(folder)
    where = f"Run {short_id(name)} in experiment {experiment_id}"
    try:
        raw.info = parse_meta(read_bytes(os.path.join(folder, "meta.yaml")))
    except FileNotFoundError:
        raw.problem = f"{where}: meta.yaml is missing; skipped."
        return raw
    except MetaError as error:
        raw.problem = f"{where}: meta.yaml is damaged ({error}); skipped."
        return raw
    except OSError as error:
        raw.problem = f"{where}: meta.yaml cannot be read ({error.strerror}); skipped."
        return raw
    try:
        skipped: dict[str, list[str]] = {"params": [], "tags": [], "metrics": []}
        raw.params = _decoded(
            read_key_folder(os.path.join(folder, "params"), "", skipped["params"])
        )
        raw.tags = _decoded(read_key_folder(os.path.join(folder, "tags"), "", skipped["tags"]))
        raw.metric_files = read_key_folder(os.path.join(folder, "metrics"), "", skipped["metrics"])
        for kind, keys in skipped.items():
            raw.notes.extend(
                f"{where}: {kind}/{key} is not a regular file (a pipe or device); not read."
                for key in keys
            )
        inputs = os.path.join(folder, "inputs")
        if os.path.isdir(inputs):
            for entry in os.scandir(inputs):
                try:
                    raw.input_metas.append(
                        parse_meta(read_bytes(os.path.join(entry.path, "meta.yaml")))
                    )
                except (OSError, MetaError):
                    continue
    except OSError as error:
        raw.problem = f"{where}: files cannot be read ({error.strerror}); skipped."
        raw.info = None
    return raw


def _decoded(files: dict[str, bytes]) -> dict[str, str]:
    return {key: value.decode("utf-8", errors="replace") for key, value in files.items()}


def finish_records(
    raws: Sequence[RawRun], dataset_lookup: dict[tuple[str, str], tuple[str, str]]
) -> list[RunRecord]:
    """Validate run metas and parse all metric files of ``raws`` in one bulk pass.

    ``dataset_lookup`` maps (experiment_id, dataset_id) to (name, digest).
    """
    records: list[RunRecord] = []
    contents: list[bytes] = []
    owners: list[tuple[RunRecord, str]] = []
    for raw in raws:
        record = RunRecord(folder=raw.folder, info=None, problems=list(raw.notes))
        records.append(record)
        if raw.info is None:
            record.problems.append(raw.problem or f"Run folder {raw.folder} cannot be read.")
            continue
        info, problem = normalise_run_info(raw.info, raw.folder, raw.experiment_id)
        if problem:
            record.problems.append(problem)
            continue
        record.info = info
        record.params = raw.params
        record.tags = raw.tags
        if not info["run_name"]:
            info["run_name"] = raw.tags.get("mlflow.runName", "")
        for meta in raw.input_metas:
            if meta.get("source_type") != "DATASET":
                continue
            found = dataset_lookup.get((raw.experiment_id, str(meta.get("source_id"))))
            if found:
                tags = meta.get("tags") or {}
                context = tags.get("mlflow.data.context") if isinstance(tags, dict) else None
                record.datasets.append((found[0], found[1], context))
        for key, content in raw.metric_files.items():
            contents.append(content)
            owners.append((record, key))
    parsed = parse_metric_files(contents)
    latest = latest_points(parsed, len(contents))
    for file_index, (record, key) in enumerate(owners):
        point = latest[file_index]
        bad = parsed.bad_lines.get(file_index, 0)
        where = (
            f"Run {short_id(record.info['run_id'])} in experiment {record.info['experiment_id']}"
        )
        if bad:
            record.problems.append(
                f"{where}: metric '{key}' has {bad} unreadable line{'s' if bad > 1 else ''}; "
                "ignored."
            )
        if point < 0:
            if not bad:
                record.problems.append(f"{where}: metric '{key}' has no values; left out.")
            continue
        record.metrics[key] = (
            float(parsed.value[point]),
            int(parsed.step[point]),
            int(parsed.timestamp[point]),
        )
    return records


def normalise_run_info(
    meta: dict[str, Any], folder: str, experiment_id: str
) -> tuple[dict[str, Any], str | None]:
    """Run meta as RUN_COLUMNS values (old layouts accepted), or a problem text."""
    name = os.path.basename(folder)
    where = f"Run {short_id(name)} in experiment {experiment_id}"
    run_id = meta.get("run_id") or meta.get("run_uuid")
    if not run_id:
        return {}, f"{where}: meta.yaml has no run id (truncated?); skipped."
    run_id = str(run_id)
    if run_id != name:
        return {}, f"{where}: meta.yaml names another run ({short_id(run_id)}); skipped."
    recorded_experiment = meta.get("experiment_id")
    if recorded_experiment is None or str(recorded_experiment) != experiment_id:
        return {}, (
            f"{where}: meta.yaml records experiment {recorded_experiment}; skipped "
            "(MLflow ignores it too)."
        )
    status = meta.get("status", 1)
    status_text = RUN_STATUS.get(status) if isinstance(status, int) else str(status).upper()
    if status_text is None:
        return {}, f"{where}: meta.yaml has an unknown status {status!r}; skipped."
    run_name = meta.get("run_name")
    return (
        {
            "run_id": run_id,
            "experiment_id": experiment_id,
            "run_name": "" if run_name is None else str(run_name),
            "status": status_text,
            "user_id": None if meta.get("user_id") is None else str(meta.get("user_id")),
            "artifact_uri": meta.get("artifact_uri"),
            "start_time": _int_or_none(meta.get("start_time")),
            "end_time": _int_or_none(meta.get("end_time")),
            "lifecycle_stage": meta.get("lifecycle_stage") or "active",
        },
        None,
    )


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def build_run_tables(records: Sequence[RunRecord], view: str) -> RunTables:
    """Assemble long-form RunTables from parsed records, keeping the lifecycle view."""
    good = [r for r in records if r.info is not None]
    if view != "all":
        good = [r for r in good if r.info["lifecycle_stage"] == view]  # type: ignore[index]
    infos = [r.info for r in good]
    runs = pd.DataFrame({c: [i[c] for i in infos] for c in RUN_COLUMNS}, columns=RUN_COLUMNS)  # type: ignore[index]
    for column in ("start_time", "end_time"):
        runs[column] = pd.array(runs[column].tolist(), dtype="Int64")
    runs = runs.astype({c: object for c in RUN_COLUMNS if c not in ("start_time", "end_time")})

    ids: list[str] = []
    keys: list[str] = []
    values: list[float] = []
    steps: list[int] = []
    stamps: list[int] = []
    for record in good:
        run_id = record.info["run_id"]  # type: ignore[index]
        for key, (value, step, stamp) in record.metrics.items():
            ids.append(run_id)
            keys.append(key)
            values.append(value)
            steps.append(step)
            stamps.append(stamp)
    metrics = pd.DataFrame(
        {
            "run_id": pd.Series(ids, dtype=object),
            "key": pd.Series(keys, dtype=object),
            "value": np.asarray(values, dtype=np.float64),
            "step": np.asarray(steps, dtype=np.int64),
            "timestamp": np.asarray(stamps, dtype=np.int64),
        },
        columns=LATEST_METRIC_COLUMNS,
    )
    datasets = _frame(
        DATASET_COLUMNS,
        [(r.info["run_id"], n, d, c) for r in good for n, d, c in r.datasets],  # type: ignore[index]
    )
    return RunTables(
        runs=runs,
        metrics=metrics,
        params=_key_values(good, "params"),
        tags=_key_values(good, "tags"),
        datasets=datasets,
    )


def _key_values(records: Sequence[RunRecord], attribute: str) -> pd.DataFrame:
    rows = [
        (r.info["run_id"], k, v)  # type: ignore[index]
        for r in records
        for k, v in getattr(r, attribute).items()
    ]
    return _frame(KEY_VALUE_COLUMNS, rows)


def _frame(columns: list[str], rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    transposed = list(zip(*rows, strict=True))
    return pd.DataFrame(
        {c: pd.Series(list(v), dtype=object) for c, v in zip(columns, transposed, strict=True)}
    )
