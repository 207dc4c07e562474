"""The Arrow fast paths for SQLite read exactly what the row-by-row paths read, NULLs included."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sql_store_data import WrittenStore

from flowdeck.core.runs_frame import build_runs_frame
from flowdeck.store import open_store
from flowdeck.store.sql import sqlite_arrow
from flowdeck.store.sql.history import read_metric_history
from flowdeck.store.sql.run_tables import load_run_tables


def _both_paths(
    db: Path, experiment_ids: list[str], view: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    store = open_store(str(db))
    try:
        arrow = build_runs_frame(load_run_tables(store.engine, experiment_ids, view, db))
        rows = build_runs_frame(load_run_tables(store.engine, experiment_ids, view))
    finally:
        store.close()
    return arrow, rows


@pytest.fixture
def store_copy(sqlite_store: WrittenStore, tmp_path: Path) -> Path:
    source = Path(sqlite_store.uri.removeprefix("sqlite:///"))
    copy = tmp_path / "copy.db"
    shutil.copyfile(source, copy)
    return copy


@pytest.mark.parametrize("view", ["active", "deleted", "all"])
def test_arrow_and_row_paths_agree(sqlite_store: WrittenStore, store_copy: Path, view: str) -> None:
    ids = [sqlite_store.experiment_id, sqlite_store.deleted_experiment_id]
    arrow, rows = _both_paths(store_copy, ids, view)
    assert len(arrow) > 0 or view == "deleted"
    pd.testing.assert_frame_equal(arrow, rows)


def test_nulls_after_many_filled_rows_read_as_missing(
    sqlite_store: WrittenStore, store_copy: Path
) -> None:
    """Old stores have NULL names, users and tag values; a type guess from early rows must not break."""
    connection = sqlite3.connect(store_copy)
    with connection:
        connection.execute(
            "UPDATE runs SET user_id = NULL, end_time = NULL WHERE run_uuid = ?",
            (sqlite_store.run_id,),
        )
        (tag_key,) = connection.execute(
            "SELECT key FROM tags WHERE run_uuid = ? AND key NOT LIKE 'mlflow.%' LIMIT 1",
            (sqlite_store.run_id,),
        ).fetchone()
        connection.execute(
            "UPDATE tags SET value = NULL WHERE run_uuid = ? AND key = ?",
            (sqlite_store.run_id, tag_key),
        )
    connection.close()
    arrow, rows = _both_paths(store_copy, [sqlite_store.experiment_id], "all")
    pd.testing.assert_frame_equal(arrow, rows)
    run = arrow.set_index("run_id").loc[sqlite_store.run_id]
    assert pd.isna(run["end_time"])
    assert pd.isna(run[f"tags.{tag_key}"])


def test_experiment_without_runs_gives_the_empty_frame(store_copy: Path) -> None:
    connection = sqlite3.connect(store_copy)
    with connection:
        connection.execute(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) "
            "VALUES (9999, 'empty', '/nowhere', 'active')"
        )
    connection.close()
    arrow, rows = _both_paths(store_copy, ["9999"], "active")
    assert arrow.empty
    pd.testing.assert_frame_equal(arrow, rows)


# --- metric histories ------------------------------------------------------------------------


def _histories_both_ways(db: Path, run_ids: list[str], keys: list[str]):
    store = open_store(str(db))
    try:
        arrow = read_metric_history(store.engine, run_ids, keys, sqlite_file=db)
        rows = read_metric_history(store.engine, run_ids, keys)
    finally:
        store.close()
    return arrow, rows


def _assert_same_histories(arrow: dict, rows: dict) -> None:
    assert arrow.keys() == rows.keys()
    for pair, history in rows.items():
        assert arrow[pair].dtype == history.dtype
        for name in ("step", "timestamp"):
            np.testing.assert_array_equal(arrow[pair][name], history[name])
        np.testing.assert_array_equal(arrow[pair]["value"], history["value"])  # NaN == NaN


@pytest.mark.parametrize("keys", [["loss"], ["loss", "acc", "only_nan", "missing"]])
def test_arrow_and_row_paths_read_the_same_histories(
    sqlite_store: WrittenStore, store_copy: Path, keys: list[str]
) -> None:
    if not sqlite_arrow.available():
        pytest.skip("the ADBC SQLite driver is not installed")
    run_ids = [sqlite_store.run_id, sqlite_store.other_run_id, "0" * 32]
    arrow, rows = _histories_both_ways(store_copy, run_ids, keys)
    _assert_same_histories(arrow, rows)
    assert len(arrow[(sqlite_store.run_id, "loss")]) == 6  # NaN, ±inf and repeated steps too


def _long_history(db: Path, run_id: str, points: int) -> None:
    """A ``long`` metric of ``points`` steps, logged newest first (so it must be sorted)."""
    connection = sqlite3.connect(db)
    with connection:
        connection.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
            "VALUES ('long', ?, ?, ?, ?, 0)",
            [(step / 7, 1_700_000_000_000 - step, run_id, step) for step in range(points)][::-1],
        )
    connection.close()


def test_a_long_history_reads_sorted_by_step_then_time(
    sqlite_store: WrittenStore, store_copy: Path
) -> None:
    if not sqlite_arrow.available():
        pytest.skip("the ADBC SQLite driver is not installed")
    _long_history(store_copy, sqlite_store.run_id, 5000)
    keys = ["long", "loss"]
    arrow, rows = _histories_both_ways(store_copy, [sqlite_store.run_id], keys)
    _assert_same_histories(arrow, rows)
    long = arrow[(sqlite_store.run_id, "long")]
    assert list(long["step"]) == list(range(5000))


@pytest.mark.parametrize(
    ("damage", "steps"),
    [
        ("step = 'later'", 4999),  # a text step: the point is left out
        ("value = 'oops'", 5000),  # a text value: the point stays, its value unknown
        ("step = 4998.5", 5000),  # a fraction where an integer belongs
    ],
)
def test_a_cell_damaged_after_many_good_rows_is_read_by_the_row_path(
    sqlite_store: WrittenStore, store_copy: Path, damage: str, steps: int
) -> None:
    """ADBC guesses a column's type from its first rows: a later text cell must not break."""
    if not sqlite_arrow.available():
        pytest.skip("the ADBC SQLite driver is not installed")
    from flowdeck.core.task_state import TaskState
    from flowdeck.store.progress import Progress
    from flowdeck.store.sql.sqlite_history import read_history_arrow

    run_id = sqlite_store.run_id
    _long_history(store_copy, run_id, 5000)
    connection = sqlite3.connect(store_copy)
    with connection:
        connection.execute(
            f"UPDATE metrics SET {damage} WHERE key = 'long' AND step = 4999 AND run_uuid = ?",
            (run_id,),
        )
    connection.close()
    result = {(run_id, "long"): np.empty(0)}
    with pytest.raises(Exception):  # noqa: B017, PT011 - the driver's error or DamagedHistory
        read_history_arrow(
            store_copy, [run_id], ["long"], result, Progress(TaskState(), 1, ""), 100, 100
        )
    store = open_store(str(store_copy))
    try:
        history = store.metric_history([run_id], ["long"])[(run_id, "long")]
    finally:
        store.close()
    assert len(history) == steps
