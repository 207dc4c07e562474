"""Runs-table columns as comparison-chart axes: numbers or ordered categories, normalised."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from flowdeck.core.runs_table import SWATCH, RunsTable
from flowdeck.core.runs_table_columns import FIXED, METRIC, PARAM, TAG, Column

MISSING_TEXT = "missing"


@dataclass(frozen=True)
class ComparisonAxis:
    """One column over the shown rows, placed on a 0..1 axis (NaN where nothing to place)."""

    column_id: str
    title: str
    values: np.ndarray  # float64 per shown row; NaN when missing, NaN or ±inf as logged
    positions: np.ndarray  # 0..1 per shown row; NaN when missing or not finite
    texts: list[str]  # the value as the runs table shows it; MISSING_TEXT when missing
    categories: list[str] | None  # ordered categories (bottom to top), None for numbers
    low_text: str  # the smallest finite value as text ('' for categories or no values)
    high_text: str

    @property
    def has_unplaced(self) -> bool:
        return bool(np.isnan(self.positions).any())

    @property
    def single_number(self) -> bool:
        """A numeric axis whose placed runs all share one value (drawn mid-axis)."""
        finite = self.values[np.isfinite(self.values)]
        return self.categories is None and len(finite) > 0 and finite.min() == finite.max()


def numeric_values(column: Column, rows: np.ndarray) -> np.ndarray | None:
    """The column's numbers over ``rows`` (NaN where missing); None unless all are numbers.

    Params are text in MLflow: a param counts as numeric when every present value parses.
    """
    raw = column.raw[rows]
    present = column.present[rows]
    if raw.dtype.kind == "f":
        values = raw.astype(np.float64, copy=True)
        values[~present] = np.nan
        return values
    if raw.dtype.kind in "iub":
        return raw.astype(np.float64)
    texts = raw[present]
    numbers = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce")
    numbers = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(numbers).any():
        return None
    values = np.full(len(rows), np.nan)
    values[present] = numbers
    return values


def comparison_axis(table: RunsTable, column_id: str, rows: np.ndarray) -> ComparisonAxis:
    """``column_id`` over ``rows``: numbers scaled to their own min..max, else categories."""
    rows = np.asarray(rows, dtype=np.int64)
    column = table.column(column_id)
    present = column.present[rows]
    texts = [
        column.display[row] if shown else MISSING_TEXT
        for row, shown in zip(rows.tolist(), present.tolist(), strict=True)
    ]
    values = numeric_values(column, rows)
    if values is None:
        return _categorical_axis(column, rows, present, texts)
    positions = np.full(len(rows), np.nan)
    finite = np.isfinite(values)
    low_text = high_text = ""
    if finite.any():
        finite_values = values[finite]
        low, high = float(finite_values.min()), float(finite_values.max())
        span = high - low
        positions[finite] = (finite_values - low) / span if span > 0 else 0.5
        low_row = rows[np.flatnonzero(finite)[int(finite_values.argmin())]]
        high_row = rows[np.flatnonzero(finite)[int(finite_values.argmax())]]
        low_text, high_text = column.display[low_row], column.display[high_row]
    return ComparisonAxis(
        column_id, column.spec.title, values, positions, texts, None, low_text, high_text
    )


def _categorical_axis(
    column: Column, rows: np.ndarray, present: np.ndarray, texts: list[str]
) -> ComparisonAxis:
    shown = [text for text, is_present in zip(texts, present.tolist(), strict=True) if is_present]
    ranks = column.rank[rows][present].tolist()
    first_rank: dict[str, int] = {}
    for text, rank in zip(shown, ranks, strict=True):
        first_rank.setdefault(text, rank)
    categories = sorted(first_rank, key=lambda text: (first_rank[text], text))
    index = {text: i for i, text in enumerate(categories)}
    values = np.full(len(rows), np.nan)
    values[present] = [index[text] for text in shown]
    last = len(categories) - 1
    positions = values / last if last > 0 else np.where(present, 0.5, np.nan)
    return ComparisonAxis(
        column.spec.id, column.spec.title, values, positions, texts, categories, "", ""
    )


def varies(table: RunsTable, column_id: str, rows: np.ndarray) -> bool:
    """Whether the column takes more than one value (missing counts as one) over ``rows``."""
    column = table.column(column_id)
    seen = {
        column.display[row] if column.present[row] else None for row in np.asarray(rows).tolist()
    }
    return len(seen) > 1


def default_axes(
    table: RunsTable, rows: np.ndarray, max_params: int = 4, max_metrics: int = 3
) -> list[str]:
    """Up to ``max_params`` params that vary over ``rows``, then up to ``max_metrics`` metrics."""
    rows = np.asarray(rows, dtype=np.int64)
    params = [
        spec.id for spec in table.specs() if spec.kind == PARAM and varies(table, spec.id, rows)
    ]
    metrics = [
        spec.id
        for spec in table.specs()
        if spec.kind == METRIC and table.column(spec.id).present[rows].any()
    ]
    return params[:max_params] + metrics[:max_metrics]


def axis_choices(table: RunsTable) -> list[str]:
    """Columns a parallel-coordinates chart can show: params, then metrics."""
    specs = table.specs()
    return [s.id for s in specs if s.kind == PARAM] + [s.id for s in specs if s.kind == METRIC]


def numeric_choices(table: RunsTable, rows: np.ndarray) -> list[str]:
    """Columns with numbers over ``rows`` (at least one, and no text): fixed, params, metrics.

    Metric summaries (``metrics.loss#min``...) and the duration count; times, text and tags
    do not.
    """
    rows = np.asarray(rows, dtype=np.int64)
    chosen = []
    for column in table.columns:
        spec = column.spec
        if spec.id == SWATCH or spec.kind == TAG or not column.present[rows].any():
            continue
        if spec.kind == FIXED and column.raw.dtype.kind != "f":
            continue  # start/end times are ISO text, names are text
        if spec.kind == PARAM and numeric_values(column, rows) is None:
            continue
        chosen.append(spec.id)
    return chosen


def distinct_titles(table: RunsTable, axes: list[ComparisonAxis]) -> list[ComparisonAxis]:
    """Axes whose titles clash (a param and a metric both called "lr") get their kind added."""
    titles = [axis.title for axis in axes]
    return [
        replace(axis, title=choice_label(table, axis.column_id))
        if titles.count(axis.title) > 1
        else axis
        for axis in axes
    ]


def choice_label(table: RunsTable, column_id: str) -> str:
    """How a chooser names a column: "param: lr", "metric: loss (min)", "Duration"."""
    spec = table.column(column_id).spec
    if spec.kind == PARAM:
        return f"param: {spec.title}"
    if spec.kind == FIXED:
        return spec.title
    return f"metric: {spec.title}"
