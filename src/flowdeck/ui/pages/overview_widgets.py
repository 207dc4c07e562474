"""Shared parts of the overview pages: a plain header with facts, link tables and link buttons."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.addresses import Address
from flowdeck.store.base import Store
from flowdeck.ui.labels import plain_label
from flowdeck.ui.shell.page import Page, Shell

OPEN_HINT = "Double-click or press Enter to open; Ctrl or the middle button opens a new tab."
MAX_COLUMN_WIDTH = 360
COLUMN_PADDING = 16
BODY_SPACER = 4  # index in the page layout of the stretch under the body
MAX_FACT_LENGTH = 300
LOADING_TEXT = "Loading…"


def one_line(text: str) -> str:
    """``text`` on one line (a table cell shows no line breaks)."""
    return " ⏎ ".join(part for part in text.splitlines()) if "\n" in text else text


def _new_tab(modifiers: Qt.KeyboardModifier) -> bool:
    return bool(modifiers & Qt.KeyboardModifier.ControlModifier)


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, and the page it opens (shown as a link)."""

    text: str
    address: Address | None = None
    bold: bool = False


class LinkTable(QTableWidget):
    """A read-only table; a cell with an address opens it, other cells open their row's first."""

    open_requested = Signal(object, bool)  # Address, in a new tab

    def __init__(self, headers: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(list(headers))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
        self._addresses: list[list[Address | None]] = []

    def set_rows(self, rows: Sequence[Sequence[str | Cell]]) -> None:
        self.clearContents()
        self.setRowCount(len(rows))
        self._addresses = []
        link_colour = self.palette().color(QPalette.ColorRole.Link)
        for row, cells in enumerate(rows):
            addresses: list[Address | None] = []
            for column, value in enumerate(cells):
                cell = value if isinstance(value, Cell) else Cell(value)
                item = QTableWidgetItem(one_line(cell.text))
                font = item.font()
                if cell.address is not None:
                    font.setUnderline(True)
                    item.setForeground(link_colour)
                    item.setToolTip(OPEN_HINT)
                font.setBold(cell.bold)
                item.setFont(font)
                self.setItem(row, column, item)
                addresses.append(cell.address)
            self._addresses.append(addresses)
        self.resizeColumnsToContents()
        for column in range(self.columnCount() - 1):
            width = self.columnWidth(column) + COLUMN_PADDING
            self.setColumnWidth(column, min(width, MAX_COLUMN_WIDTH))

    def address_at(self, row: int, column: int) -> Address | None:
        if not 0 <= row < len(self._addresses):
            return None
        addresses = self._addresses[row]
        if 0 <= column < len(addresses) and addresses[column] is not None:
            return addresses[column]
        return next((address for address in addresses if address is not None), None)

    def _open(self, row: int, column: int, new_tab: bool) -> bool:
        address = self.address_at(row, column)
        if address is None:
            return False
        self.open_requested.emit(address, new_tab)
        return True

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        index = self.indexAt(event.position().toPoint())
        left = event.button() == Qt.MouseButton.LeftButton
        if left and self._open(index.row(), index.column(), _new_tab(event.modifiers())):
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.MiddleButton:
            index = self.indexAt(event.position().toPoint())
            if self._open(index.row(), index.column(), True):
                event.accept()
                return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        index = self.currentIndex()
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and self._open(index.row(), index.column(), _new_tab(event.modifiers())):
            event.accept()
            return
        super().keyPressEvent(event)


class LinkButton(QPushButton):
    """A flat, link-coloured button that opens an address (Ctrl or middle button: a new tab)."""

    open_requested = Signal(object, bool)  # Address, in a new tab

    def __init__(self, text: str, address: Address, parent: QWidget | None = None) -> None:
        super().__init__(text.replace("&", "&&"), parent)  # '&' would mark a mnemonic
        self.address = address
        self._new_tab = False
        self.setFlat(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"Open {address}. Ctrl+click or middle-click opens a new tab.")
        self.setStyleSheet("QPushButton { text-align: left; padding: 0px; border: none; }")
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.ButtonText, palette.color(QPalette.ColorRole.Link))
        self.setPalette(palette)
        font = self.font()
        font.setUnderline(True)
        self.setFont(font)
        self.clicked.connect(lambda: self.open_requested.emit(self.address, self._new_tab))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.MiddleButton:
            if self.rect().contains(event.position().toPoint()):
                self.open_requested.emit(self.address, True)
            event.accept()
            return
        self._new_tab = _new_tab(event.modifiers())
        super().mouseReleaseEvent(event)
        self._new_tab = False


