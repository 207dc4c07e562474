"""Full metric histories read with a raw DBAPI cursor straight into numpy arrays."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from sqlalchemy.engine import Engine

from flowdeck.core.errors import Cancelled
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import HISTORY_DTYPE
from flowdeck.store.progress import Progress
from flowdeck.store.sql.cells import NoteProblem, as_float, as_int
from flowdeck.store.sql.schema import chunks

# MLflow stores +-inf as +-DBL_MAX.
STORED_INFINITY = 1.7976931348623157e308
RUNS_PER_QUERY = 100
KEYS_PER_QUERY = 100
ROWS_PER_CHECK = 100_000
PROGRESS_TEXT = "Reading metric histories…"

logger = logging.getLogger(__name__)


def row_dtype(with_pair: bool, with_flag: bool) -> np.dtype:
    """Rows as fetched: the requested pair (if several), the point, its NaN flag (if needed)."""
    fields = [("pair", np.int64)] if with_pair else []
    fields += [("step", np.int64), ("timestamp", np.int64), ("value", np.float64)]
    if with_flag:
        fields.append(("is_nan", np.int8))
    return np.dtype(fields)


def value_expression(dialect_name: str, quote) -> tuple[str, bool]:
    """The value expression, and whether the NaN flag must be fetched as its own column.

    Fewer fetched columns means fewer Python objects per row, which is what a million-point
    read costs. SQLite returns +inf for the NaN rows (MLflow never stores inf: it stores
    DBL_MAX), PostgreSQL returns NaN itself; MySQL has neither, so it fetches the flag.
    """
    value, is_nan = quote("value"), quote("is_nan")
    if dialect_name == "sqlite":
        return f"CASE WHEN {is_nan} THEN 9e999 ELSE {value} END", False
    if dialect_name == "postgresql":
        return f"CASE WHEN {is_nan} THEN CAST('NaN' AS DOUBLE PRECISION) ELSE {value} END", False
    return f"{value}, {is_nan}", True


def read_metric_history(
    engine: Engine,
    run_ids: Iterable[str],
    keys: Iterable[str],
    state: TaskState | None = None,
    note_problem: NoteProblem | None = None,
    sqlite_file: Path | None = None,
) -> dict[tuple[str, str], np.ndarray]:
    """Every requested (run, key) pair mapped to a ``HISTORY_DTYPE`` array (empty if absent).

    ``state`` is checked before each query; progress counts the runs read. Damaged cells
    (text where a number belongs) never become numbers: such a value is NaN, a point without
    a readable step or timestamp is left out, and ``note_problem`` hears about both.
    Given the SQLite file behind ``engine``, the points are read as Arrow columns instead,
    unless a cell is damaged (see ``sqlite_history``).
    """
    runs = list(dict.fromkeys(str(run_id) for run_id in run_ids))
    wanted_keys = list(dict.fromkeys(str(key) for key in keys))

    def empty() -> dict[tuple[str, str], np.ndarray]:
        return {(r, k): np.empty(0, dtype=HISTORY_DTYPE) for r in runs for k in wanted_keys}

    result = empty()
    progress = Progress(state, len(runs), PROGRESS_TEXT)
    progress.check()
    if not result:
        return result
    if sqlite_file is not None and _arrow_read(sqlite_file, runs, wanted_keys, result, progress):
        return result
    result, progress.done = empty(), 0
    dialect = engine.dialect
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    value_sql, with_flag = value_expression(dialect.name, quote)
    inf_is_nan = dialect.name == "sqlite"
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            for run_batch in chunks(runs, RUNS_PER_QUERY):
                for key_batch in chunks(wanted_keys, KEYS_PER_QUERY):
                    with_pair = len(run_batch) * len(key_batch) > 1
                    sql, params = batch_query(
                        run_batch, key_batch, quote, marker, value_sql, with_pair
                    )
                    dtype = row_dtype(with_pair, with_flag)
                    cursor.execute(sql, params)
                    try:
                        rows = _fetch_rows(cursor, dtype, progress)
                    except (ValueError, TypeError, OverflowError):  # a damaged cell
                        cursor.execute(sql, params)
                        rows, damaged = _fetch_checked(cursor, dtype)
                        _note_damaged(note_problem, damaged, run_batch, key_batch)
                    split_into(result, rows, run_batch, key_batch, inf_is_nan)
                    progress.check()
                progress.advance(len(run_batch))
        finally:
            cursor.close()
    finally:
        connection.close()
    return result


def _arrow_read(
    path: Path,
    runs: list[str],
    keys: list[str],
    result: dict[tuple[str, str], np.ndarray],
    progress: Progress,
) -> bool:
    """Whether the Arrow path read every history into ``result`` (else the rows must)."""
    from flowdeck.store.sql import sqlite_arrow, sqlite_history

    if not sqlite_arrow.available():
        return False
    try:
        sqlite_history.read_history_arrow(
            path, runs, keys, result, progress, RUNS_PER_QUERY, KEYS_PER_QUERY
        )
    except Cancelled:
        raise
    except Exception as error:  # noqa: BLE001 - the row path reads every valid store
        # Expected for a damaged cell, a lock held by a writer or a damaged file: the row
        # path reports the cells, waits for the lock, or raises the typed error.
        logger.debug("Arrow read of histories in %s failed (%s); reading rows", path, error)
        return False
    return True


def _fetch_rows(cursor, dtype: np.dtype, progress: Progress) -> np.ndarray:
    """The query's rows as one array; with a task token, fetched in checked slices."""
    if progress.state is None:
        return np.fromiter(cursor, dtype=dtype)
    parts = []
    while True:
        part = np.fromiter(itertools.islice(cursor, ROWS_PER_CHECK), dtype=dtype)
        parts.append(part)
        if len(part) < ROWS_PER_CHECK:
            break
        progress.check()
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _fetch_checked(cursor, dtype: np.dtype) -> tuple[np.ndarray, dict[int, int]]:
    """The rows converted cell by cell, and the number of damaged points per pair code."""
    converters = [as_int if dtype[name].kind == "i" else as_float for name in dtype.names]
    value_at = dtype.names.index("value")
    rows: list[tuple[object, ...]] = []
    damaged: dict[int, int] = {}
    for raw in cursor:
        cells = [convert(cell) for convert, cell in zip(converters, raw, strict=True)]
        if all(cell is not None for cell in cells):
            rows.append(tuple(cells))
            continue
        pair = int(cells[0]) if "pair" in dtype.names and cells[0] is not None else 0
        damaged[pair] = damaged.get(pair, 0) + 1
        missing = [index for index, cell in enumerate(cells) if cell is None]
        if missing == [value_at]:  # only the value is damaged: keep the point, value unknown
            cells[value_at] = np.nan
            rows.append(tuple(cells))
    return np.array(rows, dtype=dtype), damaged


