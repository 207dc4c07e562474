"""SqlStore never changes a SQLite file, is not blocked by writers, and reports bad stores clearly."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import time
from pathlib import Path

import pytest
from sql_store_data import WrittenStore, file_hash
from tests.helpers.realworld import HOUSING_DB as REALWORLD_DB

from flowdeck.core.errors import (
    AuthenticationFailed,
    CorruptStore,
    StoreNotFound,
    StoreUnreachable,
)
from flowdeck.store.locations import sqlite_path
from flowdeck.store.sql import SqlStore


def read_everything(store: SqlStore) -> int:
    """Call every read method over the whole store; returns the number of metric points."""
    experiments = store.experiments("all")
    ids = list(experiments["experiment_id"])
    runs = store.runs(ids, view="all")
    run_ids = list(runs["run_id"])
    keys = [column[len("metrics.") :] for column in runs.columns if column.startswith("metrics.")]
    points = sum(len(history) for history in store.metric_history(run_ids, keys).values())
    store.metric_summaries(run_ids)
    for run_id in run_ids:
        store.run(run_id)
    store.logged_models(ids)
    store.capabilities  # noqa: B018 - reads the schema and the revision
    return points


def test_reading_leaves_the_file_byte_identical(sqlite_store: WrittenStore) -> None:
    path = sqlite_path(sqlite_store.uri)
    before = file_hash(path)
    store = SqlStore(sqlite_store.uri)
    assert read_everything(store) > 0
    store.close()
    assert file_hash(path) == before
    assert not path.with_name(path.name + "-journal").exists()


def test_reads_are_not_blocked_by_a_writer_holding_a_lock(
    sqlite_store: WrittenStore, tmp_path: Path
) -> None:
    copy = tmp_path / "locked.db"
    shutil.copyfile(sqlite_path(sqlite_store.uri), copy)
    writer = sqlite3.connect(copy, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE experiments SET name = 'renamed' WHERE name = 'alpha'")
        store = SqlStore(f"sqlite:///{copy}")
        started = time.monotonic()
        names = list(store.experiments()["name"])
        histories = store.metric_history([sqlite_store.run_id], ["loss"])
        assert time.monotonic() - started < 3
        assert "alpha" in names  # the writer's change is not committed yet
        assert len(histories[(sqlite_store.run_id, "loss")]) == 6
        store.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_text_file_named_db_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 20)
    with pytest.raises(CorruptStore, match="is not an MLflow database"):
        SqlStore(f"sqlite:///{path}").experiments()


def test_a_damaged_sqlite_file_is_corrupt(sqlite_store: WrittenStore, tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    original = sqlite_path(sqlite_store.uri).read_bytes()
    path.write_bytes(original[:100] + bytes(range(256)) * 64)  # valid header, garbage pages
    with pytest.raises(CorruptStore, match="is not an MLflow database"):
        SqlStore(f"sqlite:///{path}").experiments()


def test_registry_and_trace_reads_of_a_file_damaged_after_opening_are_corrupt(
    sqlite_store: WrittenStore, tmp_path: Path
) -> None:
    path = tmp_path / "later-damaged.db"
    shutil.copyfile(sqlite_path(sqlite_store.uri), path)
    store = SqlStore(f"sqlite:///{path}")
    experiment_ids = list(store.experiments("all")["experiment_id"])
    assert store.registered_models().items == []
    assert store.search_traces(experiment_ids).items == []
    path.write_bytes(b"overwritten by another program " * (path.stat().st_size // 31))
    try:
        with pytest.raises(CorruptStore, match="is not an MLflow database"):
            store.registered_models()
        with pytest.raises(CorruptStore, match="is not an MLflow database"):
            store.model_versions("anything")
        with pytest.raises(CorruptStore, match="is not an MLflow database"):
            store.search_traces(experiment_ids)
        with pytest.raises(CorruptStore, match="is not an MLflow database"):
            store.trace("tr-anything")
    finally:
        store.close()


def test_a_missing_file_is_not_found_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(StoreNotFound):
        SqlStore(f"sqlite:///{path}").experiments()
    assert not path.exists()


def test_a_sqlite_file_without_mlflow_tables_is_not_found(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE songs (title TEXT)")
    connection.commit()
    connection.close()
    with pytest.raises(StoreNotFound, match="not an MLflow tracking database"):
        SqlStore(f"sqlite:///{path}").experiments()
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(StoreNotFound, match="no MLflow tables"):
        SqlStore(f"sqlite:///{empty}").experiments()
    assert empty.stat().st_size == 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("scheme", ["postgresql", "mysql+pymysql"])
def test_a_port_with_nothing_listening_is_unreachable(scheme: str) -> None:
    store = SqlStore(f"{scheme}://user@127.0.0.1:{_closed_port()}/mlflow")
    with pytest.raises(StoreUnreachable, match="cannot be reached"):
        store.experiments()


@pytest.mark.mysql
def test_a_wrong_mariadb_password_is_an_authentication_failure() -> None:
    from tests.helpers.databases import mysql_unreachable_reason

    reason = mysql_unreachable_reason()
    if reason:
        pytest.skip(reason)
    store = SqlStore("mysql+pymysql://root:certainly-wrong@127.0.0.1:3306/mysql")
    with pytest.raises(AuthenticationFailed, match="refused the user name or password"):
        store.experiments()


@pytest.mark.postgres
def test_an_unknown_postgres_database_is_not_found() -> None:
    from tests.helpers.databases import postgres_unreachable_reason

    reason = postgres_unreachable_reason()
    if reason:
        pytest.skip(reason)
    store = SqlStore("postgresql://postgres@127.0.0.1:5432/flowdeck_no_such_database")
    with pytest.raises(StoreNotFound, match="no database named"):
        store.experiments()
    plain = SqlStore("postgresql://postgres@127.0.0.1:5432/postgres")
    with pytest.raises(StoreNotFound, match="MLflow"):
        plain.experiments()


@pytest.mark.skipif(
    not REALWORLD_DB.is_file(), reason="realworld stores are not beside the project"
)
def test_realworld_housing_store_reads_in_place_without_change() -> None:
    before = file_hash(REALWORLD_DB)
    store = SqlStore(f"sqlite:///{REALWORLD_DB}")
    assert store.schema.revision == "bf29a5ff90ea"
    assert len(store.runs(list(store.experiments("all")["experiment_id"]), view="all")) == 16
    assert read_everything(store) > 0
    assert store.read_only_reason  # an MLflow 3.6 schema is never edited by a 3.17 client
    store.close()
    assert file_hash(REALWORLD_DB) == before
