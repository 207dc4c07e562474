"""The main window: the sidebar, the page host, the status bar, and the wiring between them."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QMouseEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QWidget,
)

from flowdeck.core.addresses import Address, BadAddress, parse_address
from flowdeck.store.base import Store
from flowdeck.ui.edit.edits import Edits
from flowdeck.ui.heap import settle_heap
from flowdeck.ui.open_store_dialog import locations_from_mime
from flowdeck.ui.serving.quit import confirm_stop_servers
from flowdeck.ui.settings import Settings, strip_password
from flowdeck.ui.shell.context import Context
from flowdeck.ui.shell.jobs import JobsButton
from flowdeck.ui.shell.page import Page, Shell
from flowdeck.ui.shell.page_host import PageHost
from flowdeck.ui.shell.session import StoreSession
from flowdeck.ui.shell.window_commands import declare_commands
from flowdeck.ui.shell.window_handlers import RunAndViewCommands
from flowdeck.ui.sidebar import Sidebar
from flowdeck.ui.sidebar.model import rich_tooltip
from flowdeck.ui.startup import Startup, as_experiment_page
from flowdeck.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from flowdeck.ui.pages.experiment import ExperimentPage

RUN_CONTEXT_COMMANDS = (
    "run.open",
    "run.compare",
    "item.rename",
    "item.tags",
    "item.description",
    "item.delete",
    "item.restore",
    "run.copy_id",
    "run.copy_artifact_uri",
    "runs.export",
)
SIDEBAR_BUTTONS = {  # command id -> edit it runs, on the sidebar's own selection
    "experiment.create": "create_experiment",
    "item.rename": "rename",
    "item.delete": "delete",
    "item.restore": "restore",
}
AUTO_REFRESH_MS = 10_000
LOADING_TEXT = "Loading…"
FILTER_WARM_UP_DELAY_MS = 3_000


class MainWindow(RunAndViewCommands, QMainWindow):
    """Stores in the sidebar, pages in tabs; every command comes from one registry."""

    store_opened = Signal(object)  # Store, added to the sidebar (or selected again)
    open_failed = Signal(str)  # plain message (also shown in a message box)
    page_loaded = Signal(object)  # Page, once everything it first asked for has answered

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or Settings()
        self.runner = TaskRunner(self)
        self.context = Context(self)
        from flowdeck.ui.shell.writes import WritePath

        self.writes = WritePath(self.runner, self.context, self)
        self.shell = Shell(self.runner, self.settings, self.context, self.writes)
        self.edits = Edits(self.runner, self.writes, self.context, self)
        self.last_message: QMessageBox | None = None
        self._filter_parser_warmed = False
        self._progress_text = ""  # the last progress text shown, cleared when loading ends
        self.persist_state = True  # False for scripted snapshots: leave the user's layout alone
        self.setWindowTitle("Flowdeck")
        self.setAcceptDrops(True)
        self.resize(1280, 800)

        self.sidebar = Sidebar(self.runner)
        self.startup = Startup(self, self.sidebar.tree.viewport())  # marks usable, then warms up
        self.sidebar.model.store_loaded.connect(self.startup.store_listed)
        self.sidebar.model.store_failed.connect(lambda store, _m: self.startup.store_listed(store))
        self.dock = QDockWidget("Stores", self)
        self.dock.setObjectName("experiments_dock")
        self.dock.setWidget(self.sidebar)
        self.dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        self.resizeDocks([self.dock], [280], Qt.Orientation.Horizontal)
        self.host = PageHost(self.shell, self)
        self.setCentralWidget(self.host)
        self._build_status_bar()
        self.commands = declare_commands(self)
        self.shell.commands = self.commands
        self.shell.open_location = self.open_location
        self.sessions = StoreSession(self)
        self._connect()
        self._add_sidebar_actions()
        self.auto_timer = QTimer(self, interval=AUTO_REFRESH_MS)
        self.auto_timer.timeout.connect(self._auto_refresh)
        self.auto_timer.start()
        QApplication.instance().installEventFilter(self)  # the mouse's back/forward buttons
        self.restoreGeometry(self.settings.window_geometry)
        self.restoreState(self.settings.window_state)
        self.commands.update_state()

    # --- construction ------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop loading this page")
        self.cancel_button.hide()
        self.jobs_button = JobsButton(self.runner, self)
        self.read_only_badge = QLabel("Read-only", self)
        self.read_only_badge.setTextFormat(Qt.TextFormat.PlainText)
        self.read_only_badge.setStyleSheet("QLabel { padding: 0 8px; font-weight: bold; }")
        self.read_only_badge.hide()
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.jobs_button)
        bar.addPermanentWidget(self.read_only_badge)

    def _add_sidebar_actions(self) -> None:
        """The sidebar's buttons run the registry's commands on the sidebar's experiments."""
        self.sidebar_buttons: dict[str, QAction] = {}
        for command_id, edit in SIDEBAR_BUTTONS.items():
            command = self.commands.command(command_id)
            button = QAction(command.text, self)
            button.triggered.connect(lambda _c=False, i=command_id: self._sidebar_command(i))
            button.setProperty("edit", edit)
            self.sidebar_buttons[command_id] = button
        action = self.commands.action
        menu: list[Any] = [
            *(action(i) for i in SIDEBAR_BUTTONS),
            action("item.description"),
            action("item.tags"),
            None,
            action("view.refresh"),
        ]
        self.sidebar.set_actions(list(self.sidebar_buttons.values()), menu)
        self.commands.state_updated.connect(self._update_sidebar_buttons)
        self.sidebar.focus_changed.connect(lambda _focus: self._update_sidebar_buttons())

    def _sidebar_command(self, command_id: str) -> None:
        self.context.set_focus(self.sidebar.focus_selection())
        self.commands.trigger(command_id)

    def _update_sidebar_buttons(self) -> None:
        focus = self.sidebar.focus_selection()
        for button in self.sidebar_buttons.values():
            reason = self.edits.why_not(button.property("edit"), focus)
            button.setEnabled(reason is None)
            button.setToolTip(rich_tooltip(reason or button.text().replace("&", "")))

    def _connect(self) -> None:
        sidebar, host, context = self.sidebar, self.host, self.context
        sidebar.open_requested.connect(self._sidebar_open)
        sidebar.focus_changed.connect(self._sidebar_focus)
        sidebar.model.store_loaded.connect(lambda _store: self._update_store_state())
        sidebar.model.store_failed.connect(self._store_failed)
        sidebar.show_deleted.toggled.connect(
            self.commands.action("view.deleted_experiments").setChecked
        )
        host.page_opened.connect(self._page_opened)
        host.current_page_changed.connect(self._current_page_changed)
        host.history_changed.connect(self.commands.update_state)
        context.focus_changed.connect(lambda _focus: self.commands.update_state())
        context.read_only_changed.connect(self._read_only_changed)
        context.changed.connect(self._changed)
        self.writes.failed.connect(self.show_message)
        self.writes.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.runner.progress.connect(self._progress)
        self.cancel_button.clicked.connect(self.cancel_page_load)
        QApplication.instance().focusChanged.connect(self._focus_moved)

    # --- stores ------------------------------------------------------------------------------

    def stores(self) -> list[Store]:
        return self.sidebar.model.stores

    def open_location(self, location: str, options: dict[str, str] | None = None) -> None:
        """Open a store beside the others, off the GUI thread (``store_opened`` follows)."""
        self.startup.store_requested()
        self.sessions.open_location(location, options)

    def current_store(self) -> Store | None:
        page = self.host.current_page()
        if page is not None and page.store is not None:
            return page.store
        store, _entries = self.sidebar.current_selection()
        if store is None and len(self.stores()) == 1:
            return self.stores()[0]
        return store

    def close_current_store(self) -> None:
        store = self.current_store()
        if store is not None:
            self.sessions.close_store(store)
            self._update_store_state()

    def open_store_dialog(self) -> None:
        self.sessions.open_store_dialog()

    def fill_recent_menu(self) -> None:
        self.sessions.fill_recent_menu(self.recent_menu)

    def select_experiment_named(self, store: Store, name: str) -> bool:
        """Select the experiment called ``name`` in the sidebar (which opens its page)."""
        found = [e for e in self.sidebar.model.experiments_of(store) if e.name == name]
        if not found:
            return False
        if found[0].deleted:
            self.sidebar.show_deleted.setChecked(True)
        self.sidebar.select_experiments(store, [found[0].experiment_id])
        return True

    def _store_failed(self, store: Store, message: str) -> None:
        self.statusBar().showMessage(f"{store.display_name}: {message}")

    def _read_only_changed(self, store: Store, reason: str | None) -> None:
        self.sidebar.model.set_read_only(store, reason)
        self._update_store_state()  # re-evaluates the commands too

    def _update_store_state(self) -> None:
        store = self.current_store()
        title = store.display_name if store is not None else ""
        self.setWindowTitle(f"Flowdeck — {title}" if title else "Flowdeck")
        reason = self.context.read_only_reason(store) if store is not None else None
        shown = bool(reason) and store is not None and id(store) in self.context.state.read_only
        self.read_only_badge.setVisible(shown)
        self.read_only_badge.setToolTip(rich_tooltip(reason) if shown and reason else "")
        self.commands.update_state()

    # --- pages -------------------------------------------------------------------------------

    def open_page(self, store: Store | None, address: Address | str, new_tab: bool = False) -> Page:
        """Show ``address`` of ``store`` (text addresses are parsed; BadAddress if malformed)."""
        if isinstance(address, str):
            address = parse_address(address)
        return self.host.open(store, address, new_tab)  # type: ignore[arg-type]

    def open_store_page(self, kind: str) -> None:
        self.open_page(self.current_store(), Address(kind))

    def current_experiment_page(self) -> ExperimentPage | None:
        page = self.host.current_page()
        return as_experiment_page(page)

    @property
    def runs(self) -> Any:
        """The runs pane of the current experiment page (None without one)."""
        page = self.current_experiment_page()
        return page.runs if page is not None else None

    @property
    def charts(self) -> Any:
        """The curves of the current experiment page (None without one)."""
        page = self.current_experiment_page()
        return page.charts if page is not None else None

    def _sidebar_open(self, store: Store | None, address: Address, new_tab: bool) -> None:
        if not self.startup.warmup.pages_done:  # just after start: the page types load first
            self.startup.warmup.when_ready(lambda: self._sidebar_open(store, address, new_tab))
            return
        page = self.host.current_page()
        if (
            not new_tab
            and page is not None
            and (page.address.kind, page.address.ids) == (address.kind, address.ids)
            and page.store is store
        ):
            return
        self.host.open(store, address, new_tab, background=new_tab)  # type: ignore[arg-type]

    def _sidebar_focus(self, focus: Any) -> None:
        self.context.set_focus(focus)
        self.commands.update_state()

    def _page_opened(self, page: Page) -> None:
        page.selection_changed.connect(lambda selection, p=page: self._page_selection(p, selection))
        page.failed.connect(lambda text, _missing: self.statusBar().showMessage(text))
        page.loaded.connect(lambda p=page: self.page_loaded.emit(p))
        page.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        page.busy_changed.connect(lambda _busy, p=page: self._busy_changed(p))
        page.add_context_actions([self.commands.action(i) for i in RUN_CONTEXT_COMMANDS])
        experiment_page = as_experiment_page(page)
        if experiment_page is not None:
            experiment_page.runs.loaded.connect(lambda _n: self._warm_filter_parser_later())

    def _page_selection(self, page: Page, selection: Any) -> None:
        """A page's selection becomes the focus when it selects something or has the keyboard
        (a reload that selects nothing must not take the focus from the sidebar's experiments)."""
        if page is self.host.current_page():
            self.context.set_selection(selection)
            focused = QApplication.focusWidget()
            if selection or (focused is not None and page.isAncestorOf(focused)):
                self.context.set_focus(selection)

    def _current_page_changed(self, page: Page | None) -> None:
        experiment_page = as_experiment_page(page)
        if experiment_page is not None:
            self.context.set_experiments(experiment_page.store, experiment_page.experiment_ids)
        else:
            self.context.set_experiments(page.store if page else None, ())
        if page is not None:
            self.sidebar.show_address(page.store, page.address)
        if page is not None:
            selection = page.selection()
            self.context.set_selection(selection)
            if selection:
                self.context.set_focus(selection)
        self._update_store_state()
        self._busy_changed(page)

    def _focus_moved(self, _old: QWidget | None, new: QWidget | None) -> None:
        """Edit commands act on the sidebar's experiments or the page's runs: whichever has focus."""
        if new is None:
            return
        if self.sidebar.isAncestorOf(new):
            self.context.set_focus(self.sidebar.focus_selection())
        else:
            page = self.host.current_page()
            if page is not None and page.isAncestorOf(new) and page.selection():
                self.context.set_focus(page.selection())

    def _changed(self, store: Store, change: Any) -> None:
        """Refresh exactly what a write changed, wherever it is shown."""
        if change.kind == "experiment":
            self.sidebar.model.refresh(store)
        if change.kind in ("registered_model", "model_version"):
            self.sidebar.model.refresh_models(store)
        for page in self.host.pages():
            page.apply_change(store, change)

    def refresh(self) -> None:
        """Read the current page again, keeping its selection and scroll position."""
        self.host.refresh_current()
        store = self.current_store()
        if store is not None and self.host.current_page() is None:
            self.sidebar.model.refresh(store)

    def cancel_page_load(self) -> None:
        page = self.host.current_page()
        if page is not None:
            page.cancel_loads()

    def cycle_tabs(self, step: int) -> None:
        count = self.host.count()
        if count:
            self.host.tabs.setCurrentIndex((self.host.tabs.currentIndex() + step) % count)

    def copy_address(self) -> str:
        """Copy ``flowdeck <location> --page <address>`` (no password, token or secret)."""
        page = self.host.current_page()
        if page is None:
            return ""
        parts = ["flowdeck"]
        if page.store is not None:
            parts.append(shlex.quote(strip_password(self.sessions.location_of(page.store))))
        parts += ["--page", shlex.quote(str(page.address))]
        text = " ".join(parts)
        QGuiApplication.clipboard().setText(text)
        self.statusBar().showMessage(f"Copied {text}", 8000)
        return text

    def open_address_dialog(self) -> None:
        store = self.current_store()
        text, ok = QInputDialog.getText(self, "Open Address", "Page address (e.g. run/<run_id>):")
        if not ok or not text.strip() or store is None:
            return
        try:
            self.open_page(store, text)
        except BadAddress as error:
            self.show_message(error.message)

    # --- status ------------------------------------------------------------------------------

    def _busy_changed(self, page: Page | None) -> None:
        if page is not self.host.current_page():
            return
        busy = page is not None and page.busy
        if busy:
            self.progress.setRange(0, 0)
            self.statusBar().showMessage(LOADING_TEXT)
        elif self.statusBar().currentMessage() in (LOADING_TEXT, self._progress_text):
            self.statusBar().clearMessage()
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)

    def _progress(self, text: str, done: int, total: int) -> None:
        page = self.host.current_page()
        if page is not None and page.busy and total > 0:
            self.progress.setRange(0, total if done else 0)  # nothing done yet: a busy bar
            self.progress.setValue(done)
            if text:
                self._progress_text = text
                self.statusBar().showMessage(text)

    def _auto_refresh(self) -> None:
        if self.commands.action("view.auto_refresh").isChecked():
            for page in self.host.pages():
                page.auto_refresh()

    def _warm_filter_parser_later(self) -> None:
        if not self._filter_parser_warmed:
            self._filter_parser_warmed = True
            QTimer.singleShot(FILTER_WARM_UP_DELAY_MS, self._warm_filter_parser)

    def _warm_filter_parser(self) -> None:
        """The first filter check imports MLflow's parser (over a second): do it while idle."""
        from flowdeck.core.filter_check import check_run_filter

        self.runner.submit(
            lambda _state: check_run_filter("params.warm_up = '1'"),
            label="Preparing the filter parser",
            on_result=lambda _ok: settle_heap(collect=False),
        )

    def show_message(self, text: str) -> QMessageBox:
        """A plain-text warning the user can fix something about (non-blocking)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Flowdeck", text, parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_message = box
        return box

    # --- events ------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            widget = watched if isinstance(watched, QWidget) else None
            if widget is not None and widget.window() is self:
                if event.button() == Qt.MouseButton.BackButton:
                    self.host.back()
                    return True
                if event.button() == Qt.MouseButton.ForwardButton:
                    self.host.forward()
                    return True
        return False

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
        if not confirm_stop_servers(self, self.shell):
            event.ignore()
            return
        QApplication.instance().removeEventFilter(self)
        if self.persist_state:
            self.sessions.save_tabs()
            self.settings.window_geometry = self.saveGeometry()
            self.settings.window_state = self.saveState()
            self.settings.sync()
        self.auto_timer.stop()
        self.host.close_all()
        self.runner.cancel_all()
        self.runner.wait_idle(3000)
        for store in self.stores():
            store.close()
        super().closeEvent(event)
