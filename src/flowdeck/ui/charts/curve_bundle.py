"""Many runs' curves of one chart as one plot item per colour: runs joined, with breaks between."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPen

PenFor = Callable[[str], QPen]


class CurveBundle:
    """Draws the curves of many runs with one ``PlotCurveItem`` per colour.

    One item per run costs pyqtgraph a bounding box, a paint call and an auto-range pass per
    run and chart: with 100 runs × 10 charts that is seconds of drawing and 100+ ms stalls.
    Here the runs sharing a colour are concatenated into one array whose ``connect`` mask
    breaks the line between two runs and around NaN/±inf, so a chart holds at most one item
    per palette colour however many runs it shows."""

    def __init__(
        self,
        view_box: pg.ViewBox,
        pen_for: PenFor,
        z: float = 0.0,
        clicked: Callable[[object], None] | None = None,
    ) -> None:
        self._view_box = view_box
        self._pen_for = pen_for
        self._z = z
        self._clicked = clicked  # called with the mouse event of a click on a curve
        self._items: dict[str, pg.PlotCurveItem] = {}

    def items(self) -> list[pg.PlotCurveItem]:
        """The plot items that show curves now."""
        return [item for item in self._items.values() if item.isVisible()]

    def set_curves(self, curves: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> None:
        """Draw these (colour, x, y) curves, replacing what was drawn (x sorted per curve)."""
        by_colour: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        for colour, xs, ys in curves:
            if len(xs):
                by_colour.setdefault(colour, []).append((xs, ys))
        for colour, item in self._items.items():
            if colour not in by_colour:
                item.hide()
                item.setData([], [])
        for colour, members in by_colour.items():
            xs, ys, connect = join_curves(members)
            item = self._item(colour)
            item.setData(xs, ys, connect=connect)
            item.show()

    def clear(self) -> None:
        self.set_curves([])

    def _item(self, colour: str) -> pg.PlotCurveItem:
        item = self._items.get(colour)
        if item is None:
            item = pg.PlotCurveItem(pen=self._pen_for(colour))
            item.setZValue(self._z)
            if self._clicked is not None:
                item.setClickable(True, width=8)
                item.sigClicked.connect(lambda _item, event, call=self._clicked: call(event))
            self._view_box.addItem(item)  # straight in: PlotItem.addItem's bookkeeping is slow
            self._items[colour] = item
        return item


def join_curves(
    curves: Sequence[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One (x, y, connect) of many curves: ``connect[i]`` joins point i to i + 1 only within a
    curve and between finite points, as ``pg.arrayToQPath`` reads it."""
    xs = np.concatenate([np.asarray(x, dtype=np.float64) for x, _y in curves])
    ys = np.concatenate([np.asarray(y, dtype=np.float64) for _x, y in curves])
    finite = np.isfinite(xs) & np.isfinite(ys)
    connect = np.zeros(len(xs), dtype=bool)
    connect[:-1] = finite[:-1] & finite[1:]
    ends = np.cumsum([len(x) for x, _y in curves]) - 1
    connect[ends] = False  # the last point of a curve does not lead to the next curve
    return xs, ys, connect
