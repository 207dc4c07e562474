"""What a chart shows: the options every chart shares and the curve data of one run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

X_LABELS = {
    "step": "step",
    "wall": "wall time (s since 1970)",
    "relative": "time since run start (s)",
    "metric": "metric",
}


@dataclass(frozen=True)
class ChartOptions:
    """Options shared by all charts of the charts view."""

    x_mode: str = "step"
    x_metric: str | None = None  # the metric used as x when x_mode == "metric"
    log_y: bool = False
    ignore_outliers: bool = False
    smoothing: float = 0.0  # EMA weight in [0, 1)
    spread: str = "minmax"  # group band: min-max or ±std


@dataclass(frozen=True)
class CurveData:
    """One run's curve of one metric: x sorted ascending, raw y (NaN/inf kept)."""

    run_id: str
    name: str
    colour: str
    x: np.ndarray
    y: np.ndarray
