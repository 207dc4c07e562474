"""Labels that show store text exactly as typed: never rich text, selectable with the mouse."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


def plain_label(text: str = "", wrap: bool = False, parent: QWidget | None = None) -> QLabel:
    """A label that shows ``text`` exactly as typed (never as rich text) and can be selected."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
