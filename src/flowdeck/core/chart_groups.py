"""Per-group curves for grouped runs: mean with a min-max and a standard-deviation band."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

MAX_BINS = 2000


@dataclass(frozen=True)
class GroupBand:
    """Summary curves of a group over shared x bins (NaN where no run has a value)."""

    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    std: np.ndarray
    runs: int


def group_band(curves: list[tuple[np.ndarray, np.ndarray]], bins: int = MAX_BINS) -> GroupBand:
    """Mean, min, max and std across runs of their curves, each run first averaged per x bin.

    When every run shares few distinct x values (steps) each value is its own bin, so the
    summary is exact per step; otherwise x is cut into ``bins`` equal bins."""
    finite = [(x[np.isfinite(y)], y[np.isfinite(y)]) for x, y in curves]
    finite = [(x, y) for x, y in finite if len(x)]
    if not finite:
        empty = np.zeros(0)
        return GroupBand(empty, empty, empty, empty, empty, 0)
    all_x = np.unique(np.concatenate([x for x, _y in finite]))
    if len(all_x) <= bins:
        centres = all_x
        indexes = [np.searchsorted(all_x, x) for x, _y in finite]
    else:
        edges = np.linspace(all_x[0], all_x[-1], bins + 1)
        centres = (edges[:-1] + edges[1:]) / 2
        indexes = [
            np.clip(np.searchsorted(edges, x, side="right") - 1, 0, bins - 1) for x, _ in finite
        ]
    per_run = np.full((len(finite), len(centres)), np.nan)
    for row, ((_x, y), index) in enumerate(zip(finite, indexes, strict=True)):
        sums = np.bincount(index, weights=y, minlength=len(centres))
        counts = np.bincount(index, minlength=len(centres))
        with np.errstate(invalid="ignore", divide="ignore"):
            per_run[row] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN bins stay NaN
        return GroupBand(
            x=centres,
            mean=np.nanmean(per_run, axis=0),
            low=np.nanmin(per_run, axis=0),
            high=np.nanmax(per_run, axis=0),
            std=np.nanstd(per_run, axis=0),
            runs=len(finite),
        )
