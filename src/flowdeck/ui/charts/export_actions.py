"""Exporting one metric chart: the chart as PNG or SVG, or the raw data behind it as CSV."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from flowdeck.core.chart_export import write_chart_csv
from flowdeck.ui.charts import export
from flowdeck.ui.charts.export import ExportChoice
from flowdeck.ui.charts.metric_chart import MetricChart


def export_chart(chart: MetricChart, parent: QWidget) -> ExportChoice | None:
    """Ask where and how with the export dialog, then write the file (None: cancelled)."""
    stem = re.sub(r"[^\w.-]+", "_", chart.metric_key).strip("_") or "chart"
    return export.export_chart(parent, chart.getPlotItem(), _csv_writer(chart), file_stem=stem)


def write_export(
    chart: MetricChart, file_format: str, path: str, width: int, height: int, dpi: int
) -> None:
    """Write ``chart`` to ``path`` as ``png``, ``svg`` or ``csv`` (its raw data)."""
    choice = ExportChoice(file_format.lower(), path, width, height, dpi)
    export.write_export(choice, chart.getPlotItem(), _csv_writer(chart))


def _csv_writer(chart: MetricChart) -> Callable[[str], None]:
    return lambda path: write_chart_csv(path, chart.export_curves())
