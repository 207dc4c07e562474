"""Peak-preserving min/max decimation of a sorted curve down to one screen's worth of columns."""

from __future__ import annotations

import numpy as np

POSITIVE_INFINITY = "+inf"
NEGATIVE_INFINITY = "-inf"
NOT_A_NUMBER = "nan"


def decimate_minmax(
    x: np.ndarray, y: np.ndarray, x_min: float, x_max: float, columns: int
) -> tuple[np.ndarray, np.ndarray]:
    """The points of (x, y) worth drawing in [x_min, x_max] on a plot ``columns`` pixels wide.

    ``x`` is sorted ascending and finite (repeats allowed). The result keeps the points inside
    the range plus one neighbour on each side, so lines run to the plot's edges. A slice of at
    most ``2 * columns`` points comes back unchanged. A longer one is cut into ``columns``
    equal-width buckets, and each non-empty bucket contributes its lowest and highest finite
    point and, if it holds NaN, its first NaN point (a gap for ``connect="finite"``). ±inf
    never counts as an extreme: see ``nonfinite_points``. Every returned point is an input
    point, in input order, so at most ``3 * columns + 2`` points come back (``2 * columns + 2``
    without NaN). Infinite bounds stand for the data's own extent; swapped bounds are reordered.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D arrays of one length, got {x.shape} and {y.shape}")
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    if np.isnan(x_min) or np.isnan(x_max):
        raise ValueError("the x range must not be NaN")
    if x_min > x_max:
        x_min, x_max = x_max, x_min

    inside_start = int(np.searchsorted(x, x_min, side="left"))
    inside_stop = int(np.searchsorted(x, x_max, side="right"))
    kept_start = max(inside_start - 1, 0)
    kept_stop = min(inside_stop + 1, len(x))
    if kept_stop - kept_start <= 2 * columns:
        return x[kept_start:kept_stop].copy(), y[kept_start:kept_stop].copy()

    inside_x = x[inside_start:inside_stop]
    left = x_min if np.isfinite(x_min) else inside_x[0]
    right = x_max if np.isfinite(x_max) else inside_x[-1]
    bucket_edges = np.linspace(left, right, columns + 1)[:-1]
    chosen = _bucket_extremes(inside_x, y[inside_start:inside_stop], bucket_edges)
    chosen += inside_start

    edge_neighbours = [i for i in (inside_start - 1, inside_stop) if kept_start <= i < kept_stop]
    order = np.unique(np.concatenate([chosen, np.asarray(edge_neighbours, dtype=np.intp)]))
    return x[order], y[order]


def _bucket_extremes(x: np.ndarray, y: np.ndarray, bucket_edges: np.ndarray) -> np.ndarray:
    """Indices of each non-empty bucket's min, max and first NaN point (unsorted, may repeat)."""
    starts = np.searchsorted(x, bucket_edges, side="left")
    starts = starts[np.r_[True, np.diff(starts) > 0] & (starts < len(x))]
    counts = np.diff(np.append(starts, len(x)))

    lowest = np.minimum.reduceat(y, starts)  # NaN wherever the bucket holds a NaN
    nan_buckets = np.isnan(lowest)
    if nan_buckets.any():
        lowest = np.fmin.reduceat(y, starts)
        highest = np.fmax.reduceat(y, starts)
    else:
        highest = np.maximum.reduceat(y, starts)
    if np.isneginf(lowest).any() or np.isposinf(highest).any():
        finite = np.isfinite(y)
        lowest = np.minimum.reduceat(np.where(finite, y, np.inf), starts)
        highest = np.maximum.reduceat(np.where(finite, y, -np.inf), starts)
    has_finite = lowest <= highest  # False for all-NaN (NaN) and all-inf (+inf > -inf) buckets

    found = [
        _first_match_per_bucket(y, starts, counts, lowest, has_finite),
        _first_match_per_bucket(y, starts, counts, highest, has_finite),
    ]
    if nan_buckets.any():
        nan_positions = np.flatnonzero(np.isnan(y))
        found.append(nan_positions[np.searchsorted(nan_positions, starts[nan_buckets])])
    return np.concatenate(found)


def _first_match_per_bucket(
    y: np.ndarray, starts: np.ndarray, counts: np.ndarray, targets: np.ndarray, wanted: np.ndarray
) -> np.ndarray:
    """For each wanted bucket, the index of its first point equal to that bucket's target."""
    per_point_target = np.repeat(np.where(wanted, targets, np.nan), counts)
    matches = np.flatnonzero(y == per_point_target)
    return matches[np.searchsorted(matches, starts[wanted])]


def nonfinite_points(x: np.ndarray, y: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Where y is +inf, -inf or NaN: ``{"+inf" | "-inf" | "nan": (x values, indices into y)}``.

    Lines cannot show these points, so the plot marks them at its top or bottom edge; the
    indices let a tooltip look up the step or timestamp of each one.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have one shape, got {x.shape} and {y.shape}")
    masks = {
        POSITIVE_INFINITY: np.isposinf(y),
        NEGATIVE_INFINITY: np.isneginf(y),
        NOT_A_NUMBER: np.isnan(y),
    }
    points = {}
    for kind, mask in masks.items():
        indices = np.flatnonzero(mask)
        points[kind] = (x[indices], indices)
    return points
