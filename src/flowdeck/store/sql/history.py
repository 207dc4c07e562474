"""Full metric histories read with a raw DBAPI cursor straight into numpy arrays."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from sqlalchemy.engine import Engine

from flowdeck.store.base import HISTORY_DTYPE
from flowdeck.store.sql.schema import chunks

# MLflow stores +-inf as +-DBL_MAX.
STORED_INFINITY = 1.7976931348623157e308
RUNS_PER_QUERY = 100
KEYS_PER_QUERY = 100

# Rows as fetched: which requested pair the point belongs to, then the point itself.
_ROW_DTYPE = np.dtype(
    [
        ("pair", np.int64),
        ("step", np.int64),
        ("timestamp", np.int64),
        ("value", np.float64),
        ("is_nan", np.int8),
    ]
)


def read_metric_history(
    engine: Engine, run_ids: Iterable[str], keys: Iterable[str]
) -> dict[tuple[str, str], np.ndarray]:
    """Every requested (run, key) pair mapped to a ``HISTORY_DTYPE`` array (empty if absent)."""
    runs = list(dict.fromkeys(str(run_id) for run_id in run_ids))
    wanted_keys = list(dict.fromkeys(str(key) for key in keys))
    result = {
        (run_id, key): np.empty(0, dtype=HISTORY_DTYPE) for run_id in runs for key in wanted_keys
    }
    if not result:
        return result
    dialect = engine.dialect
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            for run_batch in chunks(runs, RUNS_PER_QUERY):
                for key_batch in chunks(wanted_keys, KEYS_PER_QUERY):
                    sql, params = _batch_query(run_batch, key_batch, quote, marker)
                    cursor.execute(sql, params)
                    rows = np.fromiter(cursor, dtype=_ROW_DTYPE)
                    _split_into(result, rows, run_batch, key_batch)
        finally:
            cursor.close()
    finally:
        connection.close()
    return result


def _batch_query(
    run_batch: Sequence[str], key_batch: Sequence[str], quote, marker: str
) -> tuple[str, list[object]]:
    """One SELECT whose first column is ``run_index * len(keys) + key_index``."""
    run_uuid, key = quote("run_uuid"), quote("key")
    params: list[object] = []
    if len(run_batch) == 1:
        run_code = "0"
    else:
        run_code = (
            "CASE "
            + run_uuid
            + " "
            + " ".join(f"WHEN {marker} THEN {index}" for index in range(len(run_batch)))
            + " END"
        )
        params += run_batch
    if len(key_batch) == 1:
        pair = run_code if len(run_batch) > 1 else "0"
    else:
        key_code = (
            "CASE "
            + key
            + " "
            + " ".join(f"WHEN {marker} THEN {index}" for index in range(len(key_batch)))
            + " END"
        )
        params += key_batch
        pair = f"({run_code}) * {len(key_batch)} + {key_code}"
    run_in = ", ".join([marker] * len(run_batch))
    key_in = ", ".join([marker] * len(key_batch))
    params += run_batch
    params += key_batch
    sql = (
        f"SELECT {pair}, {quote('step')}, {quote('timestamp')}, {quote('value')}, "
        f"{quote('is_nan')} FROM {quote('metrics')} "
        f"WHERE {run_uuid} IN ({run_in}) AND {key} IN ({key_in})"
    )
    return sql, params


def _split_into(
    result: dict[tuple[str, str], np.ndarray],
    rows: np.ndarray,
    run_batch: Sequence[str],
    key_batch: Sequence[str],
) -> None:
    if rows.size == 0:
        return
    values = rows["value"]
    values[values >= STORED_INFINITY] = np.inf
    values[values <= -STORED_INFINITY] = -np.inf
    values[rows["is_nan"] != 0] = np.nan
    order = np.lexsort((rows["timestamp"], rows["step"], rows["pair"]))
    rows = rows[order]
    pairs = rows["pair"]
    boundaries = np.flatnonzero(np.diff(pairs)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(rows)]))
    n_keys = len(key_batch)
    for start, end in zip(starts, ends, strict=True):
        code = int(pairs[start])
        history = np.empty(end - start, dtype=HISTORY_DTYPE)
        segment = rows[start:end]
        history["step"] = segment["step"]
        history["timestamp"] = segment["timestamp"]
        history["value"] = segment["value"]
        result[(run_batch[code // n_keys], key_batch[code % n_keys])] = history
