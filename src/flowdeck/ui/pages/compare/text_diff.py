"""Text diffs on plain documents: unified (+/− lines coloured) and side by side (synced panes)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QPalette,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPlainTextEdit,
    QScrollBar,
    QTabWidget,
    QWidget,
)

from flowdeck.core.compare import ADDED, CONTEXT, HEADER, HUNK, REMOVED, TextDiff

# Line backgrounds: translucent, so they read on light and dark bases alike.
TINTS = {
    REMOVED: QColor(220, 60, 60, 60),
    ADDED: QColor(40, 170, 70, 60),
    HUNK: QColor(90, 120, 220, 40),
    HEADER: QColor(128, 128, 128, 40),
}
GAP = QColor(128, 128, 128, 30)  # a side-by-side line with nothing facing it
# Text colours of the marked lines, on a light base and on a dark one.
INKS = {
    False: {REMOVED: "#a4161a", ADDED: "#1a7f37", HUNK: "#0550ae", HEADER: "#57606a"},
    True: {REMOVED: "#ff8182", ADDED: "#7ee787", HUNK: "#79c0ff", HEADER: "#9198a1"},
}


def ink(editor: QPlainTextEdit, kind: str) -> QColor | None:
    """The text colour of a ``kind`` line in ``editor`` (None: the normal text colour)."""
    dark = editor.palette().color(QPalette.ColorRole.Base).lightness() < 128
    colour = INKS[dark].get(kind)
    return QColor(colour) if colour else None


def diff_editor(parent: QWidget | None = None) -> QPlainTextEdit:
    editor = QPlainTextEdit(parent)
    editor.setReadOnly(True)
    editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    editor.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse
        | Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    return editor


def fill(editor: QPlainTextEdit, lines: list[str], kinds: list[str | None]) -> None:
    """Plain lines; a marked line gets a full-width tint (its block format) and a text colour
    (its char format)."""
    editor.setPlainText("\n".join(lines))
    document = editor.document()
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    block = document.begin()
    for kind in kinds:
        tint = GAP if kind == "gap" else TINTS.get(kind) if kind else None
        if tint is not None and kind is not None:
            cursor.setPosition(block.position())
            cursor.movePosition(
                QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor
            )
            line = QTextBlockFormat()
            line.setBackground(tint)
            cursor.mergeBlockFormat(line)
            colour = ink(editor, kind)
            if colour is not None:
                char = QTextCharFormat()
                char.setForeground(colour)
                if kind == HEADER:
                    char.setFontWeight(QFont.Weight.Bold)
                cursor.mergeCharFormat(char)
        block = block.next()
    cursor.endEditBlock()


class TextDiffView(QTabWidget):
    """A unified view and a side-by-side view of one diff."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDocumentMode(True)
        self.unified = diff_editor(self)
        self.unified.setObjectName("unified")
        self.sides = QWidget(self)
        self.left = diff_editor(self.sides)
        self.right = diff_editor(self.sides)
        layout = QHBoxLayout(self.sides)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.left)
        layout.addWidget(self.right)
        self.addTab(self.unified, "Unified")
        self.addTab(self.sides, "Side by side")
        self._syncing = False
        for first, second in ((self.left, self.right), (self.right, self.left)):
            for bar_of in (QPlainTextEdit.verticalScrollBar, QPlainTextEdit.horizontalScrollBar):
                source, target = bar_of(first), bar_of(second)
                source.valueChanged.connect(lambda value, t=target: self._follow(t, value))

    def _follow(self, target: QScrollBar, value: int) -> None:
        if self._syncing:
            return
        self._syncing = True
        target.setValue(value)
        self._syncing = False

    def show_diff(self, diff: TextDiff) -> None:
        if diff.identical:
            self.unified.setPlainText("The texts are identical.")
        else:
            lines = diff.unified
            fill(self.unified, [line.text for line in lines], [line.kind for line in lines])
        left_kinds: list[str | None] = []
        right_kinds: list[str | None] = []
        for row in diff.rows:
            same = row.kind == CONTEXT
            left_kinds.append("gap" if row.left is None else None if same else REMOVED)
            right_kinds.append("gap" if row.right is None else None if same else ADDED)
        fill(self.left, [row.left or "" for row in diff.rows], left_kinds)
        fill(self.right, [row.right or "" for row in diff.rows], right_kinds)

    def clear_texts(self) -> None:
        for editor in (self.unified, self.left, self.right):
            editor.clear()
