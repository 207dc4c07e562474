"""The charts view on a store written by MLflow: curves, decimation, options, groups, export."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from flowdeck.core.smoothing import ema
from flowdeck.ui.charts.export_actions import write_export
from flowdeck.ui.charts.panel import PARALLEL_TAB, SCATTER_TAB
from flowdeck.ui.main_window import MainWindow

TIMEOUT = 60_000
LONG_POINTS = 20_000
SPIKE_STEP = 12_345
MANY_RUNS = 200
HTML_NAME = "<b>bold</b> run"


@pytest.fixture(scope="module")
def chart_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """curves: a long run with a spike, NaN, zero and a negative value, a short HTML-named run,
    a run with one point; many: 200 runs with 10 metrics of 5 steps."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    folder = tmp_path_factory.mktemp("chart-store")
    db = folder / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    curves = client.create_experiment("curves", artifact_location=str(folder / "a"))
    start = 1_700_000_000_000
    long_run = client.create_run(curves, run_name="long", start_time=start).info.run_id
    values = np.linspace(1.0, 0.1, LONG_POINTS)
    values[SPIKE_STEP] = 50.0
    values[100], values[200], values[300] = np.nan, 0.0, -1.0
    metrics = [Metric("train/loss", float(v), start + i * 10, i) for i, v in enumerate(values)]
    metrics += [Metric("val/acc", 0.5 + i / 100, start + i * 1000, i * 1000) for i in range(20)]
    for chunk in range(0, len(metrics), 1000):
        client.log_batch(long_run, metrics=metrics[chunk : chunk + 1000], synchronous=True)
    short = client.create_run(curves, run_name=HTML_NAME, start_time=start).info.run_id
    client.log_batch(
        short,
        metrics=[Metric("train/loss", 2.0 - i / 10, start + i, i) for i in range(10)],
        params=[],
        synchronous=True,
    )
    single = client.create_run(curves, run_name="single", start_time=start).info.run_id
    client.log_metric(single, "best/score", 0.9, timestamp=start, step=0)
    many = client.create_experiment("many", artifact_location=str(folder / "m"))
    for number in range(MANY_RUNS):
        run_id = client.create_run(many, run_name=f"run-{number:03d}").info.run_id
        batch = [
            Metric(f"m{key}", float(number + key + step), start + step, step)
            for key in range(10)
            for step in range(5)
        ]
        client.log_batch(run_id, metrics=batch, synchronous=True)
    return db


@pytest.fixture
def window(qtbot) -> MainWindow:
    window = MainWindow()
    window.persist_state = False
    qtbot.addWidget(window)
    window.resize(1200, 900)
    window.show()
    yield window
    window.runner.cancel_all()
    window.runner.wait_idle(5000)


def open_experiment(qtbot, window: MainWindow, db: Path, name: str) -> None:
    with qtbot.waitSignal(window.sidebar.model.store_loaded, timeout=TIMEOUT) as listed:
        window.open_location(str(db))
    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT):
        assert window.select_experiment_named(listed.args[0], name)
    window.show_charts()


def chart_all(qtbot, window: MainWindow, count: int | None = None) -> None:
    """Select the first ``count`` runs (all by default) and wait until the charts are drawn."""
    with qtbot.waitSignal(window.charts.drawn, timeout=TIMEOUT):
        window.runs.select_first(count or window.runs.model.rowCount())
    qtbot.waitUntil(lambda: not window.charts._pending, timeout=TIMEOUT)


def run_id_named(window: MainWindow, name: str) -> str:
    table = window.runs.model.table()
    return table.run_ids[list(table.column("name").display).index(name)]


def test_one_chart_per_metric_in_sections_with_the_table_colours(qtbot, window, chart_store):
    open_experiment(qtbot, window, chart_store, "curves")
    chart_all(qtbot, window)
    charts = window.charts.charts
    assert list(charts) == ["best/score", "train/loss", "val/acc"]
    titles = [
        label.text() for label in window.charts.grid_host.findChildren(type(window.charts.text))
    ]
    assert {"best", "train", "val"} <= set(titles)
    table = window.runs.model.table()
    loss = charts["train/loss"]
    for run_id, curve in loss._curves.items():
        assert curve.item.opts["pen"].color().name() == table.colours[table.row_of(run_id)]
    assert sorted(c.data.name for c in loss._curves.values()) == sorted(["long", HTML_NAME])
    labels = [label.text for _sample, label in loss.legend.items]
    assert "&lt;b&gt;bold&lt;/b&gt; run" in labels  # shown as typed, not as bold
    single = charts["best/score"]._curves[run_id_named(window, "single")]
    spots = charts["best/score"]._points.data  # one point: a dot, not an invisible line
    assert len(spots) == 1 and single.data.y[0] == 0.9
    window.grab().save(
        str(Path(qtbot._request.config.rootpath if False else "/tmp") / "charts-test.png")
    )


