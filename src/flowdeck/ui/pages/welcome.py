"""The ``welcome`` page: open a store, a recent one or the demo store, or read the user guide."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from flowdeck import paths
from flowdeck.core.addresses import Address, experiment_address
from flowdeck.core.errors import Cancelled, FlowdeckError
from flowdeck.store.base import Store
from flowdeck.ui.labels import plain_label
from flowdeck.ui.pages.welcome_model import RecentStore, build_demo, check_recent, first_experiment
from flowdeck.ui.shell.page import Page, Shell
from flowdeck.ui.shell.page_types import page_type

TITLE = "Welcome to Flowdeck"
SUMMARY = (
    "Flowdeck shows the runs, metric curves, registered models and agent traces of an MLflow "
    "tracking store: an mlruns/ folder, an mlflow.db file, a PostgreSQL or MySQL database, or a "
    "tracking server. No server to start; edits go through MLflow's own client."
)
DEMO_TIP = (
    "About 100 runs in three experiments, a registered model with aliases, and the traces of a "
    "toy agent, written with MLflow's own client"
)
DEMO_FIRST_TIME = "Built in your data folder the first time (about a minute)."
NO_RECENT = "No recent stores yet. Stores you open are listed here."
TIPS = (  # command whose shortcut is shown, what it does
    ("app.palette", "finds any command"),
    ("help.shortcuts", "lists every keyboard shortcut"),
    ("page.open_address", "opens a page by its address, such as run/<run_id>"),
    ("", "Drag an mlruns/ folder or a .db file onto the window to open it."),
)
ICON_SIZE = 88
CONTENT_WIDTH = 720


def _app_icon() -> QIcon:
    icon = QApplication.windowIcon()
    if icon.isNull():
        from flowdeck.ui.app import app_icon

        icon = app_icon()
    return icon


@page_type
class WelcomePage(Page):
    """First run and Help → Welcome: the ways into a store, the demo store and the guide."""

    family = "welcome"

    def __init__(self, shell: Shell, store: Store | None, address: Address) -> None:
        super().__init__(shell, store, address)  # type: ignore[arg-type]
        self.set_title("Welcome")
        self.recent: list[RecentStore] = []
        self.recent_buttons: dict[str, QPushButton] = {}
        self._waiting_for: str | None = None  # location asked to open; its first experiment follows
        self._known_stores: set[int] = set()
        self.icon = QLabel()
        self.icon.setPixmap(_app_icon().pixmap(ICON_SIZE, ICON_SIZE))
        self.icon.setFixedSize(ICON_SIZE, ICON_SIZE)
        heading = plain_label(TITLE)
        heading.setStyleSheet("QLabel { font-size: 20pt; font-weight: 600; }")
        summary = plain_label(SUMMARY, wrap=True)
        self.open_button = self._button("Open Store…", "store.open", self._open_store)
        self.demo_button = self._button("Open the Demo Store", "", self.open_demo)
        self.demo_button.setToolTip(DEMO_TIP)
        self.guide_button = self._button("User Guide", "help.user_guide", self._open_guide)
        self.open_button.setDefault(True)
        self.demo_note = plain_label(DEMO_FIRST_TIME, wrap=True)
        self.demo_note.setEnabled(False)
        self.demo_note.setVisible(not paths.demo_store_path().is_file())
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.progress_text = plain_label(wrap=True)
        self.progress_text.hide()
        self.recent_box = QVBoxLayout()
        self.recent_box.setSpacing(2)
        self.no_recent = plain_label(NO_RECENT, wrap=True)
        self.no_recent.setEnabled(False)
        self._build_layout(heading, summary)
        self.shell.context.stores_changed.connect(self._stores_changed)

    # --- layout ---------------------------------------------------------------------------------

    def _button(self, text: str, command_id: str, handler: Any) -> QPushButton:
        keys = self._shortcut(command_id)
        button = QPushButton(f"{text}    {keys}" if keys else text)
        button.setMinimumHeight(36)
        button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        button.clicked.connect(handler)
        return button

    def _shortcut(self, command_id: str) -> str:
        commands = self.shell.commands
        if not command_id or commands is None:
            return ""
        return commands.action(command_id).shortcut().toString(QKeySequence.SequenceFormat.NativeText)

    def _section(self, text: str) -> QLabel:
        label = plain_label(text)
        label.setStyleSheet("QLabel { font-size: 12pt; font-weight: 600; margin-top: 14px; }")
        return label

    def _build_layout(self, heading: QLabel, summary: QLabel) -> None:
        header = QGridLayout()
        header.addWidget(self.icon, 0, 0, 2, 1, Qt.AlignmentFlag.AlignTop)
        header.addWidget(heading, 0, 1)
        header.addWidget(summary, 1, 1)
        header.setHorizontalSpacing(20)
        header.setColumnStretch(1, 1)
        buttons = QHBoxLayout()
        for button in (self.open_button, self.demo_button, self.guide_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        tips = QGridLayout()
        tips.setVerticalSpacing(4)
        tips.setHorizontalSpacing(12)
        for row, (command_id, text) in enumerate(TIPS):
            keys = self._shortcut(command_id)
            if command_id and not keys:
                continue
            key = plain_label(keys)
            key.setStyleSheet("QLabel { font-weight: 600; }")
            tips.addWidget(key, row, 0)
            tips.addWidget(plain_label(text), row, 1)
        tips.setColumnStretch(1, 1)
        column = QWidget()
        column.setMaximumWidth(CONTENT_WIDTH)
        layout = QVBoxLayout(column)
        layout.setContentsMargins(32, 40, 32, 32)
        layout.addLayout(header)
        layout.addSpacing(18)
        layout.addLayout(buttons)
        layout.addWidget(self.demo_note)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_text)
        layout.addWidget(self._section("Recent stores"))
        layout.addWidget(self.no_recent)
        layout.addLayout(self.recent_box)
        layout.addWidget(self._section("Tips"))
        layout.addLayout(tips)
        layout.addStretch(1)
        centre = QWidget()
        row = QHBoxLayout(centre)
        row.addStretch(1)
        row.addWidget(column, 100)
        row.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(centre)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    # --- loading --------------------------------------------------------------------------------

    def start(self) -> None:
        """Check which recent stores still exist (a stat each, off the GUI thread)."""
        self.begin_loading()
        self.shell.runner.submit(
            check_recent,
            self.shell.settings.recent_stores,
            key="recent",
            owner=self,
            label="Checking recent stores",
            on_result=self._show_recent,
            on_error=lambda error, _details: self.fail(error),
        )

    def _show_recent(self, recent: list[RecentStore]) -> None:
        self.recent = recent
        self.recent_buttons.clear()
        while self.recent_box.count():
            item = self.recent_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for entry in recent:
            self.recent_box.addWidget(self._recent_row(entry))
        self.no_recent.setVisible(not recent)
        self.finish_loading()

    def _recent_row(self, entry: RecentStore) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        button = QPushButton(entry.location)  # plain text: a location is never markup
        button.setFlat(True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setStyleSheet(
            "QPushButton { text-align: left; padding: 4px 8px; color: palette(link); }"
            "QPushButton:hover { text-decoration: underline; }"
        )
        button.setToolTip(f"Open {entry.location}")
        button.clicked.connect(lambda _c=False, loc=entry.location: self.open_location(loc))
        self.recent_buttons[entry.location] = button
        layout.addWidget(button)
        if entry.missing:
            note = plain_label(entry.note)
            note.setEnabled(False)
            note.setObjectName("recent_note")
            forget = QPushButton("Forget")
            forget.setToolTip("Remove it from the recent stores")
            forget.clicked.connect(lambda _c=False, loc=entry.location: self.forget(loc))
            layout.addWidget(note)
            layout.addWidget(forget)
        layout.addStretch(1)
        return row

    def notes(self) -> dict[str, str]:
        """Each recent store shown, with its note ("" when it is still there)."""
        return {entry.location: entry.note for entry in self.recent}

    # --- actions --------------------------------------------------------------------------------

    def _open_store(self) -> None:
        if self.shell.commands is not None:
            self.shell.commands.trigger("store.open")

    def _open_guide(self) -> None:
        if self.shell.commands is not None:
            self.shell.commands.trigger("help.user_guide")
        else:
            from flowdeck.ui.shell.help import show_user_guide

            show_user_guide(self)

    def forget(self, location: str) -> None:
        self.shell.settings.forget_store(location)
        self.start()

    def open_location(self, location: str) -> None:
        """Open the store beside the others; its first experiment then replaces this page."""
        if self.shell.open_location is None:
            return
        for store in self.shell.context.stores:  # open already: show it again
            if location in (store.location, store.display_name):
                self._list_experiments(store)
                return
        self._known_stores = {id(store) for store in self.shell.context.stores}
        self._waiting_for = location
        self.status.emit(f"Opening {location}…")
        self.shell.open_location(location)

    def open_demo(self) -> None:
        """Open the demo store, building it first (with progress, cancellable) if absent."""
        self.demo_button.setEnabled(False)
        building = not paths.demo_store_path().is_file()
        self.progress.setVisible(building)
        self.progress_text.setVisible(building)
        self.progress.setRange(0, 0)
        self.progress_text.setText("Building the demo store…")
        self.begin_loading()
        self.shell.runner.submit(
            build_demo,
            key="demo",
            owner=self,
            label="Building the demo store",
            on_result=self._demo_ready,
            on_error=self._demo_failed,
            on_progress=self._demo_progress,
        )

    def _demo_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress_text.setText(text[:1].upper() + text[1:])

    def _demo_ready(self, location: str) -> None:
        self.progress.hide()
        self.progress_text.hide()
        self.demo_note.hide()
        self.demo_button.setEnabled(True)
        self.finish_loading()
        self.open_location(location)

    def _demo_failed(self, error: BaseException, details: str) -> None:
        self.demo_button.setEnabled(True)
        self.progress.hide()
        if isinstance(error, Cancelled):
            self.progress_text.setText("The demo build was cancelled; nothing was left behind.")
            self.finish_loading()
            return
        self.fail(error)
        self.progress_text.setText(
            error.message if isinstance(error, FlowdeckError) else "The demo build failed."
        )

    # --- once the store is open -----------------------------------------------------------------

    def _stores_changed(self, stores: list[Any]) -> None:
        if self._waiting_for is None:
            return
        new = [store for store in stores if id(store) not in self._known_stores]
        if not new:
            return
        self._waiting_for = None
        self._list_experiments(new[0])

    def _list_experiments(self, store: Store) -> None:
        self.shell.runner.submit(
            first_experiment,
            store,
            key="first-experiment",
            owner=self,
            store=store,
            label="Listing experiments",
            on_result=lambda experiment_id, s=store: self._show_experiment(s, experiment_id),
        )

    def _show_experiment(self, store: Store, experiment_id: str | None) -> None:
        """Replace this page with the store's first experiment (Back returns here)."""
        if experiment_id is None:
            return
        self.store = store  # the host opens what this page asks for in the page's store
        self.open_requested.emit(experiment_address([experiment_id]), False)
