"""Axis values for metric charts: x for each x-axis mode, outlier-proof y ranges, log gaps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

X_MODES = ("step", "wall", "relative", "metric")
OUTLIER_PERCENTILES = (0.5, 99.5)
RANGE_PADDING = 0.05


def curve_xy(
    history: np.ndarray,
    mode: str,
    other: np.ndarray | None = None,
    start_ms: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) float arrays to plot for one metric history in one x-axis mode.

    ``history`` (and ``other``) have the fields ``step``, ``timestamp`` (ms) and ``value``.
    Modes: ``"step"``; ``"wall"`` (seconds since the epoch); ``"relative"`` (seconds since
    ``start_ms``, by default the first timestamp); ``"metric"`` (x is the value ``other`` had
    at the same step, the last one logged for that step). In ``"metric"`` mode, points whose
    step has no finite x are dropped and the rest are sorted by x, keeping step order on ties.
    """
    y = history["value"].astype(np.float64)
    if mode == "step":
        return history["step"].astype(np.float64), y
    if mode == "wall":
        return history["timestamp"] / 1000.0, y
    if mode == "relative":
        if start_ms is None:
            start_ms = int(history["timestamp"][0]) if len(history) else 0
        return (history["timestamp"] - start_ms) / 1000.0, y
    if mode == "metric":
        if other is None:
            raise ValueError('x mode "metric" needs the history of the x metric')
        x = _values_at_steps(other, history["step"])
        placed = np.isfinite(x)
        x, y = x[placed], y[placed]
        if np.all(x[1:] >= x[:-1]):
            return x, y
        order = np.argsort(x, kind="stable")
        return x[order], y[order]
    raise ValueError(f"unknown x mode {mode!r}; expected one of {', '.join(X_MODES)}")


def _values_at_steps(history: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The last value ``history`` logged at each of ``steps``; NaN where it logged none."""
    x = np.full(len(steps), np.nan)
    if len(history) == 0:
        return x
    logged_steps = history["step"]
    logged_values = history["value"].astype(np.float64)
    if np.any(logged_steps[1:] < logged_steps[:-1]):  # stores return them sorted already
        order = np.argsort(logged_steps, kind="stable")
        logged_steps, logged_values = logged_steps[order], logged_values[order]
    is_last_of_step = np.r_[logged_steps[1:] != logged_steps[:-1], True]
    unique_steps = logged_steps[is_last_of_step]
    last_values = logged_values[is_last_of_step]
    positions = np.minimum(np.searchsorted(unique_steps, steps), len(unique_steps) - 1)
    matched = unique_steps[positions] == steps
    x[matched] = last_values[positions[matched]]
    return x


def robust_range(ys: Sequence[np.ndarray], log: bool) -> tuple[float, float] | None:
    """The "ignore outliers" y range: the 0.5th to 99.5th percentile of all finite values.

    With ``log`` only positive values count and the 5% padding is applied in decades, so the
    bounds stay positive. A flat curve gets a small range around its value. None when no value
    is usable. Bounds are in data units (not log10) either way.
    """
    chunks = [np.asarray(y, dtype=np.float64).ravel() for y in ys]
    values = np.concatenate(chunks) if chunks else np.empty(0)
    usable = np.isfinite(values)
    if log:
        usable &= values > 0
    values = values[usable]
    if values.size == 0:
        return None
    if log:
        values = np.log10(values)
    low, high = (float(v) for v in np.percentile(values, OUTLIER_PERCENTILES))
    span = high - low
    if span == 0:
        span = 1.0 if log or low == 0 else abs(low)
    low, high = low - RANGE_PADDING * span, high + RANGE_PADDING * span
    if log:
        return 10.0**low, 10.0**high
    return low, high


def log_safe(y: np.ndarray) -> np.ndarray:
    """A float copy of ``y`` with zero and negative values made NaN: gaps on a log axis."""
    safe = np.array(y, dtype=np.float64)
    safe[safe <= 0] = np.nan
    return safe
