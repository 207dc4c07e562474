"""Arrow-native loading of the big run tables from a SQLite file (the runs() fast path).

Python's sqlite3 module builds one Python object per cell: on 10,000 runs with 20 params and
10 metrics that is ~1.5 million objects and most of a second. The ADBC SQLite driver hands
back Arrow columns instead, and run ids and keys become dictionary codes without a Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from flowdeck.core.run_tables import RunTables
from flowdeck.store.progress import Progress
from flowdeck.store.sql.cells import NoteProblem, note_damaged_cells
from flowdeck.store.sql.engine import sqlite_read_uri

# Below this share of all runs, joining on the runs table is cheaper than scanning everything.
FULL_SCAN_SHARE = 0.5
NULL_SUFFIX = "__is_null"
# Per row: how many numeric cells hold text (a damaged store); they are read as NULL.
DAMAGED = "damaged_cells"
_IS_NUMBER = "typeof({0}) IN ('integer', 'real')"

# ADBC infers a column's Arrow type from its first rows, so a column that starts with NULLs
# and holds text later fails. Every column is therefore read with a fixed type and no NULLs,
# plus a flag column where NULL can occur.
_SQL_TYPES = {"text": ("TEXT", "''"), "int": ("INTEGER", "0"), "real": ("REAL", "0.0")}


def available() -> bool:
    """Whether the ADBC SQLite driver is installed."""
    try:
        import adbc_driver_sqlite.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


def _select(columns: Sequence[tuple[str, str, str, bool]], checked: Sequence[str] = ()) -> str:
    """SELECT list for (expression, alias, kind, nullable) with fixed types and NULL flags.

    The ``checked`` numeric columns read text cells as NULL (never as CAST's made-up 0) and
    count them in a ``damaged_cells`` column.
    """
    parts = []
    for expression, alias, kind, nullable in columns:
        sql_type, default = _SQL_TYPES[kind]
        if alias in checked and kind != "text":
            expression = f"CASE WHEN {_IS_NUMBER.format(expression)} THEN {expression} END"
        parts.append(f"CAST(COALESCE({expression}, {default}) AS {sql_type}) AS {alias}")
        if nullable:
            parts.append(f"({expression} IS NULL) AS {alias}{NULL_SUFFIX}")
    if checked:
        by_alias = {alias: expression for expression, alias, _kind, _nullable in columns}
        damaged = " + ".join(
            f"(typeof({by_alias[alias]}) IN ('text', 'blob'))" for alias in checked
        )
        parts.append(f"({damaged}) AS {DAMAGED}")
    return ", ".join(parts)


RUN_SELECT = _select(
    [
        ("r.run_uuid", "run_id", "text", False),
        ("r.experiment_id", "experiment_id", "int", False),
        ("r.name", "run_name", "text", True),
        ("r.status", "status", "text", True),
        ("r.user_id", "user_id", "text", True),
        ("r.artifact_uri", "artifact_uri", "text", True),
        ("r.start_time", "start_time", "int", True),
        ("r.end_time", "end_time", "int", True),
        ("r.lifecycle_stage", "lifecycle_stage", "text", True),
    ],
    checked=("start_time", "end_time"),
)
METRIC_SELECT = _select(
    [
        ("t.run_uuid", "run_id", "text", False),
        ("t.key", "key", "text", False),
        ("t.value", "value", "real", False),
        ("t.step", "step", "int", True),
        ("t.timestamp", "timestamp", "int", True),
        # A value that is text is read as NaN (flagged like a logged NaN).
        (
            f"CASE WHEN {_IS_NUMBER.format('t.value')} THEN t.is_nan ELSE 1 END",
            "is_nan",
            "int",
            False,
        ),
    ],
    checked=("value", "step", "timestamp"),
)
KEY_VALUE_SELECT = _select(
    [
        ("t.run_uuid", "run_id", "text", False),
        ("t.key", "key", "text", False),
        ("t.value", "value", "text", True),
    ]
)


def load_run_tables_arrow(
    path: Path,
    experiment_ids: Sequence[int],
    stages: Sequence[str],
    progress: Progress | None = None,
    note_problem: NoteProblem | None = None,
) -> RunTables:
    """Runs, latest metrics, params and tags of the runs in scope, read-only (``mode=ro``).

    ``progress`` advances (and checks for cancellation) after each of the four tables.
    Numeric cells holding text are missing values; ``note_problem`` hears how many.
    """
    progress = progress or Progress(None, 4, "")
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow.compute as pc

    ids = ",".join(str(int(e)) for e in experiment_ids) or "NULL"
    in_stages = ",".join(f"'{stage}'" for stage in stages if stage in ("active", "deleted"))
    scope = f"r.experiment_id IN ({ids}) AND r.lifecycle_stage IN ({in_stages})"
    connection = adbc.connect(sqlite_read_uri(path))
    try:

        def query(sql: str) -> pd.DataFrame | object:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetch_arrow_table()

        runs = query(f"SELECT {RUN_SELECT} FROM runs r WHERE {scope}")
        progress.advance()
        total_runs = query("SELECT count(*) AS n FROM runs")["n"][0].as_py()
        full_scan = runs.num_rows >= FULL_SCAN_SHARE * total_runs

        def per_run(table: str, select: str):  # -> pyarrow.Table or None when empty
            if runs.num_rows == 0:
                return None
            if full_scan:
                rows = query(f"SELECT {select} FROM {table} t")
                if rows.num_rows:
                    rows = rows.filter(pc.is_in(rows["run_id"], value_set=runs["run_id"]))
            else:
                rows = query(
                    f"SELECT {select} FROM {table} t "
                    f"JOIN runs r ON r.run_uuid = t.run_uuid WHERE {scope}"
                )
            return rows if rows.num_rows else None

        metrics = per_run("latest_metrics", METRIC_SELECT)
        progress.advance()
        runs = _drop_damaged(runs, "runs", note_problem)
        metrics = _drop_damaged(metrics, "latest_metrics", note_problem)
        params = per_run("params", KEY_VALUE_SELECT)
        progress.advance()
        tags = per_run("tags", KEY_VALUE_SELECT)
        progress.advance()
    finally:
        connection.close()
    return RunTables(
        runs=_runs_frame(runs),
        metrics=_metrics_frame(metrics),
        params=_coded_frame(params, ["run_id", "key", "value"]),
        tags=_coded_frame(tags, ["run_id", "key", "value"]),
    )


def _drop_damaged(table, name: str, note_problem: NoteProblem | None):  # pyarrow.Table | None
    """The table without its ``damaged_cells`` column, whose total goes to ``note_problem``."""
    if table is None:
        return None
    import pyarrow.compute as pc

    damaged = pc.sum(table[DAMAGED]).as_py() if table.num_rows else 0
    note_damaged_cells(note_problem, name, int(damaged or 0))
    return table.drop_columns([DAMAGED])


def _restore_nulls(frame: pd.DataFrame, as_object: Sequence[str] = ()) -> pd.DataFrame:
    """Put None (or <NA>) back where the ``<name>__is_null`` flag columns say so."""
    for flag in [c for c in frame.columns if c.endswith(NULL_SUFFIX)]:
        name = flag[: -len(NULL_SUFFIX)]
        missing = frame.pop(flag).to_numpy(dtype=bool)
        if frame[name].dtype.kind in "iu":
            column = pd.array(frame[name].to_numpy(), dtype="Int64")
            column[missing] = pd.NA
            frame[name] = column
        elif name in as_object:
            values = frame[name].to_numpy(dtype=object)
            values[missing] = None
            frame[name] = values
    for name in as_object:
        if frame[name].dtype != object:
            frame[name] = frame[name].to_numpy(dtype=object)
    return frame


def _coded_frame(table, columns: list[str]) -> pd.DataFrame:  # table: pyarrow.Table | None
    """A pandas frame whose run_id and key columns are categorical (dictionary-encoded)."""
    if table is None:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    import pyarrow.compute as pc

    for name in ("run_id", "key"):
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pc.dictionary_encode(table[name]))
    as_object = ["value"] if "is_nan" not in table.column_names else []
    return _restore_nulls(table.to_pandas(), as_object)


def _metrics_frame(table) -> pd.DataFrame:  # table: pyarrow.Table | None
    """Latest metrics with NaN restored from ``is_nan`` (±inf stays ±max-float, as in MLflow)."""
    columns = ["run_id", "key", "value", "step", "timestamp"]
    if table is None:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    frame = _coded_frame(table, columns)
    values = frame["value"].to_numpy(dtype=np.float64, copy=True)
    values[frame.pop("is_nan").to_numpy(dtype=bool)] = np.nan
    frame["value"] = values
    for name in ("step", "timestamp"):
        frame[name] = frame[name].astype("Int64")
    return frame[columns]


def _runs_frame(table) -> pd.DataFrame:  # table: pyarrow.Table
    """The runs table with the column types every backend uses (see core.run_tables)."""
    text = ["run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage"]
    frame = _restore_nulls(table.to_pandas(), text)
    frame["experiment_id"] = frame["experiment_id"].astype(str).to_numpy(dtype=object)
    for name in ("start_time", "end_time"):
        frame[name] = frame[name].astype("Int64")
    return frame
