"""ScatterChart over runs written by MLflow: columns offered, gaps and log axes, click, hover."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QTextDocument
from tests.helpers.comparison_runs import HTML_NAME, run_id_named, shown_chart, value_of

from flowdeck.core.runs_table import RunsTable
from flowdeck.ui.charts.scatter import NO_RUNS, ScatterChart


@pytest.fixture
def chart(qtbot, comparison_table: RunsTable, unthrottled_mouse) -> ScatterChart:
    return shown_chart(qtbot, ScatterChart(), (800, 520), comparison_table)


def _expected(
    comparison_frame: pd.DataFrame, x: str, y: str, log_y: bool = False
) -> tuple[list, int, int]:
    """(run ids with both values, count without both, count with y <= 0 on a log axis)."""
    plotted, without, not_positive = [], 0, 0
    for run_id in comparison_frame["run_id"]:
        vx, vy = value_of(comparison_frame, run_id, x), value_of(comparison_frame, run_id, y)
        if math.isnan(vx) or math.isnan(vy):
            without += 1
        elif log_y and vy <= 0:
            not_positive += 1
        else:
            plotted.append(run_id)
    return plotted, without, not_positive


def _point_pixel(chart: ScatterChart, run_id: str) -> QPoint:
    index = chart.plotted_run_ids().index(run_id)
    x, y = chart.scatter.data["x"][index], chart.scatter.data["y"][index]
    scene_point = chart.plot.vb.mapViewToScene(QPointF(float(x), float(y)))
    return chart.view.mapFromScene(scene_point)


def _settled_pixel(qtbot, chart: ScatterChart, run_id: str) -> QPoint:
    """Where the run's point is drawn, once the axes have sized to their tick labels."""
    seen: list[QPoint] = []

    def stable() -> bool:
        chart.view.grab()  # a paint sizes the axes, which moves the plot area
        seen.append(_point_pixel(chart, run_id))
        return len(seen) > 1 and seen[-1] == seen[-2]

    qtbot.waitUntil(stable)
    return seen[-1]


def test_axes_offer_the_numeric_columns_and_default_to_a_param_and_a_metric(
    chart, comparison_table: RunsTable
) -> None:
    offered = [chart.x_combo.itemData(i) for i in range(chart.x_combo.count())]
    assert offered == [chart.y_combo.itemData(i) for i in range(chart.y_combo.count())]
    numeric_params = [
        s.id for s in comparison_table.specs() if s.kind == "param" and s.id != "params.optimizer"
    ]
    metrics = [s.id for s in comparison_table.specs() if s.kind == "metric"]
    assert set(offered) == {"duration", *numeric_params, *metrics}
    assert "params.optimizer" not in offered and "start_time" not in offered
    assert chart.x_column() == numeric_params[0] and chart.y_column() == metrics[0]
    labels = [chart.x_combo.itemText(i) for i in range(chart.x_combo.count())]
    assert "param: lr" in labels and "metric: loss" in labels and "Duration" in labels


def test_runs_missing_a_value_are_left_out_and_counted(
    chart, comparison_frame: pd.DataFrame
) -> None:
    chart.set_axes("params.layers", "metrics.accuracy")
    plotted, without, _ = _expected(comparison_frame, "params.layers", "metrics.accuracy")
    assert without >= 2  # one run has no layers, another no accuracy
    assert sorted(chart.plotted_run_ids()) == sorted(plotted)
    assert chart.summary.text() == f"{len(plotted)} runs plotted, {without} without both values"
    zero = run_id_named(comparison_frame, "eta")
    assert value_of(comparison_frame, zero, "metrics.accuracy") == 0.0 and zero in plotted
    y = dict(zip(chart.plotted_run_ids(), chart.scatter.data["y"].tolist(), strict=True))
    assert y[zero] == 0.0


def test_a_log_axis_leaves_out_values_that_are_not_positive(
    chart, comparison_frame: pd.DataFrame
) -> None:
    chart.set_axes("metrics.tokens", "metrics.score")
    chart.log_y.setChecked(True)
    plotted, without, not_positive = _expected(
        comparison_frame, "metrics.tokens", "metrics.score", True
    )
    assert not_positive == 2 and without == 0  # a score of 0 and one of -1
    assert sorted(chart.plotted_run_ids()) == sorted(plotted)
    assert chart.counts.not_positive == not_positive
    assert chart.summary.text() == (
        f"{len(plotted)} runs plotted, {not_positive} with a value ≤ 0 on a log axis"
    )
    drawn = dict(zip(chart.plotted_run_ids(), chart.scatter.data["y"].tolist(), strict=True))
    for run_id in plotted:
        assert drawn[run_id] == pytest.approx(
            math.log10(value_of(comparison_frame, run_id, "metrics.score"))
        )
    chart.log_y.setChecked(False)
    assert len(chart.plotted_run_ids()) == len(comparison_frame)


def test_clicking_a_point_emits_its_run_id(qtbot, chart, comparison_frame: pd.DataFrame) -> None:
    chart.set_axes("metrics.tokens", "metrics.score")
    run_id = run_id_named(comparison_frame, "delta")  # the highest score: alone at the top
    with qtbot.waitSignal(chart.run_clicked) as blocker:
        qtbot.mouseClick(
            chart.view.viewport(),
            Qt.MouseButton.LeftButton,
            pos=_settled_pixel(qtbot, chart, run_id),
        )
    assert blocker.args == [run_id]


def test_hovering_a_point_shows_its_name_as_plain_text(qtbot, chart, comparison_frame) -> None:
    chart.set_axes("metrics.tokens", "metrics.score")
    run_id = run_id_named(comparison_frame, HTML_NAME)
    qtbot.mouseMove(chart.view.viewport(), _settled_pixel(qtbot, chart, run_id))
    qtbot.waitUntil(lambda: chart.hover_text != "")
    document = QTextDocument()
    document.setHtml(chart.hover_text)
    lines = document.toPlainText().splitlines()
    assert lines[0] == HTML_NAME and "<b>bold</b>" not in chart.hover_text
    assert f"metric: score: {value_of(comparison_frame, run_id, 'metrics.score'):g}" in lines
    assert chart.plot.vb.toolTip() == chart.hover_text


def test_the_axis_choice_survives_new_data(
    chart, comparison_table: RunsTable, comparison_frame
) -> None:
    chart.set_axes("params.dropout", "metrics.loss")
    chart.set_data(comparison_table, np.arange(comparison_table.n_rows)[1:])
    assert (chart.x_column(), chart.y_column()) == ("params.dropout", "metrics.loss")
    without_loss = [comparison_table.row_of(run_id_named(comparison_frame, "zeta"))]
    chart.set_data(comparison_table, np.array(without_loss))
    assert chart.y_column() != "metrics.loss"  # no loss to plot for that run
    chart.set_data(comparison_table, np.arange(comparison_table.n_rows))
    assert (chart.x_column(), chart.y_column()) == ("params.dropout", "metrics.loss")


def test_no_runs_shows_a_message(chart, comparison_table: RunsTable) -> None:
    chart.set_data(comparison_table, np.array([], dtype=np.int64))
    assert chart.stack.currentWidget() is chart.message
    assert chart.message.text() == NO_RUNS
    assert chart.plotted_run_ids() == []
