"""Themes: light and dark palettes, following the system scheme, and the runs' colours."""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QTreeView

from flowdeck.ui import theme
from flowdeck.ui.theme import apply_theme, current_scheme, dark_palette, light_palette, run_colour

# Set FLOWDECK_SCREENSHOTS=folder to keep the rendered samples for a look.
SCREENSHOTS = os.environ.get("FLOWDECK_SCREENSHOTS")


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    """The application, with its style, palette and theme state put back afterwards."""
    style, palette = qapp.style().name(), qapp.palette()
    notifier = theme.theme_notifier()
    state = (notifier.mode, notifier.scheme, notifier.applied)
    yield qapp
    qapp.setStyle(style)
    qapp.setPalette(palette)
    notifier.mode, notifier.scheme, notifier.applied = state


def linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: QColor) -> float:
    red, green, blue = linear(colour.redF()), linear(colour.greenF()), linear(colour.blueF())
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def cielab(colour: QColor) -> tuple[float, float, float]:
    """CIE L*a*b* (D65): Euclidean distances approximate perceived colour differences."""
    red, green, blue = linear(colour.redF()), linear(colour.greenF()), linear(colour.blueF())
    x = (0.4124 * red + 0.3576 * green + 0.1805 * blue) / 0.95047
    y = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    z = (0.0193 * red + 0.1192 * green + 0.9505 * blue) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def contrast(first: QColor, second: QColor) -> float:
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def sample_tree() -> QTreeView:
    model = QStandardItemModel(0, 3)
    model.setHorizontalHeaderLabels(["Run", "Status", "metrics.loss"])
    for index, (name, status, loss) in enumerate(
        [
            ("resnet-a", "FINISHED", "0.213"),
            ("resnet-b", "RUNNING", "0.305"),
            ("<b>bold</b> & <script>x</script>", "FAILED", "—"),
            ("vit-small", "FINISHED", "0.187"),
        ]
    ):
        swatch = QStandardItem(name)
        swatch.setData(run_colour(index), Qt.ItemDataRole.DecorationRole)
        model.appendRow([swatch, QStandardItem(status), QStandardItem(loss)])
    view = QTreeView()
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.model_ref = model  # keep the model alive with the view
    view.resize(420, 160)
    view.setCurrentIndex(model.index(1, 0))
    return view


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_explicit_themes_set_a_readable_fusion_palette(qtbot, app, scheme, tmp_path) -> None:
    assert apply_theme(app, scheme) == scheme
    assert current_scheme() == scheme
    assert app.style().name().lower() == "fusion"
    palette = app.palette()
    base = palette.color(QPalette.ColorRole.Base)
    assert (base.lightness() < 60) == (scheme == "dark")
    for background, text in [
        (QPalette.ColorRole.Base, QPalette.ColorRole.Text),
        (QPalette.ColorRole.Window, QPalette.ColorRole.WindowText),
        (QPalette.ColorRole.Button, QPalette.ColorRole.ButtonText),
        (QPalette.ColorRole.Highlight, QPalette.ColorRole.HighlightedText),
        (QPalette.ColorRole.ToolTipBase, QPalette.ColorRole.ToolTipText),
    ]:
        assert contrast(palette.color(background), palette.color(text)) >= 4.5, (background, text)

    view = sample_tree()
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    image = view.grab().toImage()
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    assert image.save(str(folder / f"theme-{scheme}.png"))
    empty_area = image.pixelColor(image.width() - 8, image.height() - 8)
    assert (empty_area.lightness() < 60) == (scheme == "dark")


def test_switching_emits_scheme_changed_once_per_change(qtbot, app) -> None:
    apply_theme(app, "light")
    seen: list[str] = []
    theme.theme_notifier().scheme_changed.connect(seen.append)
    apply_theme(app, "dark")
    apply_theme(app, "dark")
    apply_theme(app, "light")
    assert seen == ["dark", "light"]


def test_system_mode_follows_the_desktop_scheme(qtbot, app) -> None:
    hints = app.styleHints()
    expected = "dark" if hints.colorScheme() == Qt.ColorScheme.Dark else "light"
    assert apply_theme(app, "system") == expected
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # as the platform does when it changes
    assert current_scheme() == "dark"
    assert app.palette().color(QPalette.ColorRole.Base) == dark_palette().color(
        QPalette.ColorRole.Base
    )
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert current_scheme() == "light"
    apply_theme(app, "dark")  # an explicit choice no longer follows the desktop
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert current_scheme() == "dark"


def test_unknown_theme_names_are_rejected(app) -> None:
    with pytest.raises(ValueError):
        apply_theme(app, "sepia")


def test_run_colours_are_distinct_cycle_and_read_on_both_themes(app) -> None:
    colours = [run_colour(index) for index in range(12)]
    assert len({colour.name() for colour in colours}) == 12
    assert run_colour(12) == run_colour(0) and run_colour(25) == run_colour(1)
    for palette in (light_palette(), dark_palette()):
        base = palette.color(QPalette.ColorRole.Base)
        assert min(contrast(colour, base) for colour in colours) >= 3.0
    for first, second in itertools.combinations(colours, 2):
        assert math.dist(cielab(first), cielab(second)) > 15, (first.name(), second.name())
