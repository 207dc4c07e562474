"""Logged models side by side: facts, params, metrics and tags, with differences in bold."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.entities import LoggedModel
from flowdeck.core.text_format import short_id
from flowdeck.ui.labels import plain_label
from flowdeck.ui.pages.logged_models.reads import compare_models


class CompareLoggedModelsDialog(QDialog):
    """A read-only table: one column per model, one row per fact, param, metric or tag."""

    def __init__(self, models: Sequence[LoggedModel], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare {len(models)} Logged Models")
        rows = compare_models(models)
        self.table = QTableWidget(len(rows), len(models) + 1)
        self.table.setHorizontalHeaderLabels(
            ["", *(f"{m.name or short_id(m.model_id)} ({short_id(m.model_id)})" for m in models)]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setStretchLastSection(True)
        bold = QFont()
        bold.setBold(True)
        section = ""
        for index, row in enumerate(rows):
            name = row.name if row.section == section else f"{row.section}: {row.name}"
            section = row.section
            self.table.setItem(index, 0, QTableWidgetItem(name))
            for column, value in enumerate(row.values, start=1):
                item = QTableWidgetItem(value)
                if row.differs:
                    item.setFont(bold)
                self.table.setItem(index, column, item)
        self.table.resizeColumnsToContents()
        self.differences = sum(1 for row in rows if row.differs)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(f"{self.differences} rows differ (in bold)."))
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(900, 560)
