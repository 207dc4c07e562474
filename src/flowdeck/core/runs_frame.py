"""Filter, order, truncate and pivot run tables into the frame ``mlflow.search_runs()`` returns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from flowdeck.core.like_match import SQLITE, LikeRules
from flowdeck.core.run_filter import (
    FilterScope,
    IndexedRuns,
    KeyedTable,
    TextCodes,
    filter_mask,
    parse_run_filter,
)
from flowdeck.core.run_order import order_runs, parse_order_by
from flowdeck.core.run_tables import RunTables
from flowdeck.core.task_state import TaskState

BASE_COLUMNS = ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]


def index_run_tables(tables: RunTables) -> IndexedRuns:
    """Address every long table by run position (rows of runs outside ``tables.runs`` drop)."""
    runs = tables.runs.reset_index(drop=True)
    run_index = pd.Index(np.asarray(runs["run_id"], dtype=object))
    datasets = tables.datasets
    dataset_pos = run_index.get_indexer(datasets["run_id"]) if len(datasets) else np.array([], int)
    inside = dataset_pos >= 0
    return IndexedRuns(
        runs=runs,
        metrics=KeyedTable(tables.metrics, run_index, numeric=True),
        params=KeyedTable(tables.params, run_index, numeric=False),
        tags=KeyedTable(tables.tags, run_index, numeric=False),
        datasets=datasets[inside].reset_index(drop=True),
        dataset_pos=np.asarray(dataset_pos[inside], dtype=np.intp),
    )


def select_runs(
    indexed: IndexedRuns,
    filter_string: str = "",
    order_by: Sequence[str] = (),
    max_results: int | None = None,
    scope: FilterScope | None = None,
) -> np.ndarray:
    """Run positions that match ``filter_string``, in MLflow's order, at most ``max_results``."""
    clauses = parse_run_filter(filter_string)
    sort_keys = parse_order_by(order_by)
    matching = np.flatnonzero(filter_mask(indexed, clauses, scope))
    ordered = order_runs(indexed, sort_keys, matching)
    return ordered if max_results is None else ordered[: max(int(max_results), 0)]


def _arrow_backed_str() -> bool:
    return pd.StringDtype(na_value=np.nan).storage == "pyarrow"


def text_column(codes: np.ndarray, uniques: pd.Index | object) -> object:
    """Text the way ``pd.DataFrame`` infers a list of str/None: ``str`` dtype, object if all None.

    ``uniques`` is a pandas Index or a pyarrow array of the distinct values; ``codes`` index
    into it, -1 meaning missing.
    """
    missing = codes < 0
    if len(codes) and missing.all():
        return np.full(len(codes), None, dtype=object)
    if not isinstance(uniques, pd.Index):  # a pyarrow array
        import pyarrow as pa

        return pd.array(uniques.take(pa.array(codes, mask=missing)), dtype="str")
    values = np.asarray(uniques, dtype=object).take(np.where(missing, 0, codes))
    values[missing] = None
    return pd.array(values, dtype="str")


def _fast_uniques(uniques: pd.Index) -> pd.Index | object:
    """The values as a pyarrow large_string array when ``str`` is arrow-backed."""
    if not _arrow_backed_str() or not len(uniques):
        return uniques
    import pyarrow as pa

    if isinstance(uniques.dtype, pd.StringDtype) and uniques.dtype.storage == "pyarrow":
        array = pa.array(uniques.array)
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        return array.cast(pa.large_string())
    values = np.asarray(uniques, dtype=object)
    return pa.array(np.where(pd.isna(values), None, values), type=pa.large_string())


def time_column(millis: pd.Series) -> pd.DatetimeIndex | np.ndarray:
    """Epoch ms as search_runs shows them: UTC datetimes (µs), or naive NaT if all are missing."""
    missing = np.asarray(millis.isna(), dtype=bool)
    if len(millis) and missing.all():
        return np.full(len(millis), np.datetime64("NaT"), dtype="datetime64[s]")
    stamps = millis.to_numpy(dtype=np.int64, na_value=0).astype("datetime64[ms]")
    stamps = stamps.astype("datetime64[us]")
    stamps[missing] = np.datetime64("NaT")
    return pd.DatetimeIndex(stamps).tz_localize("UTC")


