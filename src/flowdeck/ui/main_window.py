"""The main window: stores and experiments in a dock, the runs pane, menus and the status bar."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QWidget,
)

from flowdeck.core.errors import FlowdeckError
from flowdeck.core.filter_check import check_run_filter
from flowdeck.store.base import Store
from flowdeck.ui.charts.dock import add_charts_dock
from flowdeck.ui.edit.run_actions import RunActions
from flowdeck.ui.heap import settle_heap
from flowdeck.ui.open_store_dialog import (
    OpenStoreDialog,
    locations_from_mime,
    open_chosen_store,
    remembered_options,
)
from flowdeck.ui.runs.pane import RunsPane
from flowdeck.ui.settings import Settings
from flowdeck.ui.sidebar import Sidebar
from flowdeck.ui.sidebar.model import rich_tooltip
from flowdeck.ui.tasks import TaskRunner
from flowdeck.ui.theme import MODES, apply_theme

AUTO_REFRESH_MS = 10_000
FILTER_WARM_UP_DELAY_MS = 3_000
THEME_TITLES = {"system": "Follow the System", "light": "Light", "dark": "Dark"}


def _open_store(_state: Any, location: str, options: dict[str, str] | None) -> Store:
    """Worker-thread body: the backend's imports and the keyring can take a second."""
    if options is None:
        try:
            options = remembered_options(location)
        except Exception:  # no usable keyring, or a location it cannot parse: open as given
            options = {}
    return open_chosen_store(location, options)