def test_every_spike_survives_decimation_and_zooming_reaches_raw_points(qtbot, window, chart_store):
    open_experiment(qtbot, window, chart_store, "curves")
    chart_all(qtbot, window)
    chart = window.charts.charts["train/loss"]
    long_curve = chart._curves[run_id_named(window, "long")]
    xs, ys = long_curve.item.getData()
    assert len(xs) < LONG_POINTS / 4  # decimated
    assert np.nanmax(ys) == 50.0  # the one-point spike is still drawn
    assert np.isnan(ys).any()  # the NaN is a gap, not a zero
    chart.getPlotItem().vb.setXRange(SPIKE_STEP - 50, SPIKE_STEP + 50, padding=0)
    qtbot.waitUntil(lambda: len(long_curve.item.getData()[0]) < 200, timeout=5000)
    xs, ys = long_curve.item.getData()
    np.testing.assert_array_equal(xs, np.arange(SPIKE_STEP - 51, SPIKE_STEP + 52))
    assert ys[xs == SPIKE_STEP][0] == 50.0


def test_log_scale_smoothing_and_ignore_outliers(qtbot, window, chart_store):
    open_experiment(qtbot, window, chart_store, "curves")
    chart_all(qtbot, window)
    toolbar = window.charts.toolbar
    chart = window.charts.charts["train/loss"]
    long_curve = chart._curves[run_id_named(window, "long")]
    toolbar.log_box.setChecked(True)
    assert chart.getPlotItem().getAxis("left").logMode
    assert np.isnan(long_curve.raw_y[[200, 300]]).all()  # zero and negative: gaps on a log axis
    toolbar.log_box.setChecked(False)

    toolbar.smoothing.setValue(60)
    assert toolbar.options.smoothing == pytest.approx(0.6)
    expected = ema(long_curve.data.y, 0.6)
    np.testing.assert_allclose(long_curve.shown_y, expected, equal_nan=True)
    assert long_curve.raw.isVisible()  # the raw curve stays, faint, behind
    toolbar.smoothing.setValue(0)
    assert not long_curve.raw.isVisible()

    toolbar.outliers_box.setChecked(True)
    low, high = chart.getPlotItem().vb.viewRange()[1]
    assert high < 50.0  # the spike no longer squashes the curve
    assert low <= 0.1 < high


def test_x_axis_by_time_and_by_another_metric(qtbot, window, chart_store):
    open_experiment(qtbot, window, chart_store, "curves")
    chart_all(qtbot, window)
    toolbar = window.charts.toolbar
    toolbar.x_combo.setCurrentIndex(toolbar.x_combo.findText("Relative time"))
    with qtbot.waitSignal(window.charts.drawn, timeout=TIMEOUT):
        toolbar.x_combo.activated.emit(toolbar.x_combo.currentIndex())
    long_curve = window.charts.charts["train/loss"]._curves[run_id_named(window, "long")]
    assert long_curve.data.x[1] == pytest.approx(0.01)  # 10 ms after the run's start
    toolbar.x_combo.setCurrentIndex(toolbar.x_combo.findText("Metric: val/acc"))
    with qtbot.waitSignal(window.charts.drawn, timeout=TIMEOUT):
        toolbar.x_combo.activated.emit(toolbar.x_combo.currentIndex())
    qtbot.waitUntil(lambda: not window.charts._pending, timeout=TIMEOUT)
    long_curve = window.charts.charts["train/loss"]._curves[run_id_named(window, "long")]
    assert len(long_curve.data.x) == 20  # only steps where val/acc was logged
    assert long_curve.data.x[0] == pytest.approx(0.5)