def _key_columns(table: KeyedTable, rows_of_run: np.ndarray, n_rows: int, prefix: str) -> dict:
    """Pivot one long table into ``prefix + key`` columns for the selected rows.

    Columns come in order of the first row that has them (as search_runs builds them); keys
    first seen in the same row are sorted by name (MLflow's order there follows set hashing).
    """
    out_row = rows_of_run[table.pos]
    kept = np.flatnonzero(out_row >= 0)
    if not len(kept):
        return {}
    out_row, codes = out_row[kept], table.codes[kept]
    first_row = np.full(len(table.keys), n_rows, dtype=np.int64)
    np.minimum.at(first_row, codes, out_row)
    used = np.flatnonzero(first_row < n_rows)
    names = np.asarray(table.keys.take(used), dtype=object)
    order = np.lexsort((pd.factorize(names, sort=True)[0], first_row[used]))
    column_of_code = np.full(len(table.keys), -1, dtype=np.intp)
    column_of_code[used[order]] = np.arange(len(used))
    cells = (column_of_code[codes], out_row)
    if table.numeric:
        grid = np.full((len(used), n_rows), np.nan)
        grid[cells] = table.values[kept]
        return {prefix + name: grid[i] for i, name in enumerate(names[order])}
    grid = np.full((len(used), n_rows), -1, dtype=np.intp)
    grid[cells] = table.text.codes[kept]
    names = names[order]
    uniques = _fast_uniques(table.text.uniques)
    if isinstance(uniques, pd.Index):
        return {prefix + name: text_column(grid[i], uniques) for i, name in enumerate(names)}
    import pyarrow as pa

    flat = grid.ravel()
    texts = uniques.take(pa.array(flat, mask=flat < 0))  # one gather for every column
    empty = (grid < 0).all(axis=1)
    return {
        prefix + name: np.full(n_rows, None, dtype=object)
        if empty[i]
        else pd.array(texts.slice(i * n_rows, n_rows), dtype="str")
        for i, name in enumerate(names)
    }


def pivot_runs(indexed: IndexedRuns, selected: np.ndarray) -> pd.DataFrame:
    """The search_runs frame of the runs at positions ``selected`` (in that order)."""
    if not len(selected):
        return pd.DataFrame({name: [] for name in BASE_COLUMNS})
    runs = indexed.runs.iloc[selected]
    data: dict[str, object] = {}
    for name in ("run_id", "experiment_id", "status", "artifact_uri"):
        text = TextCodes.of(runs[name])
        data[name] = text_column(text.codes, text.uniques)
    data["start_time"] = time_column(runs["start_time"])
    data["end_time"] = time_column(runs["end_time"])
    rows_of_run = np.full(indexed.size, -1, dtype=np.intp)
    rows_of_run[selected] = np.arange(len(selected))
    data.update(_key_columns(indexed.metrics, rows_of_run, len(selected), "metrics."))
    data.update(_key_columns(indexed.params, rows_of_run, len(selected), "params."))
    data.update(_key_columns(indexed.tags, rows_of_run, len(selected), "tags."))
    return pd.DataFrame(data)


def build_runs_frame(
    tables: RunTables,
    filter_string: str = "",
    order_by: Sequence[str] = (),
    max_results: int | None = None,
    *,
    rules: LikeRules = SQLITE,
    state: TaskState | None = None,
) -> pd.DataFrame:
    """Exactly what ``mlflow.search_runs()`` returns for these run tables.

    ``rules`` are the store backend's LIKE/ILIKE rules; ``state`` is checked while the
    filter is evaluated (raises ``Cancelled``). Raises ``InvalidFilter`` (MLflow's message)
    for a bad filter or ``order_by``.
    """
    indexed = index_run_tables(tables)
    scope = FilterScope(rules, state)
    selected = select_runs(indexed, filter_string, order_by, max_results, scope)
    return pivot_runs(indexed, selected)
