"""The Arrow fast path for SQLite reads exactly what the row-by-row path reads, NULLs included."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from sql_store_data import WrittenStore

from flowdeck.core.runs_frame import build_runs_frame
from flowdeck.store import open_store
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
