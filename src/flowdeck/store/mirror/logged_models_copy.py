"""Mirror step "logged models": MLflow 3 logged models with their params, tags and metrics.

Change detection: each logged model has a fingerprint (a digest of the model as the source
lists it, params, tags and metrics included) kept in ``flowdeck_mirror_logged_models``; only
changed models are rewritten, a batch of models per transaction.

Nothing is dropped: a logged model the source no longer lists (deleted there) keeps its rows,
is marked ``lifecycle_stage = 'deleted'`` in the mirror (as MLflow's own deletion does, and as
the runs step marks gone runs) and gets ``gone_at`` in the state table. Not mirrored: logged
models already deleted at the first sync (a ``Store`` lists active ones only), and the
source's dataset ids of metrics (a metric's ``dataset_uuid`` is the mirror's own dataset with
the same experiment, name and digest, when the runs step copied one).
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3

from flowdeck.core.entities import LoggedModel
from flowdeck.core.errors import Unsupported
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import CAP_LOGGED_MODELS, Store
from flowdeck.store.mirror.database import mark_gone, now_ms, transaction
from flowdeck.store.mirror.registry_copy import fingerprint

STATE_TABLE = "flowdeck_mirror_logged_models"
STATE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (model_id TEXT PRIMARY KEY, "
    "experiment_id TEXT NOT NULL, fingerprint TEXT NOT NULL, synced_at INTEGER NOT NULL, "
    "gone_at INTEGER)"
)
BATCH_MODELS = 100
# LoggedModelStatus as MLflow's SQL store numbers it.
STATUS_NUMBERS = {"UNSPECIFIED": 0, "PENDING": 1, "READY": 2, "FAILED": 3}


def copy_logged_models(
    source: Store, conn: sqlite3.Connection, experiment_ids: list[str], state: TaskState | None
) -> int:
    """Copy new and changed logged models of ``experiment_ids``; return how many."""
    if CAP_LOGGED_MODELS not in source.capabilities or not experiment_ids:
        return 0
    try:
        models = source.logged_models(experiment_ids, state=state)
    except Unsupported:
        return 0
    conn.execute(STATE_DDL)
    synced = dict(conn.execute(f"SELECT model_id, fingerprint FROM {STATE_TABLE}").fetchall())
    digests = {model.model_id: fingerprint(dataclasses.asdict(model)) for model in models}
    changed = [model for model in models if synced.get(model.model_id) != digests[model.model_id]]
    for start in range(0, len(changed), BATCH_MODELS):
        if state is not None:
            state.check()
            state.progress(start, len(changed), "Copying logged models…")
        with transaction(conn):
            for model in changed[start : start + BATCH_MODELS]:
                write_logged_model(conn, model, digests[model.model_id])
    mark_gone(
        conn,
        STATE_TABLE,
        "model_id",
        experiment_ids,
        set(digests),
        also="UPDATE logged_models SET lifecycle_stage = 'deleted' WHERE model_id = ?",
    )
    return len(changed)


def write_logged_model(conn: sqlite3.Connection, model: LoggedModel, digest: str) -> None:
    """Replace one logged model's rows (inside the caller's transaction)."""
    model_id = model.model_id
    experiment_id = int(model.experiment_id)
    for table in ("logged_model_params", "logged_model_tags", "logged_model_metrics"):
        conn.execute(f"DELETE FROM {table} WHERE model_id = ?", (model_id,))
    created = model.creation_time or 0
    conn.execute(
        "INSERT OR REPLACE INTO logged_models (model_id, experiment_id, name, artifact_location, "
        "creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage, model_type, "
        "source_run_id, status_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            model_id,
            experiment_id,
            model.name,
            model.artifact_location or "",
            created,
            model.last_updated_time or created,
            STATUS_NUMBERS.get(str(model.status).upper(), 0),
            model.lifecycle_stage or "active",
            model.model_type,
            model.source_run_id,
            model.status_message,
        ),
    )
    conn.executemany(
        "INSERT INTO logged_model_params (model_id, experiment_id, param_key, param_value) "
        "VALUES (?, ?, ?, ?)",
        [(model_id, experiment_id, key, value) for key, value in model.params.items()],
    )
    conn.executemany(
        "INSERT INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) "
        "VALUES (?, ?, ?, ?)",
        [(model_id, experiment_id, key, value) for key, value in model.tags.items()],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO logged_model_metrics (model_id, metric_name, "
        "metric_timestamp_ms, metric_step, metric_value, experiment_id, run_id, dataset_uuid, "
        "dataset_name, dataset_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                model_id,
                metric.key,
                metric.timestamp or 0,
                metric.step,
                None if math.isnan(metric.value) else metric.value,
                experiment_id,
                metric.run_id or model.source_run_id or "",
                _dataset_uuid(conn, experiment_id, metric.dataset_name, metric.dataset_digest),
                metric.dataset_name,
                metric.dataset_digest,
            )
            for metric in model.metrics
        ],
    )
    conn.execute(
        f"INSERT OR REPLACE INTO {STATE_TABLE} (model_id, experiment_id, fingerprint, synced_at, "
        "gone_at) VALUES (?, ?, ?, ?, NULL)",
        (model_id, str(model.experiment_id), digest, now_ms()),
    )


def _dataset_uuid(
    conn: sqlite3.Connection, experiment_id: int, name: str | None, digest: str | None
) -> str | None:
    if not name or not digest:
        return None
    row = conn.execute(
        "SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?",
        (experiment_id, name, digest),
    ).fetchone()
    return row[0] if row else None
