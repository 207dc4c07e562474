"""TensorBoard's debiased exponential moving average for smoothing metric curves."""

from __future__ import annotations

import numpy as np
import pandas as pd


def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """Smooth ``values`` the way TensorBoard's smoothing slider does.

    ``last = last * weight + (1 - weight) * value`` over the finite values, each result divided
    by ``1 - weight ** n`` where n counts the finite values seen so far, so the curve starts at
    the first value instead of rising from zero. NaN and ±inf give NaN at their own position
    and leave the average untouched. ``weight`` 0 returns the values unchanged.
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    smoothed = np.full(values.shape, np.nan)
    if weight == 0.0:
        smoothed[finite] = values[finite]
        return smoothed
    # pandas' adjusted EWM divides by the sum of weights seen, 1 + w + ... + w**(n-1), which
    # equals TensorBoard's (1 - w**n) / (1 - w): the same average, by a single C loop.
    finite_values = pd.Series(values[finite], copy=False)
    averaged = finite_values.ewm(alpha=1.0 - weight, adjust=True).mean()
    smoothed[finite] = averaged.to_numpy()
    return smoothed
