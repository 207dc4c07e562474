"""Mirror step "models": registered models (prompts included), versions, tags and aliases.

Change detection: each registered model has a fingerprint (a digest of the model, its tags and
aliases and every live version with its tags) kept in ``flowdeck_mirror_models``; a sync
rewrites only the models whose fingerprint changed, each model in one transaction.

Nothing is dropped. A version the source no longer lists keeps its rows and gets the version
tag ``flowdeck.mirror.gone_at`` (ms); a registered model the source no longer has keeps its
rows, gets the model tag ``flowdeck.mirror.gone_at`` and its ``gone_at`` in the state table.
Mutable attributes (description, stage, tags, aliases) follow the source.

Not mirrored, because a ``Store`` listing does not show them: soft-deleted versions (MLflow's
SQL store keeps them as ``Deleted_Internal`` rows, hidden from every listing), the
``model_id`` of a version (MLflow 3.17.2's ``model_versions`` table has no such column) and
webhooks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3

from flowdeck.core.entities import ModelVersion, RegisteredModel
from flowdeck.core.errors import Unsupported
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import CAP_REGISTRY, REGISTRY_PAGE_SIZE, Store
from flowdeck.store.mirror.database import now_ms, transaction

STATE_TABLE = "flowdeck_mirror_models"
GONE_TAG = "flowdeck.mirror.gone_at"
WORKSPACE = "default"
STATE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (name TEXT PRIMARY KEY, "
    "fingerprint TEXT NOT NULL, synced_at INTEGER NOT NULL, gone_at INTEGER)"
)


def fingerprint(value: object) -> str:
    """A digest of any JSON-able value (dataclasses included), stable across runs."""
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def model_fingerprint(model: RegisteredModel, versions: list[ModelVersion]) -> str:
    """What a mirror copies of one model: the model and each live version, tags and aliases."""
    ordered = sorted(versions, key=lambda version: int(version.version))
    return fingerprint(
        [dataclasses.asdict(model), [dataclasses.asdict(version) for version in ordered]]
    )


def read_models(source: Store) -> list[RegisteredModel]:
    """Every registered model of the source (prompts included), all pages."""
    models: list[RegisteredModel] = []
    token: str | None = None
    while True:
        page = source.registered_models("", token, REGISTRY_PAGE_SIZE)
        models.extend(page.items)
        token = page.next_token
        if not token or not page.items:
            return models


def copy_registry(
    source: Store, conn: sqlite3.Connection, experiment_ids: list[str], state: TaskState | None
) -> int:
    """Copy the models whose fingerprint changed; mark models gone at the source; return count.

    The registry is not scoped by experiment, so ``experiment_ids`` is not used.
    """
    if CAP_REGISTRY not in source.capabilities:
        return 0
    try:
        models = read_models(source)
        versions = source.all_model_versions(state=state)
    except Unsupported:
        return 0
    conn.execute(STATE_DDL)
    synced = dict(conn.execute(f"SELECT name, fingerprint FROM {STATE_TABLE}").fetchall())
    copied = 0
    for done, model in enumerate(models):
        if state is not None:
            state.check()
            state.progress(done, len(models), f"Copying registered models ({done:,})…")
        found = versions.get(model.name, [])
        digest = model_fingerprint(model, found)
        if synced.get(model.name) == digest:
            continue
        with transaction(conn):
            write_model(conn, model, found, digest)
        copied += 1
    present = {model.name for model in models}
    gone = [
        name
        for (name,) in conn.execute(f"SELECT name FROM {STATE_TABLE} WHERE gone_at IS NULL")
        if name not in present
    ]
    if gone:
        with transaction(conn):
            mark_models_gone(conn, gone)
    return copied


def write_model(
    conn: sqlite3.Connection, model: RegisteredModel, versions: list[ModelVersion], digest: str
) -> None:
    """Upsert one model with its versions, tags and aliases (inside the caller's transaction)."""
    name = model.name
    conn.execute(
        "INSERT INTO registered_models (name, creation_time, last_updated_time, description, "
        "workspace) VALUES (?, ?, ?, ?, ?) ON CONFLICT(workspace, name) DO UPDATE SET "
        "creation_time = excluded.creation_time, last_updated_time = excluded.last_updated_time, "
        "description = excluded.description",
        (name, model.creation_time, model.last_updated_time, model.description, WORKSPACE),
    )
    conn.execute(
        "DELETE FROM registered_model_tags WHERE workspace = ? AND name = ?", (WORKSPACE, name)
    )
    conn.executemany(
        "INSERT INTO registered_model_tags (key, value, name, workspace) VALUES (?, ?, ?, ?)",
        [(key, value, name, WORKSPACE) for key, value in model.tags.items()],
    )
    aliases = dict(model.aliases)
    for version in versions:
        aliases.update({alias: int(version.version) for alias in version.aliases})
    conn.execute(
        "DELETE FROM registered_model_aliases WHERE workspace = ? AND name = ?", (WORKSPACE, name)
    )
    conn.executemany(
        "INSERT INTO registered_model_aliases (alias, version, name, workspace) "
        "VALUES (?, ?, ?, ?)",
        [(alias, number, name, WORKSPACE) for alias, number in aliases.items()],
    )
    for version in versions:
        _write_version(conn, version)
    present = {int(version.version) for version in versions}
    held = [
        number
        for (number,) in conn.execute(
            "SELECT version FROM model_versions WHERE workspace = ? AND name = ?", (WORKSPACE, name)
        )
    ]
    stamp = str(now_ms())
    conn.executemany(
        "INSERT OR IGNORE INTO model_version_tags (key, value, name, version, workspace) "
        "VALUES (?, ?, ?, ?, ?)",
        [(GONE_TAG, stamp, name, number, WORKSPACE) for number in held if number not in present],
    )
    conn.execute(
        f"INSERT OR REPLACE INTO {STATE_TABLE} (name, fingerprint, synced_at, gone_at) "
        "VALUES (?, ?, ?, NULL)",
        (name, digest, now_ms()),
    )


def _write_version(conn: sqlite3.Connection, version: ModelVersion) -> None:
    number = int(version.version)
    conn.execute(
        "INSERT INTO model_versions (name, version, creation_time, last_updated_time, "
        "description, user_id, current_stage, source, run_id, status, status_message, run_link, "
        "storage_location, workspace) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(workspace, name, version) DO UPDATE SET "
        "creation_time = excluded.creation_time, last_updated_time = excluded.last_updated_time, "
        "description = excluded.description, user_id = excluded.user_id, "
        "current_stage = excluded.current_stage, source = excluded.source, "
        "run_id = excluded.run_id, status = excluded.status, "
        "status_message = excluded.status_message, run_link = excluded.run_link, "
        "storage_location = excluded.storage_location",
        (
            version.name,
            number,
            version.creation_time,
            version.last_updated_time,
            version.description,
            version.user_id,
            version.current_stage or "None",
            version.source,
            version.run_id,
            version.status or "READY",
            version.status_message,
            version.run_link,
            version.storage_location,
            WORKSPACE,
        ),
    )
    conn.execute(
        "DELETE FROM model_version_tags WHERE workspace = ? AND name = ? AND version = ?",
        (WORKSPACE, version.name, number),
    )
    conn.executemany(
        "INSERT INTO model_version_tags (key, value, name, version, workspace) "
        "VALUES (?, ?, ?, ?, ?)",
        [(key, value, version.name, number, WORKSPACE) for key, value in version.tags.items()],
    )


def mark_models_gone(conn: sqlite3.Connection, names: list[str]) -> None:
    """Tag models the source no longer has (their rows stay) and record when they went."""
    stamp = now_ms()
    conn.executemany(
        "INSERT OR IGNORE INTO registered_model_tags (key, value, name, workspace) "
        "VALUES (?, ?, ?, ?)",
        [(GONE_TAG, str(stamp), name, WORKSPACE) for name in names],
    )
    conn.executemany(
        f"UPDATE {STATE_TABLE} SET gone_at = ? WHERE name = ?", [(stamp, name) for name in names]
    )
