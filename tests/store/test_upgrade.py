"""Make a store of an older MLflow writable: backup, MLflow's migrations, verification, restore."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from tests.helpers.old_sqlite import REVISION_222, RUN, write_mlflow_222_store
from writer_stores import copy_template, files_template, sqlite_template

from flowdeck.core.errors import Cancelled, ReadOnlyStore
from flowdeck.core.task_state import TaskState
from flowdeck.store import open_store, schema_guard
from flowdeck.store.upgrade import (
    UpgradeFailed,
    plan_sqlite_upgrade,
    plan_upgrade,
    reopen,
    row_counts,
    upgrade_store,
    why_not_upgrade,
)

# Header fields SQLite's backup API rewrites (change counter, schema cookie, version-valid-for).
HEADER_COUNTERS = set(range(24, 28)) | set(range(40, 44)) | set(range(92, 96))


def _revision(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_same_database(original: bytes, path: Path) -> None:
    """The same pages byte for byte; only SQLite's header counters may differ."""
    restored = path.read_bytes()
    assert len(restored) == len(original)
    differing = {i for i, (a, b) in enumerate(zip(original, restored, strict=True)) if a != b}
    assert differing <= HEADER_COUNTERS


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    return write_mlflow_222_store(tmp_path / "mlflow.db")


def test_plan_explains_every_step(old_store: Path) -> None:
    plan = plan_upgrade(open_store(old_store), now=datetime(2025, 1, 31, 14, 25, 1))
    head = schema_guard.installed_head()
    assert plan.allowed
    assert (plan.database, plan.from_revision, plan.to_revision) == (old_store, REVISION_222, head)
    assert plan.backup == old_store.with_name("mlflow.backup-20250131-142501.db")
    text = plan.explanation()
    assert "older MLflow (2.22)" in text and str(plan.backup) in text
    assert f"{REVISION_222} → {head}" in text and "put back" in text
    plan.backup.write_bytes(b"someone's file")  # a taken name is never reused
    assert plan_sqlite_upgrade(old_store, datetime(2025, 1, 31, 14, 25, 1)).backup == (
        old_store.with_name("mlflow.backup-20250131-142501-2.db")
    )


def test_upgrade_makes_an_older_store_writable(old_store: Path) -> None:
    from mlflow.tracking import MlflowClient

    store = open_store(old_store)
    reason = store.read_only_reason
    assert (
        reason is not None and "older MLflow (2.22)" in reason and "Make Store Writable" in reason
    )
    before = row_counts(old_store)
    plan = plan_upgrade(store)
    reports: list[tuple[int, int, str]] = []
    result = upgrade_store(plan, TaskState(lambda *report: reports.append(report)))

    head = schema_guard.installed_head()
    assert (result.from_revision, result.to_revision) == (REVISION_222, head)
    assert _revision(old_store) == head
    assert {table: result.row_counts[table] for table in before} == before
    assert reports[-1][:2] == (4, 4)
    assert result.backup == plan.backup and _revision(result.backup) == REVISION_222
    assert row_counts(result.backup) == before  # the backup is the old database, whole

    assert reopen(store) is None  # the open store sees the new schema and is writable now
    assert store.read_only_reason is None
    assert set(store.runs(["1"])["run_id"]) == {RUN, "b" * 32}
    writer = store.writer()
    writer.set_run_tag(RUN, "reviewed", "yes")
    writer.set_alias("legacy-model", "staging", 1)
    store.close()

    uri = f"sqlite:///{old_store}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.get_run(RUN)
    assert run.data.tags["reviewed"] == "yes" and run.data.params == {"alpha": "0.5"}
    assert str(client.get_model_version_by_alias("legacy-model", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("legacy-model", "staging").version) == "1"


def test_failed_migration_puts_the_backup_back(old_store: Path) -> None:
    with sqlite3.connect(old_store) as connection:  # MLflow 3.6's migration creates "jobs"
        connection.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY)")
    connection.close()
    original = old_store.read_bytes()
    plan = plan_sqlite_upgrade(old_store)
    with pytest.raises(UpgradeFailed, match="table jobs already exists.*put back"):
        upgrade_store(plan)
    _assert_same_database(original, old_store)
    assert _revision(old_store) == REVISION_222
    assert plan.backup is not None and not plan.backup.exists()  # nothing left to clean up
    assert open_store(old_store).read_only_reason is not None


