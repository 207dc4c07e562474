"""Which of many drawn curves passes nearest a point: hit-testing curves drawn as one item."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def nearest_curve(
    curves: Sequence[tuple[np.ndarray, np.ndarray]],
    x: float,
    y: float,
    scale: tuple[float, float],
    tolerance: float,
) -> int | None:
    """Index of the curve whose drawn line (or lone point) passes nearest ``(x, y)``.

    ``curves`` are the (x, y) arrays as drawn: consecutive finite points are joined, NaN and
    ±inf break the line. ``scale`` (pixels per unit of x and of y) measures distances on
    screen; curves farther than ``tolerance`` pixels count as missed (None)."""
    sx, sy = scale
    best, best_distance = None, tolerance
    reach = tolerance / sx if sx > 0 else np.inf
    for index, (xs, ys) in enumerate(curves):
        if not len(xs):
            continue
        distance = _distance(xs, ys, x, y, sx, sy, reach)
        if distance <= best_distance:
            best, best_distance = index, distance
    return best


def _distance(
    xs: np.ndarray, ys: np.ndarray, x: float, y: float, sx: float, sy: float, reach: float
) -> float:
    """Pixels from (x, y) to the nearest segment or lone finite point of one curve."""
    finite = np.isfinite(xs) & np.isfinite(ys)
    # Only segments whose x span comes within reach of x can be near (xs is sorted).
    first = max(int(np.searchsorted(xs, x - reach, side="left")) - 1, 0)
    last = min(int(np.searchsorted(xs, x + reach, side="right")) + 1, len(xs))
    px = (xs[first:last] - x) * sx
    py = (ys[first:last] - y) * sy
    ok = finite[first:last]
    if not ok.any():
        return np.inf
    nearest = float(np.min(np.hypot(px[ok], py[ok])))  # points, lone ones included
    joined = ok[:-1] & ok[1:]
    if joined.any():
        ax, ay = px[:-1][joined], py[:-1][joined]
        dx, dy = px[1:][joined] - ax, py[1:][joined] - ay
        length = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.clip(np.where(length > 0, -(ax * dx + ay * dy) / length, 0.0), 0.0, 1.0)
        nearest = min(nearest, float(np.min(np.hypot(ax + t * dx, ay + t * dy))))
    return nearest