def test_legend_hides_a_run_everywhere_and_crosshair_reads_values(qtbot, window, chart_store):
    open_experiment(qtbot, window, chart_store, "curves")
    chart_all(qtbot, window)
    loss, acc = window.charts.charts["train/loss"], window.charts.charts["val/acc"]
    long_id = run_id_named(window, "long")
    item = loss._curves[long_id].item
    sample = next(sample for sample, _label in loss.legend.items if sample.item is item)

    def click_legend() -> None:  # what ItemSample.mouseClickEvent does on a left click
        item.setVisible(not item.isVisible())
        sample.sigClicked.emit(item)

    click_legend()
    assert not acc._curves[long_id].item.isVisible()
    assert long_id in window.charts.hidden_runs
    click_legend()
    assert acc._curves[long_id].item.isVisible()
    values = dict((name, value) for name, _x, value in loss.values_at(3.2))
    assert values == {"long": pytest.approx(1.0 - 0.9 * 3 / (LONG_POINTS - 1)), HTML_NAME: 1.7}


def test_clicking_a_curve_selects_its_run_and_hovering_a_row_highlights(qtbot, window, chart_store):
    open_experiment(qtbot, window, chart_store, "curves")
    chart_all(qtbot, window)
    chart = window.charts.charts["train/loss"]
    short_id = run_id_named(window, HTML_NAME)
    item = chart._curves[short_id].item
    item.sigClicked.emit(item, None)
    current = window.runs.view.selectionModel().currentIndex()
    assert window.runs.model.run_id(current) == short_id
    assert window.runs.selected_run_ids() == [short_id]
    assert item.opts["pen"].widthF() == 3.0
    qtbot.wait(300)  # the settled selection does not take the other runs off the chart
    assert len(chart.run_ids()) == 2

    long_id = run_id_named(window, "long")
    window.runs.view.entered.emit(window.runs.model.index_of_run(long_id))  # mouse over a row
    assert chart._curves[long_id].item.opts["pen"].widthF() == 3.0
    assert item.opts["pen"].widthF() == 1.5


def test_grouped_runs_plot_a_mean_and_band_per_group(qtbot, window, chart_store):
    open_experiment(qtbot, window, chart_store, "many")
    pane = window.runs
    pane.group_combo.setCurrentIndex(pane.group_combo.findText("Flat list"))
    pane.group_combo.activated.emit(pane.group_combo.currentIndex())
    chart_all(qtbot, window)
    assert len(window.charts.charts) == 10
    assert all(len(chart._curves) == MANY_RUNS for chart in window.charts.charts.values())
    first = window.charts.charts["m0"]._curves[run_id_named(window, "run-007")]
    np.testing.assert_array_equal(first.data.y, [7.0, 8.0, 9.0, 10.0, 11.0])

    window.charts.set_selection(
        window.runs.store,
        window.charts.runs,
        window.charts.metric_keys,
        groups=[
            ("low", [r.run_id for r in window.charts.runs[:100]]),
            ("high", [r.run_id for r in window.charts.runs[100:]]),
        ],
    )
    qtbot.waitUntil(lambda: not window.charts._pending, timeout=TIMEOUT)
    bands = window.charts.charts["m0"]._bands
    means = [item for item in bands if getattr(item, "name", lambda: None)()]
    assert len(means) == 2
    names = {item.name() for item in means}
    assert names == {"low (mean of 100)", "high (mean of 100)"}


def test_export_png_svg_and_csv(qtbot, window, chart_store, tmp_path):
    open_experiment(qtbot, window, chart_store, "curves")
    chart_all(qtbot, window)
    chart = window.charts.charts["train/loss"]
    write_export(chart, "png", str(tmp_path / "c.png"), 1600, 900, 200)
    image = QImage(str(tmp_path / "c.png"))
    assert (image.width(), image.height()) == (1600, 900)
    assert round(image.dotsPerMeterX() * 0.0254) == 200
    write_export(chart, "svg", str(tmp_path / "c.svg"), 0, 0, 0)
    assert "<svg" in (tmp_path / "c.svg").read_text()
    write_export(chart, "csv", str(tmp_path / "c.csv"), 0, 0, 0)
    import pandas as pd

    frame = pd.read_csv(tmp_path / "c.csv")
    assert len(frame) == LONG_POINTS + 10
    assert frame["value"].max() == 50.0
    assert math.isnan(
        frame.loc[(frame["run_name"] == "long") & (frame["step"] == 100), "value"].iloc[0]
    )


