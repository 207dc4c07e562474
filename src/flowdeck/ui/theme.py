"""Light and dark palettes (Fusion), following the system scheme, and the runs' colours."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

MODES = ("system", "light", "dark")

# Twelve hues at one lightness: >= 3.5:1 contrast on white and on the dark base (#1e1e1e),
# >= 17 CIELAB delta-E apart, neighbours in the list far apart in hue.
RUN_COLOURS = (
    "#2f7ed8",  # blue
    "#e0600f",  # orange
    "#2a9d3c",  # green
    "#d9363e",  # red
    "#8e5fd0",  # purple
    "#0f9196",  # teal
    "#d2459f",  # pink
    "#a98400",  # amber
    "#9b6a3c",  # brown
    "#6272e6",  # indigo
    "#5f8f20",  # olive
    "#7a8088",  # slate
)

_DARK_COLOURS: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.Window: "#2b2b2e",
    QPalette.ColorRole.WindowText: "#e4e4e6",
    QPalette.ColorRole.Base: "#1e1e1e",
    QPalette.ColorRole.AlternateBase: "#262628",
    QPalette.ColorRole.ToolTipBase: "#3a3a3e",
    QPalette.ColorRole.ToolTipText: "#e4e4e6",
    QPalette.ColorRole.PlaceholderText: "#8b8b90",
    QPalette.ColorRole.Text: "#e4e4e6",
    QPalette.ColorRole.Button: "#35353a",
    QPalette.ColorRole.ButtonText: "#e4e4e6",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Light: "#48484e",
    QPalette.ColorRole.Midlight: "#3c3c41",
    QPalette.ColorRole.Mid: "#2a2a2e",
    QPalette.ColorRole.Dark: "#1a1a1c",
    QPalette.ColorRole.Shadow: "#0c0c0d",
    QPalette.ColorRole.Highlight: "#2f65ad",
    QPalette.ColorRole.Accent: "#2f65ad",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6cb0ff",
    QPalette.ColorRole.LinkVisited: "#b48cff",
}
_DARK_DISABLED: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.WindowText: "#7c7c82",
    QPalette.ColorRole.Text: "#7c7c82",
    QPalette.ColorRole.ButtonText: "#7c7c82",
    QPalette.ColorRole.Highlight: "#45454b",
    QPalette.ColorRole.HighlightedText: "#a0a0a6",
}
_LIGHT_HIGHLIGHT = "#2b6cc4"


class ThemeNotifier(QObject):
    """Emits ``scheme_changed("light"|"dark")`` whenever the applied palette changes."""

    scheme_changed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.mode = "system"
        self.scheme = "light"
        self.applied = False
        self.following_app: QGuiApplication | None = None

    def follow_system(self, app: QGuiApplication) -> None:
        if self.following_app is app:
            return
        app.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)
        self.following_app = app

    def _system_scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        app = QApplication.instance()
        if self.mode == "system" and isinstance(app, QApplication):
            _apply(app, "system", "dark" if scheme == Qt.ColorScheme.Dark else "light")


_notifier: ThemeNotifier | None = None


def theme_notifier() -> ThemeNotifier:
    """The process-wide notifier (create the QApplication first)."""
    global _notifier
    if _notifier is None:
        _notifier = ThemeNotifier()
    return _notifier


def system_scheme(app: QGuiApplication) -> str:
    """The desktop's colour scheme: "dark" or "light" (light when the platform does not say)."""
    return "dark" if app.styleHints().colorScheme() == Qt.ColorScheme.Dark else "light"


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in _DARK_COLOURS.items():
        palette.setColor(role, QColor(colour))
    for role, colour in _DARK_DISABLED.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return palette


def light_palette() -> QPalette:
    style = QStyleFactory.create("Fusion")
    palette = style.standardPalette()
    palette.setColor(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight, _LIGHT_HIGHLIGHT)
    palette.setColor(QPalette.ColorGroup.Inactive, QPalette.ColorRole.Highlight, _LIGHT_HIGHLIGHT)
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.Accent, QColor(_LIGHT_HIGHLIGHT))
    return palette


def apply_theme(app: QApplication, mode: str) -> str:
    """Apply "light", "dark" or "system" with the Fusion style; returns the scheme applied."""
    if mode not in MODES:
        raise ValueError(f"unknown theme {mode!r}; expected one of {MODES}")
    return _apply(app, mode, system_scheme(app) if mode == "system" else mode)


def _apply(app: QApplication, mode: str, scheme: str) -> str:
    notifier = theme_notifier()
    notifier.mode = mode
    if mode == "system":
        notifier.follow_system(app)
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(dark_palette() if scheme == "dark" else light_palette())
    changed = scheme != notifier.scheme
    notifier.scheme = scheme
    notifier.applied = True
    if changed:
        notifier.scheme_changed.emit(scheme)
    return scheme


def current_scheme() -> str:
    """The scheme in use: the one applied last, else judged from the application's palette."""
    notifier = theme_notifier()
    if notifier.applied:
        return notifier.scheme
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return "dark" if window.lightness() < 128 else "light"


def run_colour(index: int) -> QColor:
    """The colour of the ``index``-th run in tables and plots (cycles after twelve)."""
    return QColor(RUN_COLOURS[index % len(RUN_COLOURS)])
