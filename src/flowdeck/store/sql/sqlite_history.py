"""Arrow-native reading of metric histories from a SQLite file (the metric_history() fast path).

Python's sqlite3 module builds a tuple and three Python numbers per point: a million-point
history costs ~0.7 s of CPU, all of it holding the GIL. The ADBC SQLite driver hands back
Arrow columns in under half of that and leaves the GIL to the GUI thread while it reads.
It is strict about types, which suits a fast path: a point that is not what MLflow writes
(text or a fraction where a number or an integer belongs, a missing step or timestamp) makes
the read raise ``DamagedHistory``, and the row-by-row reader then reads and reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from flowdeck.store.progress import Progress
from flowdeck.store.sql.engine import sqlite_read_uri
from flowdeck.store.sql.history import (
    ROWS_PER_CHECK,
    batch_query,
    row_dtype,
    split_into,
    value_expression,
)
from flowdeck.store.sql.schema import chunks


class DamagedHistory(Exception):
    """A cell the Arrow path does not read (the row path reads and reports it)."""


PAIRS_PER_QUERY = 300  # three bound values each: under SQLite's old limit of 999


def _quote(name: str) -> str:
    return f'"{name}"'


def read_history_arrow(
    path: Path,
    runs: Sequence[str],
    keys: Sequence[str],
    result: dict[tuple[str, str], np.ndarray],
    progress: Progress,
    runs_per_query: int,
    keys_per_query: int,
) -> None:
    """Fill ``result`` (every pair already mapped to an empty history) from the file.

    One query per batch of runs and keys (at most PAIRS_PER_QUERY pairs), read as Arrow
    record batches; ``progress`` is checked every ROWS_PER_CHECK rows and advanced per batch
    of runs. Raises ``DamagedHistory`` (or the driver's error) when the row reader must take
    over.
    """
    import adbc_driver_sqlite.dbapi as adbc

    value_sql, _with_flag = value_expression("sqlite", _quote)
    connection = adbc.connect(sqlite_read_uri(path))
    try:
        keys_per_query = min(keys_per_query, len(keys))
        runs_per_query = max(1, min(runs_per_query, PAIRS_PER_QUERY // keys_per_query))
        for run_batch in chunks(runs, runs_per_query):
            for key_batch in chunks(keys, keys_per_query):
                with_pair = len(run_batch) * len(key_batch) > 1
                if with_pair:
                    sql, params = _pairs_query(run_batch, key_batch, value_sql)
                else:
                    sql, params = batch_query(run_batch, key_batch, _quote, "?", value_sql, False)
                rows = _fetch(connection, sql, params, row_dtype(with_pair, False), progress)
                split_into(result, rows, run_batch, key_batch, inf_is_nan=True)
                progress.check()
            progress.advance(len(run_batch))
    finally:
        connection.close()


def _pairs_query(
    run_batch: Sequence[str], key_batch: Sequence[str], value_sql: str
) -> tuple[str, list[object]]:
    """A SELECT whose first column is ``run_index * len(keys) + key_index``, as the row
    reader's, but looked up once per pair rather than computed by a CASE on every row: the
    pairs are a VALUES table that SQLite walks first (CROSS JOIN keeps that order), reading
    each pair's points through the (run_uuid, key, step) index, already in step order."""
    params: list[object] = []
    for run_index, run_id in enumerate(run_batch):
        for key_index, key in enumerate(key_batch):
            params += [run_id, key, run_index * len(key_batch) + key_index]
    rows = ", ".join(["(?, ?, ?)"] * (len(params) // 3))
    sql = (
        f"WITH wanted(run_uuid, metric, pair) AS (VALUES {rows}) "
        f'SELECT w.pair, m."step", m."timestamp", {value_sql} FROM wanted w '
        'CROSS JOIN metrics m ON m."run_uuid" = w.run_uuid AND m."key" = w.metric'
    )
    return sql, params


def _fetch(connection, sql: str, params: list[object], dtype: np.dtype, progress: Progress):
    """The query's rows as one structured array of ``dtype`` (its fields in select order)."""
    import pyarrow as pa

    with connection.cursor() as cursor:
        cursor.execute(sql, parameters=params)
        reader = cursor.fetch_record_batch()
        batches, unchecked = [], 0
        for batch in reader:
            batches.append(batch)
            unchecked += batch.num_rows
            if unchecked >= ROWS_PER_CHECK:
                progress.check()
                unchecked = 0
        schema = reader.schema
    rows = np.empty(sum(batch.num_rows for batch in batches), dtype=dtype)
    if not len(rows):
        return rows
    table = pa.Table.from_batches(batches, schema=schema)
    if table.num_columns != len(dtype.names):
        raise DamagedHistory(f"{table.num_columns} columns where {len(dtype.names)} belong")
    for name, column in zip(dtype.names, table.columns, strict=True):
        kind = column.type
        wanted = pa.types.is_int64(kind) or (name == "value" and pa.types.is_floating(kind))
        if not wanted or column.null_count:
            raise DamagedHistory(f"{name} read as {kind} with {column.null_count} missing")
        rows[name] = column.to_numpy()
    return rows
