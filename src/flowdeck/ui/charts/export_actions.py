"""Exporting one chart: ask where and how, then write PNG, SVG or the CSV of its data."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from flowdeck.core.chart_export import write_chart_csv
from flowdeck.ui.charts.export import ExportDialog, export_png, export_svg
from flowdeck.ui.charts.metric_chart import MetricChart


def export_chart(chart: MetricChart, parent: QWidget) -> str | None:
    """Show the export dialog for ``chart`` and write the file; returns its path or None."""
    dialog = ExportDialog(parent)
    if dialog.exec() != ExportDialog.DialogCode.Accepted:
        return None
    choice = dialog.choice()
    try:
        write_export(chart, choice.format, choice.path, choice.width, choice.height, choice.dpi)
    except OSError as error:
        QMessageBox.warning(parent, "Flowdeck", f"The chart could not be saved: {error}")
        return None
    return choice.path


def write_export(
    chart: MetricChart, file_format: str, path: str, width: int, height: int, dpi: int
) -> None:
    """Write ``chart`` to ``path`` as ``png``, ``svg`` or ``csv`` (its raw data)."""
    kind = file_format.lower()
    if kind == "csv":
        write_chart_csv(path, chart.export_curves())
    elif kind == "svg":
        export_svg(chart.getPlotItem(), path)
    else:
        export_png(chart.getPlotItem(), path, width, height, dpi)
