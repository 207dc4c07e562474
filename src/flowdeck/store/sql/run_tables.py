"""Set-based loading of the run tables of some experiments from MLflow's SQL schema."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from flowdeck.core.errors import Cancelled
from flowdeck.core.run_tables import (
    DATASET_COLUMNS,
    KEY_VALUE_COLUMNS,
    LATEST_METRIC_COLUMNS,
    RUN_COLUMNS,
    RunTables,
)
from flowdeck.core.task_state import TaskState
from flowdeck.store.progress import Progress
from flowdeck.store.sql import sqlite_arrow
from flowdeck.store.sql.cells import NoteProblem, float_array, note_damaged_cells, nullable_ints

logger = logging.getLogger(__name__)

DATASET_CONTEXT_TAG = "mlflow.data.context"
PROGRESS_TEXT = "Reading runs…"
VIEW_STAGES = {"active": ("active",), "deleted": ("deleted",), "all": ("active", "deleted")}

runs_table = sa.table(
    "runs",
    *(sa.column(name) for name in ("run_uuid", "experiment_id", "name", "status", "user_id")),
    *(sa.column(name) for name in ("artifact_uri", "start_time", "end_time", "lifecycle_stage")),
)
latest_metrics_table = sa.table(
    "latest_metrics",
    *(sa.column(n) for n in ("run_uuid", "key", "value", "step", "timestamp", "is_nan")),
)
params_table = sa.table("params", *(sa.column(n) for n in ("run_uuid", "key", "value")))
tags_table = sa.table("tags", *(sa.column(n) for n in ("run_uuid", "key", "value")))
datasets_table = sa.table("datasets", *(sa.column(n) for n in ("dataset_uuid", "name", "digest")))
inputs_table = sa.table(
    "inputs", *(sa.column(n) for n in ("input_uuid", "source_id", "destination_id"))
)
input_tags_table = sa.table("input_tags", *(sa.column(n) for n in ("input_uuid", "name", "value")))


def _experiment_keys(experiment_ids: Sequence[str]) -> list[int]:
    """Experiment ids as the integers the runs table stores (non-numeric ids match nothing)."""
    return [int(e) for e in experiment_ids if str(e).strip().lstrip("-").isdigit()]


def _run_scope(experiment_ids: Sequence[str], view: str) -> list[sa.ColumnElement[bool]]:
    if view not in VIEW_STAGES:
        raise ValueError(f"view must be one of {sorted(VIEW_STAGES)}, not {view!r}")
    return [
        runs_table.c.experiment_id.in_(_experiment_keys(experiment_ids)),
        runs_table.c.lifecycle_stage.in_(VIEW_STAGES[view]),
    ]


def _fetch_columns(conn: sa.Connection, query: sa.Select) -> list[list[object]]:
    """Run ``query`` and return its result column by column.

    Rows come straight from the DBAPI cursor: SQLAlchemy's Row objects and ``zip(*rows)``
    each cost more than the fetch itself on a 200,000-row params table.
    """
    result = conn.execute(query)
    try:
        rows = result.cursor.fetchall() if result.cursor is not None else []
        width = len(result.keys())
    finally:
        result.close()
    return [[row[i] for row in rows] for i in range(width)]


def _categorical(values: list[object]) -> pd.Categorical:
    """Run ids and keys repeat a lot: store them as codes into their distinct values."""
    codes, uniques = pd.factorize(np.array(values, dtype=object))
    return pd.Categorical.from_codes(codes, categories=uniques)


def _frame(
    columns: list[list[object]], names: list[str], categorical: Sequence[str] = ()
) -> pd.DataFrame:
    """A frame from fetched columns; ``categorical`` columns (run ids, keys) repeat a lot."""
    if not columns or not columns[0]:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in names})
    data: dict[str, object] = {}
    for name, values in zip(names, columns, strict=True):
        data[name] = _categorical(values) if name in categorical else np.array(values, dtype=object)
    return pd.DataFrame(data)


def _load_runs(conn: sa.Connection, scope: list, damaged: list[int]) -> pd.DataFrame:
    r = runs_table.c
    query = sa.select(
        r.run_uuid, r.experiment_id, r.name, r.status, r.user_id,
        r.artifact_uri, r.start_time, r.end_time, r.lifecycle_stage,
    ).where(*scope)  # fmt: skip
    runs = _frame(_fetch_columns(conn, query), RUN_COLUMNS)
    runs["experiment_id"] = [str(e) for e in runs["experiment_id"]]
    for name in ("start_time", "end_time"):
        runs[name], bad = nullable_ints(list(runs[name]))
        damaged[0] += bad
    return runs


def _scoped(table: sa.TableClause, *columns: sa.ColumnElement, scope: list) -> sa.Select:
    """Rows of ``table`` that belong to the runs in scope, one set-based query."""
    join = table.join(runs_table, runs_table.c.run_uuid == table.c.run_uuid)
    return sa.select(*columns).select_from(join).where(*scope)


def _load_latest_metrics(conn: sa.Connection, scope: list, damaged: list[int]) -> pd.DataFrame:
    m = latest_metrics_table.c
    query = _scoped(
        latest_metrics_table, m.run_uuid, m.key, m.value, m.step, m.timestamp, m.is_nan,
        scope=scope,
    )  # fmt: skip
    run_ids, keys, values, steps, timestamps, is_nan = _fetch_columns(conn, query)
    if not run_ids:
        return _frame([], LATEST_METRIC_COLUMNS)
    # NaN is stored as 0 with is_nan set; MLflow's client returns the stored ±max-float for ±inf.
    # A damaged (text) value is NaN, never a made-up number.
    value_array, bad_values = float_array(values)
    value_array[np.array(is_nan, dtype=bool)] = np.nan
    step_array, bad_steps = nullable_ints(steps)
    timestamp_array, bad_timestamps = nullable_ints(timestamps)
    damaged[0] += bad_values + bad_steps + bad_timestamps
    return pd.DataFrame(
        {
            "run_id": _categorical(run_ids),
            "key": _categorical(keys),
            "value": value_array,
            "step": step_array,
            "timestamp": timestamp_array,
        }
    )


def _load_key_values(conn: sa.Connection, table: sa.TableClause, scope: list) -> pd.DataFrame:
    c = table.c
    query = _scoped(table, c.run_uuid, c.key, c.value, scope=scope)
    return _frame(_fetch_columns(conn, query), KEY_VALUE_COLUMNS, ("run_id", "key"))


def _load_datasets(conn: sa.Connection, scope: list) -> pd.DataFrame:
    """One row per dataset input of a run, with its context tag (None when it has none)."""
    inputs, datasets = inputs_table.c, datasets_table.c
    context = input_tags_table.alias("context_tag")
    joined = (
        inputs_table.join(datasets_table, datasets.dataset_uuid == inputs.source_id)
        .join(runs_table, runs_table.c.run_uuid == inputs.destination_id)
        .outerjoin(
            context,
            sa.and_(
                context.c.input_uuid == inputs.input_uuid, context.c.name == DATASET_CONTEXT_TAG
            ),
        )
    )
    columns = (inputs.destination_id, datasets.name, datasets.digest, context.c.value)
    query = sa.select(*columns).select_from(joined).where(*scope)
    return _frame(_fetch_columns(conn, query), DATASET_COLUMNS)


def load_run_tables(
    engine: sa.Engine,
    experiment_ids: Sequence[str],
    view: str,
    sqlite_file: Path | None = None,
    state: TaskState | None = None,
    note_problem: NoteProblem | None = None,
) -> RunTables:
    """The run tables of ``experiment_ids`` in lifecycle ``view`` (active, deleted or all).

    A handful of queries, one per table, each filtered by experiment and lifecycle stage in SQL.
    Given the SQLite file behind ``engine``, the big tables are read as Arrow columns instead.
    ``state`` is checked, and progress reported, after each query. Numeric cells holding text
    (a damaged store) are missing values, and ``note_problem`` hears how many there were.
    """
    scope = _run_scope(experiment_ids, view)
    progress = Progress(state, 5, PROGRESS_TEXT)
    progress.check()
    tables = None
    if sqlite_file is not None and sqlite_arrow.available():
        try:
            tables = sqlite_arrow.load_run_tables_arrow(
                sqlite_file,
                _experiment_keys(experiment_ids),
                VIEW_STAGES[view],
                progress,
                note_problem,
            )
        except Cancelled:
            raise
        except Exception as error:  # noqa: BLE001 - the path below reads every valid store
            # Expected when another program holds a lock or the file is damaged: the row
            # path below waits for the lock, or raises the typed error.
            logger.debug("Arrow read of %s failed (%s); reading row by row", sqlite_file, error)
            progress.done = 0
    with engine.connect() as conn:
        table_names = set(sa.inspect(conn).get_table_names())
        with_datasets = {"inputs", "datasets", "input_tags"} <= table_names
        progress.total = 5 if with_datasets else 4
        if tables is None:
            damaged = [0]
            runs = _load_runs(conn, scope, damaged)
            note_damaged_cells(note_problem, "runs", damaged[0])
            progress.advance()
            damaged = [0]
            metrics = _load_latest_metrics(conn, scope, damaged)
            note_damaged_cells(note_problem, "latest_metrics", damaged[0])
            progress.advance()
            params = _load_key_values(conn, params_table, scope)
            progress.advance()
            tags = _load_key_values(conn, tags_table, scope)
            progress.advance()
            tables = RunTables(runs=runs, metrics=metrics, params=params, tags=tags)
        if with_datasets:
            tables.datasets = _load_datasets(conn, scope)
            progress.advance()
    return tables
