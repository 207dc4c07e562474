"""Geometry of parallel-coordinates lines: heights, flat polylines, brushing, the nearest line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

MISSING_Y = -0.15  # where a run without a value crosses an axis: a notch below it, never 0
SINGLE_AXIS_DASH = 0.1  # with one axis, each run is a short dash across it
FEW_LINES = 50  # up to this many highlighted runs: opaque lines


def line_heights(positions: Sequence[np.ndarray], n_rows: int) -> np.ndarray:
    """(rows, axes) heights: each axis's 0..1 positions, MISSING_Y where there is none."""
    if not positions:
        return np.empty((n_rows, 0))
    heights = np.column_stack(positions).astype(np.float64)
    return np.where(np.isnan(heights), MISSING_Y, heights)


def polylines(
    heights: np.ndarray, members: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat x/y arrays of the ``members`` rows' lines; ``connect`` is False between runs.

    Axis ``i`` sits at x = i; with a single axis each run is a dash across it.
    """
    rows = heights[members]
    n_axes = rows.shape[1]
    if n_axes == 1:
        x_one = np.array([-SINGLE_AXIS_DASH, SINGLE_AXIS_DASH])
        rows = np.repeat(rows, 2, axis=1)
    else:
        x_one = np.arange(n_axes, dtype=np.float64)
    per_run = len(x_one)
    x = np.tile(x_one, len(members))
    connect = np.ones(len(x), dtype=bool)
    connect[per_run - 1 :: per_run] = False
    return x, rows.ravel(), connect


def inside_brushes(heights: np.ndarray, brushes: Mapping[int, tuple[float, float]]) -> np.ndarray:
    """Rows whose height on every brushed axis lies in that axis's (low, high) range."""
    inside = np.ones(len(heights), dtype=bool)
    for axis, (low, high) in brushes.items():
        column = heights[:, axis]
        inside &= (column >= low) & (column <= high)
    return inside


def nearest_line(
    heights: np.ndarray,
    point: tuple[float, float],
    pixel_size: tuple[float, float],
    max_pixels: float,
    preferred: np.ndarray | None = None,
) -> int:
    """The row whose line passes within ``max_pixels`` of ``point`` (data units), else -1.

    ``pixel_size`` is one pixel in data units (x, y); rows in ``preferred`` win when near.
    """
    n_rows = len(heights)
    if not n_rows or not heights.shape[1]:
        return -1
    x, y, _connect = polylines(heights, np.arange(n_rows))
    per_run = len(x) // n_rows
    xs = (x.reshape(n_rows, per_run) - point[0]) / pixel_size[0]
    ys = (y.reshape(n_rows, per_run) - point[1]) / pixel_size[1]
    ax, ay, dx, dy = xs[:, :-1], ys[:, :-1], np.diff(xs, axis=1), np.diff(ys, axis=1)
    length2 = np.maximum(dx * dx + dy * dy, 1e-12)
    t = np.clip(-(ax * dx + ay * dy) / length2, 0.0, 1.0)
    distance2 = ((ax + t * dx) ** 2 + (ay + t * dy) ** 2).min(axis=1)
    everyone = np.ones(n_rows, dtype=bool)
    for candidates in (everyone if preferred is None else preferred, everyone):
        near = candidates & (distance2 <= max_pixels**2)
        if near.any():
            return int(np.flatnonzero(near)[np.argmin(distance2[near])])
    return -1


def line_alpha(n_lines: int) -> int:
    """Opaque lines for a few runs, more see-through as they crowd (never below 70)."""
    return 255 if n_lines <= FEW_LINES else max(70, round(255 * (FEW_LINES / n_lines) ** 0.5))


def category_labels(categories: Sequence[str], max_labels: int) -> list[tuple[str, float]]:
    """(label, height) of up to ``max_labels`` evenly picked categories, both ends kept."""
    n = len(categories)
    if n == 0:
        return []
    if n == 1:
        return [(categories[0], 0.5)]
    picks = np.unique(np.linspace(0, n - 1, min(n, max(max_labels, 2))).round().astype(int))
    return [(categories[i], i / (n - 1)) for i in picks.tolist()]
