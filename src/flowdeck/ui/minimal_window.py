"""A minimal main window: the store's experiments and runs in a tree, loaded off the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QThreadPool, Signal
from PySide6.QtGui import QCloseEvent, QStandardItem, QStandardItemModel, Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QTreeView,
    QWidget,
)

from flowdeck.store.base import Store
from flowdeck.ui.experiment_loader import ExperimentLoader, RunRow, StoreOverview

MAX_RUNS_PER_EXPERIMENT = 500
HEADERS = ["Name", "ID", "Runs · status"]
DEFAULT_EXPERIMENT_ID = "0"


class MinimalWindow(QMainWindow):
    """Lists a store's experiments (with their runs as children) and shows errors in plain words."""

    loaded = Signal()
    failed = Signal(str)

    def __init__(
        self,
        store: Store | None,
        title_name: str,
        open_error: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle(f"Flowdeck — {title_name}")
        self.resize(900, 600)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._loader: ExperimentLoader | None = None

        self.model = QStandardItemModel(0, len(HEADERS), self)
        self.model.setHorizontalHeaderLabels(HEADERS)
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setEditTriggers(QTreeView.EditTrigger.NoEditTriggers)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)

        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setMargin(24)

        self.pages = QStackedWidget()
        self.pages.addWidget(self.tree)
        self.pages.addWidget(self.message)
        self.setCentralWidget(self.pages)

        self.read_only_badge = QLabel("Read-only")
        self.read_only_badge.setTextFormat(Qt.TextFormat.PlainText)
        self.read_only_badge.setStyleSheet("QLabel { padding: 0 8px; font-weight: bold; }")
        self.read_only_badge.hide()
        self.statusBar().addPermanentWidget(self.read_only_badge)

        if open_error is not None or store is None:
            self.show_error(open_error or "No store to open.")

    # --- loading ----------------------------------------------------------------------------

    def start_loading(self) -> None:
        """Load the experiments on the thread pool; ``loaded`` or ``failed`` follows."""
        if self.store is None:
            return
        self.statusBar().showMessage("Loading experiments…")
        self._loader = ExperimentLoader(self.store)
        self._loader.setAutoDelete(False)
        self._loader.signals.loaded.connect(self._show_overview)
        self._loader.signals.failed.connect(self._show_failure)
        self.pool.start(self._loader)

    def _show_overview(self, overview: StoreOverview) -> None:
        self.model.removeRows(0, self.model.rowCount())
        total_runs = 0
        for experiment in overview.experiments:
            total_runs += len(experiment.runs)
            row = [
                _item(experiment.name),
                _item(experiment.experiment_id),
                _item(str(len(experiment.runs))),
            ]
            _add_runs(row[0], experiment.runs[:MAX_RUNS_PER_EXPERIMENT])
            hidden = len(experiment.runs) - MAX_RUNS_PER_EXPERIMENT
            if hidden > 0:
                row[0].appendRow([_item(f"… {hidden} more runs"), _item(""), _item("")])
            self.model.appendRow(row)
        with_runs = [r for r in range(self.model.rowCount()) if self.model.item(r).hasChildren()]
        first_with_runs = next(
            (r for r in with_runs if self.model.item(r, 1).text() != DEFAULT_EXPERIMENT_ID),
            with_runs[0] if with_runs else None,
        )
        if first_with_runs is not None:
            self.tree.expand(self.model.index(first_with_runs, 0))
        self._show_read_only(overview.read_only_reason)
        self.pages.setCurrentWidget(self.tree)
        count = len(overview.experiments)
        self.statusBar().showMessage(
            f"{count} experiment{'s' * (count != 1)}, {total_runs} run{'s' * (total_runs != 1)}"
        )
        self.loaded.emit()

    def _show_failure(self, message: str, detail: str) -> None:
        self.show_error(message, detail)

    def show_error(self, message: str, detail: str = "") -> None:
        """Replace the list by a plain-text message (the detail goes into its tooltip)."""
        self.message.setText(message)
        self.message.setToolTip(Qt.convertFromPlainText(detail) if detail else "")
        self.pages.setCurrentWidget(self.message)
        self.statusBar().showMessage("Could not open the store")
        self.failed.emit(message)

    def _show_read_only(self, reason: str | None) -> None:
        self.read_only_badge.setVisible(bool(reason))
        self.read_only_badge.setToolTip(Qt.convertFromPlainText(reason) if reason else "")

    # --- lifetime ------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.pool.waitForDone(5000)
        if self.store is not None:
            self.store.close()
        super().closeEvent(event)


def _add_runs(experiment_item: QStandardItem, runs: list[RunRow]) -> None:
    """Runs under their experiment; nested runs under their parent run when it is listed."""
    items = {run.run_id: [_item(run.name), _item(run.run_id), _item(run.status)] for run in runs}
    for run in runs:
        parent = items.get(run.parent_id or "") if run.parent_id != run.run_id else None
        (parent[0] if parent else experiment_item).appendRow(items[run.run_id])


def _item(text: str) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    return item
