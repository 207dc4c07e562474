"""Applies and remembers the runs table's columns (order, visibility, widths) per experiment."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeView, QWidget

from flowdeck.core.runs_table import SWATCH
from flowdeck.ui.runs.column_chooser import ColumnChooser, ColumnSpec
from flowdeck.ui.runs.model import RunsTreeModel
from flowdeck.ui.settings import Settings

GROUP_TITLES = {
    "fixed": "Run",
    "param": "Params",
    "metric": "Metrics",
    "metric_min": "Metric min",
    "metric_max": "Metric max",
    "metric_min_step": "Best step",
    "metric_max_step": "Best step",
    "tag": "Tags",
}
DEFAULT_WIDTHS = {SWATCH: 28, "name": 240, "status": 100, "start_time": 140, "duration": 80}
OTHER_WIDTH = 110


def experiment_key(experiment_ids: list[str]) -> str:
    return ",".join(sorted(experiment_ids))


class ColumnLayout:
    """Saved layouts are {'visible': ids in order, 'known': every id then, 'widths': {id: px}}."""

    def __init__(self, view: QTreeView, model: RunsTreeModel, settings: Settings) -> None:
        self.view = view
        self.model = model
        self.settings = settings

    def saved(self, store: str, experiment_ids: list[str]) -> dict:
        return self.settings.column_layout(store, experiment_key(experiment_ids))

    def apply(self, store: str, experiment_ids: list[str]) -> None:
        """Show the saved columns (plus columns new since then) with their widths."""
        layout = self.saved(store, experiment_ids)
        specs = self.model.column_specs()
        ids = {spec.id for spec in specs}
        visible = layout.get("visible")
        if isinstance(visible, list):
            known = set(layout.get("known") or visible)
            new = [spec.id for spec in specs if spec.default_visible and spec.id not in known]
            wanted = [i for i in visible if i in ids] + new
            if wanted != self.model.visible_column_ids():
                self.model.set_visible_columns(wanted)
        self.apply_widths(layout)

    def apply_widths(self, layout: dict) -> None:
        widths = layout.get("widths") if isinstance(layout.get("widths"), dict) else {}
        header = self.view.header()
        header.blockSignals(True)
        for section, column_id in enumerate(self.model.visible_column_ids()):
            width = widths.get(column_id) or DEFAULT_WIDTHS.get(column_id, OTHER_WIDTH)
            self.view.setColumnWidth(section, int(width))
        header.blockSignals(False)

    def save(self, store: str, experiment_ids: list[str]) -> None:
        header = self.view.header()
        visible = self.model.visible_column_ids()
        layout = {
            "visible": visible,
            "known": [spec.id for spec in self.model.column_specs()],
            "widths": {
                **dict(self.saved(store, experiment_ids).get("widths") or {}),
                **{column_id: header.sectionSize(i) for i, column_id in enumerate(visible)},
            },
        }
        self.settings.set_column_layout(store, experiment_key(experiment_ids), layout)

    def choose(self, store: str, experiment_ids: list[str], parent: QWidget) -> ColumnChooser:
        """Open the column chooser; each change applies at once and is remembered."""
        specs = [
            ColumnSpec(spec.id, spec.title or "Colour", GROUP_TITLES.get(spec.kind, spec.kind))
            for spec in self.model.column_specs()
        ]
        chooser = ColumnChooser(specs, {"visible": self.model.visible_column_ids()}, parent)
        chooser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def changed(ids: list[str]) -> None:
            widths = dict(self.saved(store, experiment_ids).get("widths") or {})
            self.model.set_visible_columns(ids)
            self.apply_widths({"widths": widths})
            if store:
                self.save(store, experiment_ids)

        chooser.layout_changed.connect(changed)
        chooser.show()
        return chooser