def test_refreshing_running_runs_keeps_the_zoom(qtbot, window, chart_store):
    open_experiment(qtbot, window, chart_store, "curves")
    chart_all(qtbot, window)
    chart = window.charts.charts["train/loss"]
    chart.getPlotItem().vb.setXRange(100, 200, padding=0)
    window.commands.action("view.auto_refresh").setChecked(True)  # the runs are still running
    with qtbot.waitSignal(window.charts.drawn, timeout=TIMEOUT):
        window.auto_timer.timeout.emit()  # the auto-refresh tick the user switched on
    qtbot.waitUntil(lambda: not window.charts._pending, timeout=TIMEOUT)
    x_range = chart.getPlotItem().vb.viewRange()[0]
    assert x_range == pytest.approx([100, 200])


def test_the_same_selection_again_keeps_the_charts_and_their_zoom(qtbot, window, chart_store):
    """A reload of the table restores the selection; the charts must not be drawn anew."""
    open_experiment(qtbot, window, chart_store, "curves")
    chart_all(qtbot, window)
    chart = window.charts.charts["train/loss"]
    chart.getPlotItem().vb.setXRange(100, 200, padding=0)
    window.current_experiment_page().charts_panel.follow_selection()
    assert not window.charts._pending and not window.charts.loading
    assert chart.getPlotItem().vb.viewRange()[0] == pytest.approx([100, 200])


def test_parallel_brushing_selects_runs_and_scatter_follows_the_selection(
    qtbot, window, chart_store
):
    open_experiment(qtbot, window, chart_store, "many")
    dock = window.current_experiment_page().charts_panel
    dock.tabs.setCurrentWidget(dock.parallel)
    window.runs.select_first(20)
    qtbot.waitUntil(lambda: len(dock.parallel.shown_run_ids()) == 20, timeout=TIMEOUT)
    assert set(dock.parallel.shown_run_ids()) == set(window.runs.selected_run_ids())
    picked = dock.parallel.shown_run_ids()[:5]
    dock.parallel.brushed.emit(picked)  # what releasing a brush on an axis emits
    assert set(window.runs.selected_run_ids()) == set(picked)
    qtbot.wait(300)  # the settled selection must not reset the parallel chart
    assert len(dock.parallel.shown_run_ids()) == 20

    dock.tabs.setCurrentWidget(dock.scatter)
    qtbot.waitUntil(lambda: len(dock.scatter.plotted_run_ids()) == 5, timeout=TIMEOUT)
    dock.scatter.run_clicked.emit(picked[2])
    current = window.runs.view.selectionModel().currentIndex()
    assert window.runs.model.run_id(current) == picked[2]
    window.grab().save("/tmp/flowdeck-scatter-tab.png")


def test_the_chart_menu_exports_through_the_dialog(qtbot, window, chart_store, tmp_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from flowdeck.ui.charts.export import ExportDialog

    open_experiment(qtbot, window, chart_store, "curves")
    chart_all(qtbot, window)
    target = tmp_path / "loss.csv"

    def fill_in() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ExportDialog)
        assert dialog.path_edit.text().endswith("train_loss.png")  # named after the metric
        dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("csv"))
        dialog.path_edit.setText(str(target))
        dialog.accept()

    QTimer.singleShot(0, fill_in)
    window.charts.charts["train/loss"].export_requested.emit()
    assert target.read_text().splitlines()[0] == "run_id,run_name,metric,step,value"


def test_chart_options_hidden_metrics_and_tab_persist(qtbot, isolated_settings):
    from flowdeck.ui.charts.panel import ChartsPanel
    from flowdeck.ui.runs.pane import RunsPane
    from flowdeck.ui.settings import Settings
    from flowdeck.ui.tasks import TaskRunner

    runner = TaskRunner()

    def panel() -> ChartsPanel:
        settings = Settings()
        made = ChartsPanel(runner, RunsPane(runner, settings), settings)
        qtbot.addWidget(made)
        return made

    first = panel()
    toolbar = first.charts.toolbar
    toolbar.log_box.setChecked(True)
    toolbar.smoothing.setValue(80)
    toolbar.set_metric_keys(["train/loss", "val/acc"])
    toolbar.metrics_menu.actions()[-1].setChecked(False)  # hide val/acc
    first.tabs.setCurrentIndex(2)

    again = panel()
    restored = again.charts.toolbar
    assert restored.log_box.isChecked()
    assert restored.options.smoothing == pytest.approx(0.8)
    assert restored.hidden_metrics == {"val/acc"}
    assert again.tabs.currentIndex() == SCATTER_TAB
    assert again.built_charts() == [again.charts]  # the scatter is made when first shown
    scatter = again.scatter
    assert again.tabs.currentWidget() is scatter


