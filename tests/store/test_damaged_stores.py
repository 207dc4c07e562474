"""Damaged SQLite and folder stores give typed errors or missing values, never wrong numbers."""

from __future__ import annotations

import logging
import math
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.store.damaged_store_data import (
    LOSS,
    TIES,
    OtherProcessLock,
    Written,
    assert_plain,
    folder_snapshot,
    same_number,
    write_store,
)

from flowdeck.core.errors import CorruptStore, PermissionDenied, StoreTimeout
from flowdeck.store import open_store
from flowdeck.store.sql import engine as sql_engine
from flowdeck.store.sql import sqlite_arrow


@pytest.fixture(scope="module")
def sqlite_written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    path = tmp_path_factory.mktemp("damaged-sqlite") / "mlflow.db"
    return write_store(f"sqlite:///{path}", path)


@pytest.fixture(scope="module")
def files_written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    path = tmp_path_factory.mktemp("damaged-files") / "mlruns"
    return write_store(path.as_uri(), path)


@pytest.fixture
def sqlite_copy(sqlite_written: Written, tmp_path: Path) -> Written:
    """A private copy a test may damage (alone in its folder, so listings are exact)."""
    folder = tmp_path / "store"
    folder.mkdir()
    shutil.copyfile(sqlite_written.location, folder / "mlflow.db")
    return Written(folder / "mlflow.db", sqlite_written.experiment_id, sqlite_written.run_id)


@pytest.fixture
def files_copy(files_written: Written, tmp_path: Path) -> Written:
    target = tmp_path / "mlruns"
    shutil.copytree(files_written.location, target)
    return Written(target, files_written.experiment_id, files_written.run_id)


def run_folder(written: Written) -> Path:
    return written.location / written.experiment_id / written.run_id


def execute(path: Path, *statements: str) -> None:
    """Damage a database the way another program would: plain SQL on its own connection."""
    connection = sqlite3.connect(path)
    try:
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


def every_read(written: Written) -> dict[str, Callable[[object], object]]:
    """The app-facing reads of the run, by name."""
    run_id, experiment_id = written.run_id, written.experiment_id
    return {
        "experiments": lambda store: store.experiments(),
        "runs": lambda store: store.runs([experiment_id]),
        "run": lambda store: store.run(run_id),
        "metric_history": lambda store: store.metric_history([run_id], ["loss"]),
        "metric_summaries": lambda store: store.metric_summaries([run_id]),
    }


