"""A y axis that labels a log scale even when its range spans less than one decade."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg


class MetricAxis(pg.AxisItem):
    """pyqtgraph labels log axes only at powers of ten, so a log chart of accuracies between
    0.969 and 0.972 had no labels at all; short ranges get plain linear values instead."""

    def __init__(self, orientation: str = "left", **options: object) -> None:
        super().__init__(orientation, **options)
        self._linear_labels = False
        # The tick text space only grows: new data (or a zoom) with narrower labels must not
        # resize the plot, which repaints the chart once or twice more.
        self.setStyle(autoReduceTextSpace=False)

    def tickValues(self, minVal: float, maxVal: float, size: float):  # noqa: N802, N803, ANN201
        self._linear_labels = bool(self.logMode) and abs(maxVal - minVal) < 1
        if not self._linear_labels:
            return super().tickValues(minVal, maxVal, size)
        low, high = sorted((10.0**minVal, 10.0**maxVal))
        self.logMode = False  # ask for the ticks of the linear range, then place them in log10
        try:
            levels = super().tickValues(low, high, size)
        finally:
            self.logMode = True
        return [
            (spacing, [float(np.log10(value)) for value in values if value > 0])
            for spacing, values in levels
        ]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        if not self._linear_labels:
            return super().tickStrings(values, scale, spacing)
        return [f"{10.0**value:.4g}" for value in values]
