"""The command palette (Ctrl+K): type a few letters of any command and press Enter to run it."""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdeck.ui.shell.commands import Command, CommandRegistry
from flowdeck.ui.sidebar.model import rich_tooltip

OPEN_PALETTE = Command(
    id="app.command_palette",
    text="Command &Palette…",
    menu="View",
    shortcut="Ctrl+K",
    tip="Search every command by name and run it",
)

PALETTE_WIDTH = 620
TOP_MARGIN = 48
VISIBLE_ROWS = 12
COMMAND_COLUMN, DETAIL_COLUMN, SHORTCUT_COLUMN = range(3)
NAVIGATION_KEYS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)

# Cost of one query word by how it matches (lower ranks higher).
WHOLE_WORD, WORD_PREFIX, SUBSTRING, SUBSEQUENCE = 0, 1, 3, 6


def _is_subsequence(needle: str, haystack: str) -> bool:
    letters = iter(haystack)
    return all(letter in letters for letter in needle)


def match_cost(query: str, command: Command) -> int | None:
    """How well ``query`` names ``command`` (lower is better); None when it does not.

    Every query word must match the command's text or menu: as a whole word, a word's prefix,
    a substring or, last, a subsequence ("ren run" → "Rename Run", "tags" → "Edit Tags")."""
    text = f"{command.plain_text()} {command.menu}".lower()
    words = re.findall(r"\w+", text)
    cost = 0
    for index, token in enumerate(query.lower().split()):
        if token in words:
            token_cost = WHOLE_WORD
        elif any(word.startswith(token) for word in words):
            token_cost = WORD_PREFIX
        elif token in text:
            token_cost = SUBSTRING
        elif _is_subsequence(token, text):
            token_cost = SUBSEQUENCE
        else:
            return None
        # The first query word naming the first word of the command is the strongest hint.
        if index == 0 and words and not words[0].startswith(token):
            token_cost += 1
        cost += token_cost
    return cost


class CommandPalette(QDialog):
    """A popup-like box at the top centre of the window: a search line over every command.

    Disabled commands are listed greyed with the reason they cannot run; Enter on one shows
    the reason and runs nothing. ``command_run(id)`` fires after a command ran.
    """

    command_run = Signal(str)

    def __init__(self, registry: CommandRegistry, parent: QWidget | None = None) -> None:
        # Frameless and closed when it loses activation: a popup without grabbing the keyboard.
        super().__init__(parent, Qt.WindowType.Dialog | Qt.WindowType.FramelessWindowHint)
        self.registry = registry
        self.setObjectName("command_palette")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Type a command…")
        self.search.setClearButtonEnabled(True)
        self.list = QTreeWidget(self)
        self.list.setColumnCount(3)
        self.list.setHeaderHidden(True)
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAllColumnsShowFocus(True)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COMMAND_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(DETAIL_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(SHORTCUT_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        self.message = QLabel(self)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        layout.addWidget(self.message)
        self.resize(PALETTE_WIDTH, self.sizeHint().height())

        self.search.installEventFilter(self)
        self.search.textChanged.connect(self._refill)
        self.search.returnPressed.connect(self.run_current)
        self.list.itemActivated.connect(lambda _item, _column: self.run_current())
        self.list.itemClicked.connect(lambda _item, _column: self.run_current())
        self.list.currentItemChanged.connect(lambda _now, _before: self.message.hide())
        self._refill("")

    # --- for the window and tests ---------------------------------------------------------------

    def popup(self) -> None:
        """Show at the top centre of the parent window, the search line focused and empty."""
        self.registry.update_state()
        self.search.clear()
        self._refill("")
        parent = self.parentWidget()
        if parent is not None:
            width = min(PALETTE_WIDTH, max(320, parent.width() - 40))
            self.resize(width, self.height())
            top_left = parent.mapToGlobal(QPoint((parent.width() - width) // 2, TOP_MARGIN))
            self.move(top_left)
        self.show()
        self.activateWindow()
        self.search.setFocus(Qt.FocusReason.PopupFocusReason)

    def visible_command_ids(self) -> list[str]:
        """The listed commands' ids, best match first."""
        return [
            self.list.topLevelItem(row).data(COMMAND_COLUMN, Qt.ItemDataRole.UserRole)
            for row in range(self.list.topLevelItemCount())
        ]

    def current_command_id(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else item.data(COMMAND_COLUMN, Qt.ItemDataRole.UserRole)

    def run_current(self) -> None:
        """Run the highlighted command and close; a disabled one only shows why it cannot run."""
        command_id = self.current_command_id()
        if command_id is None or not self.isVisible():  # a click may also activate the item
            return
        reason = self.registry.reason(command_id)
        if reason is not None:
            name = self.registry.command(command_id).plain_text()
            self.message.setText(f"{name} cannot run now: {reason}")
            self.message.show()
            return
        self.accept()  # close first, so a dialog the command opens is not under the popup
        if self.registry.trigger(command_id):
            self.command_run.emit(command_id)

    # --- internals --------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.WindowDeactivate and self.isVisible():
            self.reject()
        return super().event(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in NAVIGATION_KEYS
        ):
            self._move_current(event.key())
            return True
        return super().eventFilter(watched, event)

    def _move_current(self, key: Qt.Key) -> None:
        count = self.list.topLevelItemCount()
        if count == 0:
            return
        step = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1}.get(key, VISIBLE_ROWS)
        if key == Qt.Key.Key_PageUp:
            step = -VISIBLE_ROWS
        current = self.list.indexOfTopLevelItem(self.list.currentItem())
        row = min(max(current + step, 0), count - 1)
        self.list.setCurrentItem(self.list.topLevelItem(row))

    def _refill(self, query: str) -> None:
        ranked: list[tuple[int, bool, int, Command, str | None]] = []
        for order, command in enumerate(self.registry.commands()):
            cost = match_cost(query, command)
            if cost is not None:
                reason = self.registry.reason(command.id)
                ranked.append((cost, reason is not None, order, command, reason))
        ranked.sort(key=lambda entry: entry[:3])
        self.list.clear()
        greyed = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        for *_rank, command, reason in ranked:
            self.list.addTopLevelItem(self._item(command, reason, greyed))
        if self.list.topLevelItemCount():
            self.list.setCurrentItem(self.list.topLevelItem(0))
        self.message.hide()

    @staticmethod
    def _item(command: Command, reason: str | None, greyed: QColor) -> QTreeWidgetItem:
        detail = command.menu if reason is None else reason
        shortcuts = ", ".join(command.native_shortcuts())
        item = QTreeWidgetItem([command.plain_text(), detail, shortcuts])
        item.setData(COMMAND_COLUMN, Qt.ItemDataRole.UserRole, command.id)
        tip = (command.tip or command.plain_text()) if reason is None else reason
        for column in range(item.columnCount()):
            item.setToolTip(column, rich_tooltip(tip))
            if reason is not None:
                item.setForeground(column, greyed)
        item.setTextAlignment(SHORTCUT_COLUMN, Qt.AlignmentFlag.AlignRight)
        return item


def show_palette(registry: CommandRegistry, window: QWidget) -> CommandPalette:
    """Open a fresh palette over ``window`` (deleted when it closes); the window's Ctrl+K slot."""
    palette = CommandPalette(registry, window)
    palette.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    palette.popup()
    return palette