def test_parallel_and_scatter_are_made_when_their_tab_is_first_shown(qtbot, window, chart_store):
    open_experiment(qtbot, window, chart_store, "many")
    dock = window.current_experiment_page().charts_panel
    assert dock.built_charts() == [dock.charts]
    window.runs.select_first(10)
    dock.tabs.setCurrentIndex(PARALLEL_TAB)  # what clicking the tab does
    qtbot.waitUntil(lambda: dock.tabs.currentWidget() is dock.built_charts()[-1], timeout=TIMEOUT)
    parallel = dock.tabs.currentWidget()
    qtbot.waitUntil(lambda: len(parallel.shown_run_ids()) == 10, timeout=TIMEOUT)
    assert parallel is dock.parallel and dock.built_charts() == [dock.charts, parallel]
    dock.tabs.setCurrentIndex(SCATTER_TAB)
    qtbot.waitUntil(lambda: len(dock.built_charts()) == 3, timeout=TIMEOUT)
    assert dock.tabs.currentWidget() is dock.scatter
    qtbot.waitUntil(lambda: len(dock.scatter.plotted_run_ids()) == 10, timeout=TIMEOUT)


def test_a_log_axis_shorter_than_a_decade_still_has_labels(qapp):
    from flowdeck.ui.charts.log_axis import MetricAxis

    axis = MetricAxis("left")
    axis.setLogMode(False, True)
    levels = axis.tickValues(math.log10(0.969), math.log10(0.972), 200)
    values = [value for _spacing, level in levels for value in level]
    labels = axis.tickStrings(values, 1.0, levels[0][0])
    assert len(labels) >= 2
    assert all(0.969 <= float(label) <= 0.972 for label in labels)
    wide = axis.tickValues(-3.0, 1.0, 200)  # four decades: pyqtgraph's own 10^n ticks
    assert any(value == -2.0 for _spacing, level in wide for value in level)


def test_the_crosshair_tooltip_lists_each_run_in_plain_text(qtbot, window, chart_store):
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QToolTip

    open_experiment(qtbot, window, chart_store, "curves")
    chart_all(qtbot, window)
    chart = window.charts.charts["train/loss"]
    chart.getPlotItem().vb.setXRange(0, 9, padding=0)
    centre = chart.getPlotItem().vb.sceneBoundingRect().center()
    chart.scene().sigMouseMoved.emit(QPointF(centre))  # what moving the mouse there emits
    assert chart._crosshair.isVisible()
    text = QToolTip.text()
    assert "&lt;b&gt;bold&lt;/b&gt; run: " in text and "long: " in text


def test_a_store_broken_after_opening_gives_a_plain_message(qtbot, window, chart_store, tmp_path):
    import shutil

    copy = tmp_path / "mlflow.db"
    shutil.copy(chart_store, copy)
    open_experiment(qtbot, window, copy, "curves")
    window.runs.store.close()  # no pooled connection survives the damage below
    copy.write_bytes(b"this is no longer a database" * 100)
    with qtbot.waitSignal(window.charts.drawn, timeout=TIMEOUT):
        window.runs.select_first(2)
    text = window.charts.text.text()
    assert window.charts.pages.currentWidget() is window.charts.text
    assert "database" in text.lower() and "Traceback" not in text and "bug" not in text, text
    assert copy.read_bytes() == b"this is no longer a database" * 100  # left as it was


