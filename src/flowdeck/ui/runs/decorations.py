"""Small cached decorations for the runs table: status icons and plain-text-safe tooltips."""

from __future__ import annotations

import html

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPixmap

STATUS_COLOURS = {
    "RUNNING": "#1e88e5",
    "SCHEDULED": "#f9a825",
    "FINISHED": "#43a047",
    "FAILED": "#e53935",
    "KILLED": "#8d8d8d",
}
_UNKNOWN_STATUS = "#bdbdbd"
_icons: dict[str, QIcon] = {}


def status_colour(status: str) -> QColor:
    return QColor(STATUS_COLOURS.get(status, _UNKNOWN_STATUS))


def status_icon(status: str) -> QIcon | QColor:
    """A filled dot in the status colour (made once per status; a colour before a QGuiApplication)."""
    icon = _icons.get(status)
    if icon is None:
        if QGuiApplication.instance() is None:
            return status_colour(status)
        icon = _icons[status] = _dot(status_colour(status))
    return icon


def _dot(colour: QColor, size: int = 12) -> QIcon:
    pixmap = QPixmap(size * 2, size * 2)  # drawn at 2x so it stays crisp on HiDPI screens
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(colour.darker(130))
    painter.setBrush(colour)
    painter.drawEllipse(QRectF(4, 4, size * 2 - 8, size * 2 - 8))
    painter.end()
    pixmap.setDevicePixelRatio(2.0)
    return QIcon(pixmap)


def escaped_tooltip(text: str) -> str | None:
    """Rich-text tooltip that shows ``text`` verbatim (markup escaped, line breaks kept)."""
    if not text:
        return None
    return f'<p style="white-space:pre-wrap">{html.escape(text)}</p>'
