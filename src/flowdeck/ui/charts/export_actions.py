"""Exporting one metric chart: the chart as PNG or SVG, or the raw data behind it as CSV."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QWidget

from flowdeck.core.chart_export import write_chart_csv
from flowdeck.ui.charts.export import ExportChoice, export_png, export_svg
from flowdeck.ui.charts.export import export_chart as ask_and_export
from flowdeck.ui.charts.metric_chart import MetricChart


def export_chart(chart: MetricChart, parent: QWidget) -> ExportChoice | None:
    """Ask where and how with the export dialog, then write the file (None: cancelled)."""
    stem = re.sub(r"[^\w.-]+", "_", chart.metric_key).strip("_") or "chart"
    return ask_and_export(
        parent,
        chart.getPlotItem(),
        lambda path: write_chart_csv(path, chart.export_curves()),
        file_stem=stem,
    )


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