def test_many_runs_are_a_few_plot_items_that_still_name_each_run(qtbot, window, chart_store):
    import pyqtgraph as pg
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtWidgets import QToolTip

    from flowdeck.ui.charts.metric_chart import LEAD

    open_experiment(qtbot, window, chart_store, "many")
    pane = window.runs
    pane.group_combo.setCurrentIndex(pane.group_combo.findText("Flat list"))
    pane.group_combo.activated.emit(pane.group_combo.currentIndex())
    chart_all(qtbot, window)
    chart = window.charts.charts["m0"]
    curves = [i for i in chart.getPlotItem().vb.addedItems if isinstance(i, pg.PlotCurveItem)]
    table = window.runs.model.table()
    palette = set(table.colours)  # one item per colour of the table's palette, not per run
    assert len(chart.run_ids()) == MANY_RUNS and len(palette) < MANY_RUNS / 10
    assert len([item for item in curves if item.isVisible()]) == len(palette)
    assert len(curves) < MANY_RUNS / 4  # hidden per-run items are not kept around either
    assert sum(len(item.getData()[0]) for item in chart.bundle_items()) == MANY_RUNS * 5
    assert {item.opts["pen"].color().name() for item in chart.bundle_items()} == palette

    run_7 = run_id_named(window, "run-007")  # m0 of run n at step s is n + s: (2, 9) is run 7's
    vb = chart.getPlotItem().vb
    vb.setRange(xRange=(1.5, 2.5), yRange=(8.5, 9.5), padding=0)
    on_curve = vb.mapViewToScene(QPointF(2.0, 9.0))
    assert chart.run_at(on_curve) == run_7
    assert chart.run_at(vb.mapViewToScene(QPointF(2.0, 9.45))) is None  # between two runs
    chart.scene().sigMouseMoved.emit(QPointF(on_curve))  # hovering names it first
    assert QToolTip.text().split("\n")[1].startswith(f"{LEAD}run-007: 9")
    qtbot.mouseClick(chart.viewport(), Qt.MouseButton.LeftButton, pos=chart.mapFromScene(on_curve))
    qtbot.waitUntil(lambda: window.runs.selected_run_ids() == [run_7], timeout=5000)

    window.charts.highlight(run_7)  # as when the mouse is over its row
    assert chart._lead.isVisible() and chart._lead.opts["pen"].widthF() == 3.0
    np.testing.assert_array_equal(chart._lead.getData()[1], [7.0, 8.0, 9.0, 10.0, 11.0])
    chart.set_hidden({run_7})
    assert not chart._lead.isVisible()
    assert sum(len(item.getData()[0]) for item in chart.bundle_items()) == (MANY_RUNS - 1) * 5
    assert chart.run_at(on_curve) is None
    chart.set_hidden(set())

    window.charts.toolbar.smoothing.setValue(50)  # the raw curves stay behind, faint, bundled too
    raw = [item for item in chart.bundle_items() if item.zValue() < 0]
    assert len(raw) == len(palette) and len(chart.bundle_items()) == 2 * len(palette)
    window.charts.toolbar.smoothing.setValue(0)
    assert not [item for item in chart.bundle_items() if item.zValue() < 0]


def test_charts_made_while_the_curves_load_go_on_screen_with_their_curves(
    qtbot, window, chart_store
):
    """Shown empty, every new chart on screen would lay out and paint at once, then again
    with its curves; each goes into its cell (replacing a placeholder) once it is filled."""
    from PySide6.QtCore import QTimer

    from flowdeck.ui.charts.metric_chart import MetricChart

    open_experiment(qtbot, window, chart_store, "many")
    view = window.charts
    seen: list[tuple[str, bool, bool]] = []  # (metric, on screen, has curves) every tick

    def look() -> None:
        seen.extend((k, c.isVisible(), bool(c.run_ids())) for k, c in view.charts.items())

    ticker = QTimer(interval=1)
    ticker.timeout.connect(look)
    ticker.start()
    chart_all(qtbot, window, 20)
    ticker.stop()
    assert len(view.charts) == 10
    assert not [(key, shown) for key, shown, filled in seen if shown and not filled]
    placed = view.grid_host.findChildren(MetricChart)
    assert all(chart.isVisible() and len(chart.run_ids()) == 20 for chart in placed)
    assert sorted(chart.metric_key for chart in placed) == sorted(view.charts)
    assert not [
        w
        for w in view.grid_host.findChildren(type(view.grid_host))
        if w.isVisible() and type(w).__name__ == "_Placeholder"
    ]