class MainWindow(QMainWindow):
    """Open stores side by side; the runs of the selected experiments fill the window."""

    store_opened = Signal(object)  # Store, added to the sidebar (or selected again)
    open_failed = Signal(str)  # plain message (also shown in a message box)

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or Settings()
        self.runner = TaskRunner(self)
        self.locations: dict[int, str] = {}  # id(store) -> location it was opened from
        self.last_message: QMessageBox | None = None
        self._filter_parser_warmed = False
        self.persist_state = True  # False for scripted snapshots: leave the user's layout alone
        self.setWindowTitle("Flowdeck")
        self.setAcceptDrops(True)
        self.resize(1280, 800)

        self.sidebar = Sidebar(self.runner)
        self.dock = QDockWidget("Experiments", self)
        self.dock.setObjectName("experiments_dock")
        self.dock.setWidget(self.sidebar)
        self.dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        self.resizeDocks([self.dock], [280], Qt.Orientation.Horizontal)

        self.runs = RunsPane(self.runner, self.settings, self)
        self.runs.with_summaries = self.settings.value("metric_summaries", False, bool)
        self.setCentralWidget(self.runs)
        self.run_actions = RunActions(self.runner, dialog_parent=self, parent=self)
        self.runs.view.addActions(self.run_actions.actions())
        self.charts_dock = add_charts_dock(self, self.runner, self.runs, self.settings)
        self.charts = self.charts_dock.charts

        self._build_status_bar()
        self._build_menus()
        self._connect()
        self.auto_timer = QTimer(self, interval=AUTO_REFRESH_MS)
        self.auto_timer.timeout.connect(self._auto_refresh)
        self.auto_timer.start()
        self.restoreGeometry(self.settings.window_geometry)
        self.restoreState(self.settings.window_state)

    # --- construction ------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop loading the runs")
        self.cancel_button.hide()
        self.read_only_badge = QLabel("Read-only", self)
        self.read_only_badge.setTextFormat(Qt.TextFormat.PlainText)
        self.read_only_badge.setStyleSheet("QLabel { padding: 0 8px; font-weight: bold; }")
        self.read_only_badge.hide()
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.read_only_badge)

    def _action(
        self, text: str, slot: object, shortcut: str = "", checkable: bool = False
    ) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = self._action("&Open Store…", self.open_store_dialog, "Ctrl+O")
        file_menu.addAction(self.open_action)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addMenu(self.recent_menu)
        self.close_store_action = self._action("&Close Store", self.close_current_store, "Ctrl+W")
        file_menu.addAction(self.close_store_action)
        file_menu.addSeparator()
        self.export_action = self._action("&Export CSV…", self.runs.export_dialog)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, "Ctrl+Q"))

        view_menu = self.menuBar().addMenu("&View")
        self.refresh_action = self._action("&Refresh", self.refresh, "F5")
        self.auto_refresh_action = self._action(
            "&Auto-refresh While Runs Are Running", self._auto_refresh_toggled, checkable=True
        )
        self.auto_refresh_action.setChecked(self.settings.value("auto_refresh", False, bool))
        view_menu.addActions([self.refresh_action, self.auto_refresh_action])
        view_menu.addSeparator()
        self.deleted_experiments_action = self._action(
            "Show Deleted &Experiments", self.sidebar.show_deleted.setChecked, checkable=True
        )
        self.deleted_runs_action = self._action(
            "Show &Deleted Runs", self.runs.filter_bar.deleted_button.setChecked, checkable=True
        )
        self.summaries_action = self._action(
            "Metric &Min/Max Columns", self._summaries_toggled, checkable=True
        )
        self.summaries_action.setChecked(self.runs.with_summaries)
        view_menu.addActions(
            [self.deleted_experiments_action, self.deleted_runs_action, self.summaries_action]
        )
        view_menu.addSeparator()
        theme_menu = view_menu.addMenu("&Theme")
        self.theme_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for mode in MODES:
            action = self._action(THEME_TITLES[mode], lambda _c=False, m=mode: self.set_theme(m))
            action.setCheckable(True)
            action.setChecked(mode == self.settings.theme)
            group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[mode] = action
        view_menu.addSeparator()
        view_menu.addAction(self.dock.toggleViewAction())
        charts_toggle = self.charts_dock.toggleViewAction()
        charts_toggle.setShortcut(QKeySequence("Ctrl+Shift+C"))
        view_menu.addAction(charts_toggle)

        runs_menu = self.menuBar().addMenu("&Runs")
        runs_menu.addActions(self.run_actions.actions())
        runs_menu.addSeparator()
        runs_menu.addAction(self.export_action)
        self.runs.view.addAction(self.export_action)

    def _connect(self) -> None:
        self.sidebar.experiments_selected.connect(self._experiments_selected)
        self.sidebar.model.store_loaded.connect(lambda _store: self._update_store_state())
        self.sidebar.model.store_failed.connect(self._store_failed)
        self.sidebar.show_deleted.toggled.connect(self.deleted_experiments_action.setChecked)
        self.runs.filter_bar.deleted_button.toggled.connect(self.deleted_runs_action.setChecked)
        self.runs.selection_changed.connect(self._runs_selected)
        self.runs.loading_changed.connect(self._loading_changed)
        self.runs.loaded.connect(self._runs_loaded)
        self.runs.load_failed.connect(lambda text: self.statusBar().showMessage(text))
        self.runs.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.runner.progress.connect(self._progress)
        self.charts.progress.connect(
            lambda text, done, total: self.statusBar().showMessage(f"{text} {done}/{total} runs")
        )
        self.charts.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.charts.drawn.connect(self._charts_drawn)
        self.cancel_button.clicked.connect(self.runs.cancel_load)
        self.run_actions.changed.connect(lambda _change: self.runs.reload(keep_view=True))
        self.run_actions.failed.connect(self.show_message)
        self.run_actions.status.connect(lambda text: self.statusBar().showMessage(text, 8000))

    # --- stores ------------------------------------------------------------------------------

    def stores(self) -> list[Store]:
        return self.sidebar.model.stores

    def open_location(self, location: str, options: dict[str, str] | None = None) -> None:
        """Open a store beside the others, off the GUI thread (``store_opened`` follows).

        An already open location is selected again; errors become a plain message."""
        location = location.strip()
        for store in self.stores():
            if self.locations.get(id(store)) == location:
                self.sidebar.tree.setCurrentIndex(
                    self.sidebar.proxy.mapFromSource(self.sidebar.model.store_index(store))
                )
                self.store_opened.emit(store)
                return
        self.statusBar().showMessage(f"Opening {location}…")
        self.runner.submit(
            _open_store,
            location,
            options,
            on_result=lambda store: self._store_opened(location, store),
            on_error=self._open_failed,
        )

    def _store_opened(self, location: str, store: Store) -> None:
        self.locations[id(store)] = location
        self.sidebar.add_store(store)
        self.settings.remember_store(location)
        self.statusBar().showMessage(f"Opened {store.display_name}", 5000)
        self.store_opened.emit(store)

    def _open_failed(self, error: BaseException, _details: str) -> None:
        if not isinstance(error, FlowdeckError):
            sys.excepthook(type(error), error, error.__traceback__)
            error = FlowdeckError(f"Flowdeck could not open the store: {error}")
        self.statusBar().showMessage("Could not open the store")
        self.show_message(error.message)
        self.open_failed.emit(error.message)

    def open_store_dialog(self) -> None:
        dialog = OpenStoreDialog(self.settings.recent_stores, self)
        if dialog.exec() == OpenStoreDialog.DialogCode.Accepted:
            self.open_location(dialog.result_location(), dialog.result_options())

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for location in self.settings.recent_stores:
            action = self.recent_menu.addAction(location)
            action.triggered.connect(lambda _c=False, loc=location: self.open_location(loc))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("No recent stores").setEnabled(False)

    def current_store(self) -> Store | None:
        store, _entries = self.sidebar.current_selection()
        if store is None and len(self.stores()) == 1:
            return self.stores()[0]
        return store

    def close_current_store(self) -> None:
        store = self.current_store()
        if store is None:
            return
        # Removing its rows may re-emit its selection: forget the store only afterwards.
        self.sidebar.remove_store(store)
        if self.runs.store is store:
            self.runs.set_source(None, [])
            self.run_actions.set_context(None, [])
        self.locations.pop(id(store), None)
        store.close()
        self._update_store_state()

    def select_experiment_named(self, store: Store, name: str) -> bool:
        """Select the experiment called ``name`` (once the store's experiments are listed)."""
        found = [e for e in self.sidebar.model.experiments_of(store) if e.name == name]
        if not found:
            return False
        if found[0].deleted:
            self.sidebar.show_deleted.setChecked(True)
        self.sidebar.select_experiments(store, [found[0].experiment_id])
        return True

    def _experiments_selected(self, store: Store | None, experiment_ids: list[str]) -> None:
        self.runs.set_source(store, experiment_ids)
        self.run_actions.set_context(store, [])
        self._update_store_state()

    def _store_failed(self, store: Store, message: str) -> None:
        self.statusBar().showMessage(f"{store.display_name}: {message}")

    def _update_store_state(self) -> None:
        store = self.runs.store or self.current_store()
        title = store.display_name if store is not None else ""
        self.setWindowTitle(f"Flowdeck — {title}" if title else "Flowdeck")
        reason = self.sidebar.model.read_only_reason(store) if store is not None else None
        self.read_only_badge.setVisible(bool(reason))
        self.read_only_badge.setToolTip(rich_tooltip(reason) if reason else "")
        self.close_store_action.setEnabled(store is not None)

    # --- runs --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the runs, keeping the selection and the scroll position."""
        self.runs.reload(keep_view=True)

    def _auto_refresh(self) -> None:
        if (
            self.auto_refresh_action.isChecked()
            and not self.runs.loading
            and self.runs.has_running()
        ):
            self.runs.reload(keep_view=True)

    def _auto_refresh_toggled(self, checked: bool) -> None:
        self.settings.set_value("auto_refresh", checked)

    def _summaries_toggled(self, checked: bool) -> None:
        self.settings.set_value("metric_summaries", checked)
        self.runs.with_summaries = checked
        self.runs.reload(keep_view=True)

    def _runs_selected(self, _run_ids: list[str]) -> None:
        self.run_actions.set_context(self.runs.store, self.runs.selected_refs())

    def _loading_changed(self, loading: bool) -> None:
        if loading:
            self.progress.setRange(0, 0)
        self.progress.setVisible(loading)
        self.cancel_button.setVisible(loading)
        if loading:
            self.statusBar().showMessage("Loading runs…")

    def _progress(self, text: str, done: int, total: int) -> None:
        if self.runs.loading and total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            if text:
                self.statusBar().showMessage(text)

    def _runs_loaded(self, count: int) -> None:
        if not self._filter_parser_warmed:
            self._filter_parser_warmed = True
            QTimer.singleShot(FILTER_WARM_UP_DELAY_MS, self._warm_filter_parser)
        seconds = self.runs.last_load_seconds
        self.statusBar().showMessage(f"Loaded {count} run{'s' * (count != 1)} in {seconds:.2f} s")

    def _warm_filter_parser(self) -> None:
        """The first filter check imports MLflow's parser (over a second): do it while idle."""
        self.runner.submit(
            lambda _state: check_run_filter("params.warm_up = '1'"),
            on_result=lambda _ok: settle_heap(collect=False),
        )

    def _charts_drawn(self) -> None:
        runs, charts = len(self.charts.runs), len(self.charts.charts)
        if runs and charts:
            self.statusBar().showMessage(f"Charted {runs} runs, {charts} metrics", 5000)

    def show_charts(self) -> None:
        """Show the Charts dock on its curves and give it most of the window's height."""
        self.charts_dock.show()
        self.charts_dock.tabs.setCurrentWidget(self.charts)
        self.charts_dock.raise_()
        self.resizeDocks([self.charts_dock], [int(self.height() * 0.7)], Qt.Orientation.Vertical)

    # --- messages, theme, drops, lifetime -----------------------------------------------------

    def show_message(self, text: str) -> QMessageBox:
        """A plain-text warning the user can fix something about (non-blocking)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Flowdeck", text, parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_message = box
        return box

    def set_theme(self, mode: str) -> None:
        self.settings.theme = mode
        self.theme_actions[mode].setChecked(True)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, mode)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if locations_from_mime(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        locations = locations_from_mime(event.mimeData())
        for location in locations:
            self.open_location(location)
        if locations:
            event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.persist_state:
            self.runs.save_layout()
            self.settings.window_geometry = self.saveGeometry()
            self.settings.window_state = self.saveState()
            self.settings.sync()
        self.auto_timer.stop()
        self.runner.cancel_all()
        self.runner.wait_idle(3000)
        for store in self.stores():
            store.close()
        super().closeEvent(event)