@pytest.fixture(params=[True, False], ids=["arrow", "rows"])
def arrow(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """runs() on SQLite through the ADBC fast path, or through the row-by-row path."""
    if not request.param:
        monkeypatch.setattr(sqlite_arrow, "available", lambda: False)
    elif not sqlite_arrow.available():
        pytest.skip("the ADBC SQLite driver is not installed")
    return request.param


# --- class 6: the latest of a NaN and a number logged at the same step and time -----------


@pytest.mark.parametrize("backend", ["sqlite", "files"])
def test_latest_of_nan_and_number_follows_mlflow(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    written: Written = request.getfixturevalue(f"{backend}_written")
    theirs = MlflowClient(tracking_uri=written.uri).get_run(written.run_id).data.metrics
    store = open_store(str(written.location))
    try:
        detail = store.run(written.run_id).metrics
        runs = store.runs([written.experiment_id])
        summaries = store.metric_summaries([written.run_id]).set_index("key")
        for key in TIES:
            assert same_number(detail[key].value, theirs[key]), (key, theirs[key])
            assert same_number(runs[f"metrics.{key}"].iloc[0], theirs[key]), key
            assert same_number(summaries.loc[key, "last"], theirs[key]), key
            assert summaries.loc[key, "count"] == 1  # min/max/count ignore the NaN
    finally:
        store.close()


# --- class 2: driver errors become typed errors ------------------------------------------------


def test_a_write_lock_held_by_another_program_is_a_timeout(
    sqlite_copy: Written, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(str(sqlite_copy.location))
    store.experiments()  # connected, schema read
    monkeypatch.setattr(sql_engine, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.05)
    lock = OtherProcessLock(sqlite_copy.location)
    try:
        for name, read in every_read(sqlite_copy).items():
            with pytest.raises(StoreTimeout) as caught:
                read(store)
            assert type(caught.value) is StoreTimeout, name
            assert "locked by another program" in str(caught.value)
            assert_plain(caught.value)
    finally:
        lock.stop()
        store.close()


class _ReleaseOnFallback(logging.Handler):
    """Releases the lock when the Arrow path reports that it fell back."""

    def __init__(self, lock: OtherProcessLock) -> None:
        super().__init__(logging.DEBUG)
        self.writer_lock = lock

    def emit(self, record: logging.LogRecord) -> None:
        if "Arrow read" in record.getMessage():
            self.writer_lock.release()


def test_the_arrow_path_falls_back_on_a_lock_with_a_debug_line(
    sqlite_copy: Written,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    if not sqlite_arrow.available():
        pytest.skip("the ADBC SQLite driver is not installed")
    store = open_store(str(sqlite_copy.location))
    expected = store.runs([sqlite_copy.experiment_id])
    lock = OtherProcessLock(sqlite_copy.location)
    handler = _ReleaseOnFallback(lock)
    logger = logging.getLogger("flowdeck.store.sql.run_tables")
    logger.addHandler(handler)
    caplog.set_level(logging.DEBUG, logger="flowdeck.store.sql.run_tables")
    try:
        runs = store.runs([sqlite_copy.experiment_id])  # the row path waits for the release
    finally:
        logger.removeHandler(handler)
        lock.stop()
        store.close()
    assert not lock.held  # the Arrow path did meet the lock
    assert runs.equals(expected)
    records = [r for r in caplog.records if "Arrow read" in r.getMessage()]
    assert len(records) == 1 and records[0].levelno == logging.DEBUG
    assert not records[0].exc_info and "locked" in records[0].getMessage()
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("damage", ["garbage pages", "truncated"])
def test_a_file_damaged_after_opening_is_corrupt(
    sqlite_copy: Written, damage: str, capfd: pytest.CaptureFixture[str]
) -> None:
    path = sqlite_copy.location
    store = open_store(str(path))
    assert len(store.metric_history([sqlite_copy.run_id], ["loss"])[(sqlite_copy.run_id, "loss")])
    data = path.read_bytes()
    if damage == "garbage pages":
        path.write_bytes(data[:100] + bytes(range(256)) * ((len(data) - 100) // 256))
    else:
        path.write_bytes(data[: len(data) // 3])
    try:
        for name, read in every_read(sqlite_copy).items():
            with pytest.raises(CorruptStore) as caught:
                read(store)
            assert type(caught.value) is CorruptStore, name
            assert_plain(caught.value)
    finally:
        store.close()
    assert "Traceback" not in capfd.readouterr().err


def test_a_renamed_metric_column_is_corrupt(sqlite_copy: Written) -> None:
    execute(sqlite_copy.location, "ALTER TABLE metrics RENAME COLUMN step TO step_was")
    store = open_store(str(sqlite_copy.location))
    try:
        for read in (
            lambda: store.metric_history([sqlite_copy.run_id], ["loss"]),
            lambda: store.metric_summaries([sqlite_copy.run_id]),
        ):
            with pytest.raises(CorruptStore, match="no such column") as caught:
                read()
            assert_plain(caught.value)
    finally:
        store.close()


def test_a_runs_table_without_status_is_corrupt(sqlite_copy: Written, arrow: bool) -> None:
    execute(sqlite_copy.location, "ALTER TABLE runs RENAME COLUMN status TO status_was")
    store = open_store(str(sqlite_copy.location))
    try:
        with pytest.raises(CorruptStore, match="status") as caught:
            store.run(sqlite_copy.run_id)
        assert_plain(caught.value)
        with pytest.raises(CorruptStore, match="status") as caught:
            store.runs([sqlite_copy.experiment_id])
        assert_plain(caught.value)
    finally:
        store.close()


# --- class 2: text in numeric cells is missing, never a made-up number -------------------------


def test_text_in_numeric_sqlite_cells_is_missing_and_noted(
    sqlite_copy: Written, arrow: bool
) -> None:
    run_id = sqlite_copy.run_id
    execute(
        sqlite_copy.location,
        f"UPDATE metrics SET value = 'oops' WHERE key = 'loss' AND step = 2 AND run_uuid = '{run_id}'",
        f"UPDATE latest_metrics SET value = 'oops' WHERE key = 'loss' AND run_uuid = '{run_id}'",
        f"UPDATE runs SET start_time = 'yesterday' WHERE run_uuid = '{run_id}'",
    )
    store = open_store(str(sqlite_copy.location))
    try:
        runs = store.runs([sqlite_copy.experiment_id])
        assert math.isnan(runs["metrics.loss"].iloc[0])  # not CAST's 0.0
        assert runs["start_time"].isna().iloc[0]
        assert runs["metrics.number_first"].iloc[0] == 0.5  # undamaged cells are intact
        assert any("latest_metrics table" in problem for problem in store.problems)
        assert any("runs table" in problem for problem in store.problems)

        history = store.metric_history([run_id], ["loss"])[(run_id, "loss")]
        assert list(history["step"]) == [0, 1, 2, 3]
        values = history["value"]
        assert values[0] == LOSS[0] and values[1] == LOSS[1] and values[3] == LOSS[3]
        assert math.isnan(values[2])

        detail = store.run(run_id)
        assert math.isnan(detail.metrics["loss"].value)
        assert detail.info.start_time is None
        assert detail.metrics["nan_first"].step == 3

        summary = store.metric_summaries([run_id]).set_index("key").loc["loss"]
        assert math.isnan(summary["last"])
        assert summary["min"] == min(LOSS[0], LOSS[1], LOSS[3])
        assert summary["max"] == max(LOSS)
        assert summary["count"] == 3
        assert any("'loss'" in problem for problem in store.problems)
    finally:
        store.close()


def test_text_in_a_sqlite_step_leaves_the_point_out(sqlite_copy: Written) -> None:
    run_id = sqlite_copy.run_id
    execute(
        sqlite_copy.location,
        f"UPDATE metrics SET step = 'later' WHERE key = 'loss' AND step = 3 AND run_uuid = '{run_id}'",
    )
    store = open_store(str(sqlite_copy.location))
    try:
        history = store.metric_history([run_id], ["loss"])[(run_id, "loss")]
        assert list(history["step"]) == [0, 1, 2]
        assert list(history["value"]) == list(LOSS[:3])
        summary = store.metric_summaries([run_id]).set_index("key").loc["loss"]
        assert summary["min"] == min(LOSS) and summary["min_step"] is not None
        assert any("'loss'" in problem for problem in store.problems)
    finally:
        store.close()


def test_text_in_folder_store_numbers_is_missing_and_noted(files_copy: Written) -> None:
    folder = run_folder(files_copy)
    metric = folder / "metrics" / "loss"
    lines = metric.read_text().splitlines()
    lines[2] = lines[2].replace(lines[2].split(" ")[1], "oops")
    metric.write_text("\n".join(lines) + "\n")
    meta = folder / "meta.yaml"
    meta.write_text(
        "\n".join(
            "start_time: yesterday" if line.startswith("start_time:") else line
            for line in meta.read_text().splitlines()
        )
        + "\n"
    )
    store = open_store(str(files_copy.location))
    try:
        runs = store.runs([files_copy.experiment_id])
        assert runs["start_time"].isna().iloc[0]
        assert runs["metrics.loss"].iloc[0] == LOSS[3]
        history = store.metric_history([files_copy.run_id], ["loss"])[(files_copy.run_id, "loss")]
        assert list(history["step"]) == [0, 1, 3]  # the damaged line is left out
        assert list(history["value"]) == [LOSS[0], LOSS[1], LOSS[3]]
        assert any("'loss'" in problem for problem in store.problems)
    finally:
        store.close()


def test_a_folder_store_damaged_after_opening_is_corrupt(files_copy: Written) -> None:
    store = open_store(str(files_copy.location))
    try:
        assert store.run(files_copy.run_id).params == {"lr": "0.1"}
        (run_folder(files_copy) / "meta.yaml").write_bytes(b"run_id: [\x00\xff unclosed\n")
        with pytest.raises(CorruptStore) as caught:
            store.run(files_copy.run_id)
        assert_plain(caught.value)
        assert store.runs([files_copy.experiment_id]).empty
        assert any("meta.yaml is damaged" in problem for problem in store.problems)
    finally:
        store.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_metric_file_is_permission_denied(files_copy: Written) -> None:
    metric = run_folder(files_copy) / "metrics" / "loss"
    metric.chmod(0)
    store = open_store(str(files_copy.location))
    try:
        with pytest.raises(PermissionDenied) as caught:
            store.metric_history([files_copy.run_id], ["loss"])
        assert_plain(caught.value)
    finally:
        metric.chmod(0o644)
        store.close()


# --- class 7: leave no trace ------------------------------------------------------------------


def read_all(store, written: Written) -> None:
    for read in every_read(written).values():
        read(store)
    store.metric_history([written.run_id], list(TIES))
    store.logged_models([written.experiment_id])


def test_reading_a_wal_store_leaves_no_files_and_no_changes(
    sqlite_copy: Written, arrow: bool
) -> None:
    path = sqlite_copy.location
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA journal_mode=wal").fetchone()[0] == "wal"
    connection.close()  # the last connection checkpoints and removes -wal and -shm
    before = folder_snapshot(path.parent)
    assert sorted(before) == ["mlflow.db"]
    store = open_store(str(path))
    try:
        read_all(store, sqlite_copy)
        assert store.runs([sqlite_copy.experiment_id])["metrics.loss"].iloc[0] == LOSS[3]
    finally:
        store.close()
    assert folder_snapshot(path.parent) == before


def test_a_wal_store_with_a_live_writer_is_read_through_its_log(sqlite_copy: Written) -> None:
    path = sqlite_copy.location
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=wal")
        writer.execute(
            "UPDATE params SET value = '0.2' WHERE key = 'lr' "
            f"AND run_uuid = '{sqlite_copy.run_id}'"
        )  # committed into the -wal file, which the open writer keeps
        names_before = sorted(os.listdir(path.parent))
        db_before = path.read_bytes()
        store = open_store(str(path))
        try:
            assert store.run(sqlite_copy.run_id).params == {"lr": "0.2"}
            read_all(store, sqlite_copy)
        finally:
            store.close()
        assert sorted(os.listdir(path.parent)) == names_before
        assert path.read_bytes() == db_before
    finally:
        writer.close()


def test_a_read_during_which_a_quiet_wal_file_changed_is_repeated(sqlite_copy: Written) -> None:
    path = sqlite_copy.location
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=wal")
    connection.close()
    store = open_store(str(path))
    calls: list[int] = []

    def reader(engine, value):
        calls.append(value)
        if len(calls) == 1:  # as if a writer checkpointed into the file meanwhile
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        return value

    try:
        assert store._read(reader, 7) == 7
        assert calls == [7, 7]
    finally:
        store.close()


@pytest.mark.timeout(120)
def test_fifos_in_a_folder_store_are_skipped_not_waited_for(files_copy: Written) -> None:
    root, folder = files_copy.location, run_folder(files_copy)
    os.mkfifo(root / "fifo-at-root")
    os.mkfifo(root / files_copy.experiment_id / "fifo-in-experiment")
    for sub in ("params", "metrics", "tags"):
        os.mkfifo(folder / sub / "fifo")
    broken = root / files_copy.experiment_id / ("f" * 32)
    broken.mkdir()
    os.mkfifo(broken / "meta.yaml")
    before = folder_snapshot(root)
    store = open_store(str(root))
    try:
        read_all(store, files_copy)
        runs = store.runs([files_copy.experiment_id])
        assert list(runs["run_id"]) == [files_copy.run_id]
        assert "params.fifo" not in runs.columns and "metrics.fifo" not in runs.columns
        history = store.metric_history([files_copy.run_id], ["fifo", "loss"])
        assert len(history[(files_copy.run_id, "fifo")]) == 0
        assert list(history[(files_copy.run_id, "loss")]["value"]) == list(LOSS)
        assert store.run(files_copy.run_id).params == {"lr": "0.1"}
        problems = " ".join(store.problems)
        assert "params/fifo is not a regular file" in problems
        assert "metrics/fifo is not a regular file" in problems
    finally:
        store.close()
    assert folder_snapshot(root) == before