Fact = tuple[str, "str | QWidget"]


class OverviewPage(Page):
    """A page that reads once on a worker, then shows a heading, facts and a few tables.

    ``next_text`` says in plain words what the full page will add.
    """

    next_text: ClassVar[str] = ""
    read_label: ClassVar[str] = "Reading"

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.heading = plain_label(str(address))
        font = self.heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.heading.setFont(font)
        self.facts_box = QWidget()
        self.facts = QFormLayout(self.facts_box)
        self.facts.setContentsMargins(0, 4, 0, 4)
        self.facts.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.facts_box.hide()
        self.message = plain_label(wrap=True)
        self.message.hide()
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        self._shown = False  # an answer is on screen (a refresh keeps it until the next one)
        self.next_label = plain_label(self.next_text, wrap=True)
        self.next_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.page_layout = layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.heading)
        layout.addWidget(self.facts_box)
        layout.addWidget(self.message)
        layout.addWidget(self.body, 1)
        layout.addStretch(0)  # holds the body's room while the body is hidden
        layout.addWidget(self.next_label)
        self.show_body(False)

    def read(self, fn: Callable[..., Any], *args: Any, on_result: Callable[[Any], None]) -> None:
        """Run ``fn(state, store, *args)`` on a worker; show its answer with ``on_result``, or fail."""

        def answered(result: Any) -> None:
            self.message.hide()
            self.show_body(True)
            on_result(result)
            self._shown = True
            self.finish_loading()

        self.begin_loading()
        if not self._shown:
            self.show_message(LOADING_TEXT)
        self.shell.runner.submit(
            fn,
            self.store,
            *args,
            key="overview",
            owner=self,
            store=self.store,
            label=self.read_label,
            on_result=answered,
            on_error=lambda error, _details: self.fail(error),
        )

    def fail(self, error: BaseException | str) -> None:
        super().fail(error)
        self._shown = False
        self.show_body(False)
        self.facts_box.hide()
        self.show_message(self.error or "")

    def show_body(self, shown: bool) -> None:
        """Show the tables and the next-page note (hidden while loading and after a failure)."""
        self.body.setVisible(shown)
        self.next_label.setVisible(shown and bool(self.next_label.text()))
        self.page_layout.setStretch(BODY_SPACER, 0 if shown else 1)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def set_heading(self, text: str) -> None:
        self.heading.setText(text)

    def set_facts(self, facts: Sequence[Fact]) -> None:
        """Replace the facts under the heading; empty texts are left out."""
        while self.facts.rowCount():
            self.facts.removeRow(0)
        for name, value in facts:
            if isinstance(value, str):
                if not value:
                    continue
                text = value if len(value) <= MAX_FACT_LENGTH else value[:MAX_FACT_LENGTH] + "…"
                value = plain_label(text, wrap=True)
            if isinstance(value, LinkButton):
                value.open_requested.connect(self.open_requested)
            self.facts.addRow(plain_label(f"{name}:"), value)
        self.facts_box.setVisible(self.facts.rowCount() > 0)

    def link_table(self, headers: Sequence[str]) -> LinkTable:
        table = LinkTable(headers)
        table.open_requested.connect(self.open_requested.emit)
        return table


class Section(QWidget):
    """A caption over a table, with a plain note in place of an empty table."""

    def __init__(self, caption: str, table: QWidget, inset: bool = False) -> None:
        super().__init__()
        self.caption = plain_label(caption)
        font = self.caption.font()
        font.setBold(True)
        self.caption.setFont(font)
        self.caption.setVisible(bool(caption))
        self.note = plain_label(wrap=True)
        self.note.hide()
        self.table = table
        self._layout = QVBoxLayout(self)
        margin = 6 if inset else 0  # inside a tab, away from its frame
        self._layout.setContentsMargins(margin, 6, margin, margin)
        self._layout.addWidget(self.caption)
        self._layout.addWidget(self.note)
        self._layout.addWidget(table, 1)
        self._layout.addStretch(0)  # takes the table's room while a note replaces it

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)
        self.caption.setVisible(bool(text))

    def set_note(self, text: str, hide_table: bool = False) -> None:
        """A note above the table ('' for none); ``hide_table`` when it replaces the table."""
        self.note.setText(text)
        self.note.setVisible(bool(text))
        self.table.setVisible(not hide_table)
        self._layout.setStretch(3, 1 if hide_table else 0)