def _note_damaged(
    note_problem: NoteProblem | None,
    damaged: dict[int, int],
    run_batch: Sequence[str],
    key_batch: Sequence[str],
) -> None:
    if note_problem is None:
        return
    for code, count in damaged.items():
        run_id, key = run_batch[code // len(key_batch)], key_batch[code % len(key_batch)]
        points = "point holds" if count == 1 else "points hold"
        note_problem(
            f"history:{run_id}:{key}",
            f"Run {run_id[:8]}…: {count} {points} text where metric '{key}' stores numbers; "
            "their values are shown as missing (points without a step or time are left out).",
        )


def batch_query(
    run_batch: Sequence[str],
    key_batch: Sequence[str],
    quote,
    marker: str,
    value_sql: str,
    with_pair: bool,
) -> tuple[str, list[object]]:
    """One SELECT; with several pairs its first column is ``run_index * len(keys) + key_index``."""
    run_uuid, key = quote("run_uuid"), quote("key")
    selected = f"{quote('step')}, {quote('timestamp')}, {value_sql}"
    params: list[object] = []
    if with_pair:
        run_code, key_code = "0", "0"
        if len(run_batch) > 1:
            run_code = _case_code(run_uuid, len(run_batch), marker)
            params += run_batch
        if len(key_batch) > 1:
            key_code = _case_code(key, len(key_batch), marker)
            params += key_batch
        selected = f"({run_code}) * {len(key_batch)} + {key_code}, {selected}"
    run_in = ", ".join([marker] * len(run_batch))
    key_in = ", ".join([marker] * len(key_batch))
    params += [*run_batch, *key_batch]
    sql = (
        f"SELECT {selected} FROM {quote('metrics')} "
        f"WHERE {run_uuid} IN ({run_in}) AND {key} IN ({key_in})"
    )
    return sql, params


def _case_code(column_sql: str, count: int, marker: str) -> str:
    """``CASE column WHEN ? THEN 0 WHEN ? THEN 1 ... END``: the index of the column's value."""
    branches = " ".join(f"WHEN {marker} THEN {index}" for index in range(count))
    return f"CASE {column_sql} {branches} END"


def split_into(
    result: dict[tuple[str, str], np.ndarray],
    rows: np.ndarray,
    run_batch: Sequence[str],
    key_batch: Sequence[str],
    inf_is_nan: bool,
) -> None:
    if rows.size == 0:
        return
    values = rows["value"]
    if "is_nan" in rows.dtype.names:
        values[rows["is_nan"] != 0] = np.nan
    elif inf_is_nan:
        values[values == np.inf] = np.nan  # SQLite's NaN marker (see _value_sql)
    values[values >= STORED_INFINITY] = np.inf
    values[values <= -STORED_INFINITY] = -np.inf
    if "pair" not in rows.dtype.names:
        result[(run_batch[0], key_batch[0])] = _history(_sorted(rows, ("step", "timestamp")))
        return
    rows = _sorted(rows, ("pair", "step", "timestamp"))
    pairs = rows["pair"]
    boundaries = np.flatnonzero(np.diff(pairs)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(rows)]))
    n_keys = len(key_batch)
    for start, end in zip(starts, ends, strict=True):
        code = int(pairs[start])
        result[(run_batch[code // n_keys], key_batch[code % n_keys])] = _history(rows[start:end])


def _sorted(rows: np.ndarray, fields: tuple[str, ...]) -> np.ndarray:
    """``rows`` ordered by ``fields`` (as given when they are already: SQLite reads the
    (run_uuid, key, step) index in order, and sorting a million rows costs ~70 ms)."""
    if len(rows) < 2:
        return rows
    ahead = np.zeros(len(rows) - 1, dtype=bool)  # row i sorts strictly before row i + 1
    tied = np.ones(len(rows) - 1, dtype=bool)  # rows i and i + 1 equal on the fields so far
    for name in fields:
        column = rows[name]
        ahead |= tied & (column[:-1] < column[1:])
        tied &= column[:-1] == column[1:]
    if (ahead | tied).all():
        return rows
    return rows[np.lexsort(tuple(rows[name] for name in reversed(fields)))]


def _history(rows: np.ndarray) -> np.ndarray:
    history = np.empty(len(rows), dtype=HISTORY_DTYPE)
    for name in HISTORY_DTYPE.names:
        history[name] = rows[name]
    return history
