"""Chart export: PNG pixel size and DPI, SVG drawing, CSV data, and the export dialog."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pandas as pd
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog
from tests.helpers.comparison_runs import shown_chart

from flowdeck.core.runs_table import RunsTable
from flowdeck.ui.charts.export import (
    ExportChoice,
    ExportDialog,
    export_png,
    export_svg,
    write_export,
)
from flowdeck.ui.charts.parallel import ParallelCoordinates
from flowdeck.ui.charts.scatter import ScatterChart
from flowdeck.ui.settings import Settings

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def parallel(qtbot, comparison_table: RunsTable) -> ParallelCoordinates:
    return shown_chart(qtbot, ParallelCoordinates(), (900, 450), comparison_table)


@pytest.fixture
def scatter(qtbot, comparison_table: RunsTable) -> ScatterChart:
    return shown_chart(qtbot, ScatterChart(), (700, 450), comparison_table)


def _colours(image: QImage) -> set[str]:
    step = 3
    return {
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), step)
        for y in range(0, image.height(), step)
    }


@pytest.mark.parametrize(
    ("width", "height", "dpi"), [(1600, 900, 200), (640, 480, 96), (333, 777, 72)]
)
def test_png_has_the_asked_pixels_and_dpi(
    parallel, comparison_table, tmp_path, width, height, dpi
) -> None:
    size_before = parallel.plot.size()
    path = tmp_path / "chart.png"
    export_png(parallel.plot, str(path), width, height, dpi)
    image = QImage(str(path))
    assert not image.isNull()
    assert (image.width(), image.height()) == (width, height)
    assert round(image.dotsPerMeterX() * 0.0254) == dpi
    assert round(image.dotsPerMeterY() * 0.0254) == dpi
    run_colours = {QColor(c).name() for c in comparison_table.colours}
    assert _colours(image) & run_colours  # the runs' lines are in it
    assert parallel.plot.size() == size_before  # the chart on screen is as it was


def test_svg_is_an_svg_drawing_with_the_chart(scatter, tmp_path) -> None:
    path = tmp_path / "chart.svg"
    export_svg(scatter.plot, str(path), 800, 600)
    root = ElementTree.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 800 600"
    shapes = root.findall(f".//{SVG}path") + root.findall(f".//{SVG}polyline")
    assert len(shapes) > len(scatter.plotted_run_ids())
    texts = {"".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")}
    assert scatter.x_combo.currentText() in texts and scatter.y_combo.currentText() in texts


def test_write_export_writes_the_chart_data_as_csv(parallel, comparison_frame, tmp_path) -> None:
    path = tmp_path / "data.csv"
    choice = ExportChoice("csv", str(path), 100, 100, 96)
    write_export(choice, parallel.plot, parallel.write_csv)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["run_id", "name", *parallel.columns()]
    assert [row["run_id"] for row in rows] == list(comparison_frame["run_id"])
    loss = dict(zip(comparison_frame["run_id"], comparison_frame["metrics.loss"], strict=True))
    for row in rows:
        expected = loss[row["run_id"]]
        assert row["metrics.loss"] == ("" if pd.isna(expected) else str(expected))


def test_export_to_a_folder_that_does_not_exist_raises_oserror(parallel, tmp_path) -> None:
    with pytest.raises(OSError):
        export_png(parallel.plot, str(tmp_path / "missing" / "x.png"), 100, 100, 96)
    with pytest.raises(OSError):
        export_svg(parallel.plot, str(tmp_path / "missing" / "x.svg"))


def test_dialog_returns_the_choice_and_remembers_it(qtbot, tmp_path: Path) -> None:
    settings = Settings()
    dialog = ExportDialog(settings=settings, file_stem="loss", size=(640, 480))
    qtbot.addWidget(dialog)
    assert dialog.format() == "png" and dialog.path_edit.text().endswith("loss.png")
    assert (dialog.width_spin.value(), dialog.height_spin.value()) == (640, 480)
    dialog.path_edit.setText(str(tmp_path / "curves.png"))
    dialog.set_format("svg")
    assert dialog.path_edit.text() == str(tmp_path / "curves.svg")
    assert not dialog.dpi_spin.isEnabled() and dialog.width_spin.isEnabled()
    dialog.set_format("csv")
    assert dialog.path_edit.text() == str(tmp_path / "curves.csv")
    assert not dialog.width_spin.isEnabled()
    dialog.set_format("png")
    assert dialog.dpi_spin.isEnabled()
    dialog.width_spin.setValue(2000)
    dialog.height_spin.setValue(1000)
    dialog.dpi_spin.setValue(300)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.choice() == ExportChoice("png", str(tmp_path / "curves.png"), 2000, 1000, 300)

    settings.sync()
    reread = Settings(QSettings(settings.file_name, QSettings.Format.IniFormat))
    again = ExportDialog(settings=reread, file_stem="acc", size=(10, 10))
    qtbot.addWidget(again)
    assert again.choice() == ExportChoice("png", str(tmp_path / "acc.png"), 2000, 1000, 300)


def test_dialog_needs_a_file_and_browse_keeps_the_extension(qtbot, monkeypatch, tmp_path) -> None:
    dialog = ExportDialog(settings=Settings())
    qtbot.addWidget(dialog)
    dialog.path_edit.clear()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.set_format("svg")
    asked = []

    def pick(parent, caption, path, filters):  # the native dialog cannot run in a test
        asked.append(filters)
        return str(tmp_path / "picked"), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(pick))
    qtbot.mouseClick(dialog.browse_button, Qt.MouseButton.LeftButton)
    assert asked == ["SVG drawing (*.svg)"]
    assert dialog.path_edit.text() == str(tmp_path / "picked.svg") and ok.isEnabled()