def test_failed_verification_puts_the_backup_back(old_store: Path) -> None:
    with sqlite3.connect(old_store) as connection:  # every migration step adds a row here
        connection.executescript(
            "CREATE TABLE notes (t TEXT);"
            "CREATE TRIGGER add_note AFTER UPDATE ON alembic_version "
            "BEGIN INSERT INTO notes VALUES ('migrated'); END;"
        )
    connection.close()
    original = old_store.read_bytes()
    with pytest.raises(UpgradeFailed, match=r"lost or gained rows: notes \(0 → \d+\).*put back"):
        upgrade_store(plan_sqlite_upgrade(old_store))
    _assert_same_database(original, old_store)
    assert row_counts(old_store)["notes"] == 0


def test_failed_backup_changes_nothing(old_store: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    digest = _digest(old_store)
    plan = replace(plan_sqlite_upgrade(old_store), backup=tmp_path / "missing" / "backup.db")
    with pytest.raises(UpgradeFailed, match="Nothing was changed"):
        upgrade_store(plan)
    assert _digest(old_store) == digest


def test_cancel_before_the_migrations_changes_nothing(old_store: Path) -> None:
    digest = _digest(old_store)
    plan = plan_sqlite_upgrade(old_store)
    state = TaskState()
    state.cancel()
    with pytest.raises(Cancelled):
        upgrade_store(plan, state)
    assert _digest(old_store) == digest
    assert plan.backup is not None and not plan.backup.exists()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = copy_template(sqlite_template(), tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f4a9b2c7d1e6'")
    connection.close()
    digest = _digest(path)
    plan = plan_upgrade(open_store(path))
    assert not plan.allowed and plan.backup is None
    assert plan.refusal is not None
    assert "newer MLflow (3.18)" in plan.refusal and "needs a newer Flowdeck" in plan.refusal
    assert plan.explanation() == plan.refusal
    with pytest.raises(ReadOnlyStore, match="never downgrades"):
        upgrade_store(plan)
    assert _digest(path) == digest


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("postgresql://postgres@127.0.0.1:9/mlflow", "PostgreSQL"),
        ("mysql+pymysql://root@127.0.0.1:9/mlflow", "MySQL"),
    ],
)
def test_server_databases_are_refused_without_connecting(url: str, backend: str) -> None:
    plan = plan_upgrade(open_store(url))  # nothing listens on port 9: no connection is made
    assert not plan.allowed and plan.refusal is not None
    assert f"on a {backend} server" in plan.refusal
    assert "Open the tracking server's URL instead" in plan.refusal


def test_other_stores_are_not_upgraded(tmp_path: Path) -> None:
    at_head = plan_upgrade(open_store(copy_template(sqlite_template(), tmp_path)))
    assert at_head.refusal == "This store is already writable."
    files = plan_upgrade(open_store(copy_template(files_template(), tmp_path)))
    assert files.refusal == "This store is already writable."
    rest = plan_upgrade(open_store("http://127.0.0.1:9"))
    assert rest.refusal is not None and "tracking server" in rest.refusal
    plain = tmp_path / "plain.db"
    with sqlite3.connect(plain) as connection:
        connection.execute("CREATE TABLE experiments (experiment_id INTEGER)")
    connection.close()
    refusal = plan_sqlite_upgrade(plain).refusal
    assert refusal is not None and "0 revisions" in refusal


def test_why_not_upgrade_needs_no_io(old_store: Path) -> None:
    older = open_store(old_store)
    assert why_not_upgrade(older, older.read_only_reason) is None
    assert why_not_upgrade(older, None) == "This store is already writable."
    newer = "Written by a newer MLflow (3.18, revision f4a9b2c7d1e6); Flowdeck can read it but not edit it."
    assert (
        why_not_upgrade(older, newer)
        == f"{newer} Editing it needs a newer Flowdeck with a newer MLflow."
    )
    plain = "Not an MLflow-managed schema; Flowdeck can read it but not edit it."
    assert why_not_upgrade(older, plain) == f"Flowdeck cannot upgrade it: {plain}"
    server = why_not_upgrade(open_store("postgresql://postgres@127.0.0.1:9/mlflow"), "any")
    assert server is not None and "running MLflow tracking server" in server
    rest = why_not_upgrade(open_store("http://127.0.0.1:9"), None)
    assert rest is not None and "edits already go through the server" in rest
