"""Metric chart curves and their export as a long-form table or CSV file."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

CURVE_COLUMNS = ("run_id", "run_name", "metric")
VALUE_COLUMN = "value"


@dataclass(frozen=True, eq=False)
class ChartCurve:
    """One run's metric as drawn: raw x and y (before decimation or smoothing)."""

    run_id: str
    run_name: str
    metric: str
    x: np.ndarray
    y: np.ndarray
    x_label: str


def chart_frame(curves: Sequence[ChartCurve]) -> pd.DataFrame:
    """One row per point: ``run_id, run_name, metric, <x_label>, value``, curve after curve.

    Curves with different x labels each fill their own x column (empty in other rows). An x
    label that clashes with a fixed column gets the suffix " (x)". Whole-number x (steps) is
    written as integers; values are left exactly as logged.
    """
    x_columns = {curve.x_label: _x_column_name(curve.x_label) for curve in curves}
    lengths = [len(curve.y) for curve in curves]
    for curve in curves:
        if len(curve.x) != len(curve.y):
            raise ValueError(f"curve {curve.run_id}/{curve.metric}: x and y differ in length")

    columns: dict[str, object] = {
        field: np.repeat(np.array([getattr(c, field) for c in curves], dtype=object), lengths)
        for field in CURVE_COLUMNS
    }
    for label, column in x_columns.items():
        parts = [
            curve.x if curve.x_label == label else np.full(len(curve.x), np.nan) for curve in curves
        ]
        columns[column] = _integral_if_whole(np.concatenate(parts))
    columns[VALUE_COLUMN] = (
        np.concatenate([np.asarray(c.y, dtype=np.float64) for c in curves])
        if curves
        else np.empty(0)
    )
    return pd.DataFrame(columns)


def write_chart_csv(path: str | os.PathLike[str], curves: Sequence[ChartCurve]) -> None:
    """Write ``chart_frame(curves)`` as UTF-8 CSV: NaN as an empty cell, ±inf as "inf"/"-inf"."""
    chart_frame(curves).to_csv(path, index=False, na_rep="", encoding="utf-8")


def _x_column_name(label: str) -> str:
    return f"{label} (x)" if label in (*CURVE_COLUMNS, VALUE_COLUMN) else label


def _integral_if_whole(x: np.ndarray) -> np.ndarray:
    """``x`` as int64 when every value is a whole number that float64 holds exactly."""
    if x.dtype.kind != "f" or x.size == 0:
        return x
    if np.all(np.isfinite(x)) and np.all(np.abs(x) <= 2**53) and np.all(x == np.round(x)):
        return x.astype(np.int64)
    return x
