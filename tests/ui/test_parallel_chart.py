"""ParallelCoordinates over runs written by MLflow: axes, brushing with the mouse, gaps, hover."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QTextDocument
from tests.helpers.comparison_runs import (
    CONSTANT_PARAM,
    HTML_NAME,
    between,
    run_id_named,
    shown_chart,
    value_of,
)

from flowdeck.core.parallel_lines import MISSING_Y
from flowdeck.core.runs_table import RunsTable
from flowdeck.ui.charts.parallel import NO_RUNS, ParallelCoordinates


@pytest.fixture
def chart(qtbot, comparison_table: RunsTable, unthrottled_mouse) -> ParallelCoordinates:
    return shown_chart(qtbot, ParallelCoordinates(), (1000, 520), comparison_table)


def _pixel(chart: ParallelCoordinates, axis: float, height: float) -> QPoint:
    scene_point = chart.plot.vb.mapViewToScene(QPointF(axis, height))
    return chart.view.mapFromScene(scene_point)


def _drag(qtbot, chart: ParallelCoordinates, axis: int, start: float, end: float) -> None:
    viewport = chart.view.viewport()
    begin, finish = _pixel(chart, axis, start), _pixel(chart, axis, end)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=begin)
    for t in (0.25, 0.5, 0.75, 1.0):
        y = round(begin.y() + t * (finish.y() - begin.y()))
        qtbot.mouseMove(viewport, QPoint(begin.x(), y))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=finish)


def _double_click(qtbot, widget, pos: QPoint) -> None:
    """What a window system sends for a double-click: press, release, double-click, release.

    (QTest's mouseDClick sends only the double-click, which pyqtgraph acts on at the release.)
    """
    left = Qt.MouseButton.LeftButton
    qtbot.mouseClick(widget, left, pos=pos)
    qtbot.mouseDClick(widget, left, pos=pos)
    qtbot.mouseRelease(widget, left, pos=pos)


def _height(chart: ParallelCoordinates, column: str, value: float) -> float:
    """Where ``value`` sits on a numeric axis (0 at the smallest shown value, 1 at the largest)."""
    values = chart.axis(column).values
    low, high = np.nanmin(values), np.nanmax(values)
    return (value - low) / (high - low)


def _plain(rich_text: str) -> str:
    document = QTextDocument()
    document.setHtml(rich_text)
    return document.toPlainText()


def test_default_axes_are_params_that_vary_then_metrics(
    chart, comparison_frame: pd.DataFrame
) -> None:
    params = sorted(c for c in comparison_frame.columns if c.startswith("params."))
    varying = [c for c in params if comparison_frame[c].fillna("<missing>").nunique() > 1]
    metrics = sorted(c for c in comparison_frame.columns if c.startswith("metrics."))
    assert f"params.{CONSTANT_PARAM[0]}" not in varying
    assert len(varying) > 4 and len(metrics) > 3  # so the caps are exercised
    assert chart.columns() == varying[:4] + metrics[:3]
    assert chart.stack.currentWidget() is chart.view


def test_axis_labels_show_titles_ranges_and_categories_as_plain_text(
    chart, comparison_frame
) -> None:
    chart.set_columns(["params.optimizer", "metrics.loss", "params.lr"])
    labels = [chart.axes_layer.label_texts(i) for i in range(3)]
    optimizers = sorted(comparison_frame["params.optimizer"].dropna().unique())
    assert labels[0][:1] == ["optimizer"] and labels[0][1:] == optimizers
    losses = comparison_frame["metrics.loss"].dropna()
    loss_texts = chart.axis("metrics.loss").texts
    assert labels[1][0] == "loss" and "missing" in labels[1]
    assert {f"{losses.max():g}", f"{losses.min():g}"} <= set(labels[1])
    assert loss_texts.count("missing") == int(comparison_frame["metrics.loss"].isna().sum())
    lr = comparison_frame["params.lr"].astype(float)
    assert chart.axis("params.lr").categories is None  # numeric strings make a numeric axis
    assert {"lr", f"{lr.max():g}", f"{lr.min():g}"} <= set(labels[2])


def test_missing_values_sit_in_a_notch_below_the_axis_never_at_zero(
    chart, comparison_frame
) -> None:
    chart.set_columns(["metrics.loss", "metrics.accuracy", "metrics.score"])
    no_accuracy = run_id_named(comparison_frame, HTML_NAME)
    zero_accuracy = run_id_named(comparison_frame, "eta")
    assert math.isnan(value_of(comparison_frame, no_accuracy, "metrics.accuracy"))
    assert value_of(comparison_frame, zero_accuracy, "metrics.accuracy") == 0.0
    accuracy_axis = chart.columns().index("metrics.accuracy")
    assert chart.polyline(no_accuracy)[accuracy_axis] == MISSING_Y < 0
    assert chart.polyline(zero_accuracy)[accuracy_axis] == 0.0  # the real minimum
    # and that is what is drawn: some curve passes through the notch
    drawn = []
    for item in chart.plot.items:
        if isinstance(item, pg.PlotCurveItem) and item.isVisible():
            x, y = item.getData()
            if x is not None:
                drawn += list(zip(x.tolist(), y.tolist(), strict=True))
    assert (float(accuracy_axis), MISSING_Y) in drawn
    row = chart.shown_run_ids().index(no_accuracy)
    assert chart.axis("metrics.accuracy").texts[row] == "missing"


def test_dragging_on_axes_brushes_runs_and_double_click_or_clear_removes(
    qtbot, chart, comparison_frame
) -> None:
    chart.set_columns(["params.optimizer", "metrics.loss", "metrics.accuracy"])
    shown = chart.shown_run_ids()
    loss = {run_id: value_of(comparison_frame, run_id, "metrics.loss") for run_id in shown}
    low, high = between(list(loss.values()), 2, 4)
    expected = [r for r in shown if low <= loss[r] <= high]
    assert 0 < len(expected) < len(shown)
    with qtbot.waitSignal(chart.brushed) as blocker:
        _drag(
            qtbot,
            chart,
            1,
            _height(chart, "metrics.loss", high),
            _height(chart, "metrics.loss", low),
        )
    assert blocker.args == [expected]
    assert chart.brushed_run_ids() == expected

    optimizers = chart.axis("params.optimizer").categories
    adam = optimizers.index("adam") / (len(optimizers) - 1)
    both = [
        r
        for r in expected
        if comparison_frame.set_index("run_id").at[r, "params.optimizer"] == "adam"
    ]
    assert both != expected
    with qtbot.waitSignal(chart.brushed) as blocker:
        _drag(qtbot, chart, 0, adam - 0.1, adam + 0.1)
    assert blocker.args == [both]
    assert chart.summary.text() == f"{len(both)} of {len(shown)} runs inside the brushes"

    region = chart.brush_region("metrics.loss")
    adams = [
        r for r in shown if comparison_frame.set_index("run_id").at[r, "params.optimizer"] == "adam"
    ]
    with qtbot.waitSignal(chart.brushed) as blocker:
        _double_click(qtbot, chart.view.viewport(), _pixel(chart, 1, sum(region) / 2))
    assert blocker.args == [adams] and chart.brush_region("metrics.loss") is None

    with qtbot.waitSignal(chart.brushed) as blocker:
        chart.clear_action.trigger()
    assert blocker.args == [shown]


def test_hovering_a_line_names_the_run_in_plain_text(qtbot, chart, comparison_frame) -> None:
    run_id = run_id_named(comparison_frame, HTML_NAME)
    row = chart.shown_run_ids().index(run_id)
    heights = chart._y
    middles = (heights[:, :-1] + heights[:, 1:]) / 2
    others = np.delete(middles, row, axis=0)
    gaps = np.abs(others - middles[row]).min(axis=0)
    segment = int(np.argmax(gaps))  # the stretch where this line is farthest from the others
    spot = _pixel(chart, segment + 0.5, float(middles[row, segment]))
    qtbot.mouseMove(chart.view.viewport(), spot)
    qtbot.waitUntil(lambda: chart.hover_text != "")
    shown = _plain(chart.hover_text)
    assert shown.splitlines()[0] == HTML_NAME
    assert "<b>bold</b>" not in chart.hover_text
    title = chart.axis(chart.columns()[0]).title
    value = chart.axis(chart.columns()[0]).texts[row]
    assert f"{title}: {value}" in shown.splitlines()
    assert chart.plot.vb.toolTip() == chart.hover_text


def test_no_runs_shows_a_message_and_one_run_is_drawn(
    qtbot, chart, comparison_table: RunsTable
) -> None:
    chart.set_data(comparison_table, np.array([], dtype=np.int64))
    assert chart.stack.currentWidget() is chart.message
    assert chart.message.text() == NO_RUNS
    assert chart.brushed_run_ids() == []

    chart.set_data(comparison_table, np.array([3]))
    assert chart.stack.currentWidget() is chart.view
    assert chart.shown_run_ids() == [comparison_table.run_ids[3]]
    curves = [
        i
        for i in chart.plot.items
        if isinstance(i, pg.PlotCurveItem) and i.getData()[0] is not None
    ]
    assert sum(len(c.getData()[0]) for c in curves) == len(chart.columns())
    assert chart.summary.text() == "1 run"


def test_axes_menu_choice_is_kept_across_new_data(
    qtbot, chart, comparison_table: RunsTable
) -> None:
    actions = {a.data(): a for a in chart.axes_menu.actions() if a.isCheckable()}
    assert set(actions) == {s.id for s in comparison_table.specs() if s.kind in ("param", "metric")}
    assert all(actions[c].isChecked() for c in chart.columns())
    added = next(c for c in actions if c not in chart.columns())
    with qtbot.waitSignal(chart.columns_changed) as blocker:
        actions[added].trigger()
    assert blocker.args[0][-1] == added and chart.columns()[-1] == added

    chart.set_data(comparison_table, np.arange(comparison_table.n_rows)[::2])
    assert chart.columns()[-1] == added
    actions = {a.data(): a for a in chart.axes_menu.actions() if a.isCheckable()}
    assert actions[added].isChecked()


def test_a_new_selection_clears_brushes_and_says_so(
    qtbot, chart, comparison_table: RunsTable
) -> None:
    loss_axis = chart.columns().index("metrics.loss")
    with qtbot.waitSignal(chart.brushed):
        _drag(qtbot, chart, loss_axis, 0.9, 0.5)
    rows = np.arange(comparison_table.n_rows)[1:]
    with qtbot.waitSignal(chart.brushed) as blocker:
        chart.set_data(comparison_table, rows)
    assert blocker.args == [[comparison_table.run_ids[r] for r in rows]]
    assert chart.brush_region("metrics.loss") is None
