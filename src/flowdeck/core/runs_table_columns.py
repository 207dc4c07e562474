"""Column specs and column arrays (display text, raw values, sort ranks) of the runs table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from flowdeck.core.runs_table_format import (
    format_full_number,
    format_numbers,
    format_steps,
    normalise_infinities,
)

# Column kinds, as a column chooser groups them.
FIXED = "fixed"
PARAM = "param"
TAG = "tag"
METRIC = "metric"
METRIC_MIN = "metric_min"
METRIC_MAX = "metric_max"
METRIC_MIN_STEP = "metric_min_step"
METRIC_MAX_STEP = "metric_max_step"
SUMMARY_KINDS = {
    METRIC_MIN: ("min", "min"),
    METRIC_MAX: ("max", "max"),
    METRIC_MIN_STEP: ("min_step", "step of min"),
    METRIC_MAX_STEP: ("max_step", "step of max"),
}


@dataclass(frozen=True)
class ColumnSpec:
    """What a column is: a stable id (``metrics.loss``, ``metrics.loss#min``, ``name``...)."""

    id: str
    title: str
    kind: str
    key: str = ""  # the param/metric/tag key, "" for fixed columns
    numeric: bool = False  # right-aligned, sorted as numbers
    default_visible: bool = True


@dataclass
class Column:
    """One column's arrays, all indexed by table row."""

    spec: ColumnSpec
    display: list[str]  # pre-formatted text, '' when missing
    raw: np.ndarray  # float64 (NaN when missing) or object (None when missing): CSV values
    present: np.ndarray  # bool
    rank: np.ndarray  # int64: equal values share a rank; missing ranks last
    n_ordered: int  # ranks >= this (NaN, missing) stay last when sorting descending

    def full_text(self, row: int) -> str:
        """The untruncated value for a tooltip ('' when missing)."""
        if not self.present[row]:
            return ""
        value = self.raw[row]
        if isinstance(value, float | np.floating):
            return format_full_number(float(value))
        return "" if value is None else str(value)

    def sort_key(self, descending: bool) -> np.ndarray:
        """Integer keys whose stable argsort orders the rows, NaN then missing last."""
        if not descending:
            return self.rank
        return np.where(self.rank < self.n_ordered, self.n_ordered - 1 - self.rank, self.rank)


def numeric_ranks(values: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense ranks of numbers; present NaN after them, missing after that."""
    rank = np.empty(len(values), dtype=np.int64)
    ordered = present & ~np.isnan(values)
    uniques, inverse = np.unique(values[ordered], return_inverse=True)
    n_ordered = len(uniques)
    rank[ordered] = inverse
    rank[present & ~ordered] = n_ordered
    rank[~present] = n_ordered + 1
    return rank, n_ordered


def text_ranks(texts: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, int, bool]:
    """Dense ranks: numbers-as-numbers first, then text casefolded; missing last.

    The flag says whether every present value is a number (and there is one).
    """
    rank = np.empty(len(texts), dtype=np.int64)
    values = texts[present]
    as_numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    as_numbers = as_numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    is_number = ~np.isnan(as_numbers)
    number_uniques, number_inverse = np.unique(as_numbers[is_number], return_inverse=True)
    folded = [str(t).casefold() for t in values[~is_number]]
    text_uniques, text_inverse = np.unique(np.array(folded, dtype=str), return_inverse=True)
    present_ranks = np.empty(len(values), dtype=np.int64)
    present_ranks[is_number] = number_inverse
    present_ranks[~is_number] = len(number_uniques) + text_inverse
    n_ordered = len(number_uniques) + len(text_uniques)
    rank[present] = present_ranks
    rank[~present] = n_ordered
    return rank, n_ordered, bool(len(values)) and bool(is_number.all())


def text_column(spec: ColumnSpec, raw: np.ndarray, display: list[str] | None = None) -> Column:
    """A column of strings (``raw`` is an object array with None for missing)."""
    present = np.not_equal(raw, None)
    if display is None:
        display = ["" if value is None else str(value) for value in raw]
    rank, n_ordered, numeric = text_ranks(raw, present)
    if numeric and spec.kind in (PARAM, TAG):
        spec = ColumnSpec(spec.id, spec.title, spec.kind, spec.key, True, spec.default_visible)
    return Column(spec, display, raw, present, rank, n_ordered)


def number_column(
    spec: ColumnSpec,
    values: np.ndarray,
    present: np.ndarray | None = None,
    display: list[str] | None = None,
    whole: bool = False,
) -> Column:
    """A column of floats; ``present`` defaults to 'not NaN' (MLflow's frame cannot tell)."""
    values = normalise_infinities(values)
    if present is None:
        present = ~np.isnan(values)
    if display is None:
        display = format_steps(values, present) if whole else format_numbers(values, present)
    raw = values.copy()
    raw[~present] = np.nan
    rank, n_ordered = numeric_ranks(values, present)
    return Column(spec, display, raw, present, rank, n_ordered)


def object_values(series: pd.Series) -> np.ndarray:
    """A frame column as an object array of str with None for missing."""
    return series.astype(object).to_numpy(dtype=object, na_value=None)


def param_or_tag_column(spec: ColumnSpec, series: pd.Series) -> Column:
    """Params and tags: shown verbatim, sorted as numbers when they all are numbers."""
    return text_column(spec, object_values(series))


def summary_arrays(
    summaries: pd.DataFrame, run_index: pd.Index
) -> dict[str, dict[str, np.ndarray]]:
    """Per metric key: last/min/max/min_step/max_step/count arrays aligned to the table rows."""
    out: dict[str, dict[str, np.ndarray]] = {}
    if summaries is None or len(summaries) == 0:
        return out
    positions = run_index.get_indexer(summaries["run_id"].astype(object))
    inside = positions >= 0
    frame = summaries.loc[inside]
    positions = positions[inside]
    n = len(run_index)
    keys = frame["key"].astype(object).to_numpy()
    for key in pd.unique(keys):
        pick = keys == key
        rows = positions[pick]
        arrays: dict[str, np.ndarray] = {}
        for field in ("last", "min", "max", "min_step", "max_step", "count"):
            array = np.full(n, np.nan)
            values = frame[field].to_numpy(dtype=np.float64, na_value=np.nan)[pick]
            array[rows] = values
            arrays[field] = array
        out[str(key)] = arrays
    return out
