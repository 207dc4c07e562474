"""Chart export: PNG at a chosen pixel size and DPI, SVG, CSV data, and the dialog to choose."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QRectF, QSize, QStandardPaths, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGraphicsItem,
    QGraphicsWidget,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from flowdeck.ui.settings import Settings

PNG, SVG, CSV = "png", "svg", "csv"
FORMATS = {PNG: "PNG image", SVG: "SVG drawing", CSV: "CSV data"}
SCREEN_DPI = 96  # a chart exported at this DPI looks as it does on a standard screen
INCH = 0.0254  # metres
MAX_PIXELS = 20_000
SETTINGS_PREFIX = "chart_export"

Exportable = pg.GraphicsObject | pg.PlotItem | QGraphicsItem


@dataclass(frozen=True)
class ExportChoice:
    """What the user asked for: format ("png", "svg" or "csv"), file and PNG size/DPI."""

    format: str
    path: str
    width: int
    height: int
    dpi: int


def export_png(item: Exportable, path: str, width: int, height: int, dpi: int) -> None:
    """Render ``item`` into a ``width`` × ``height`` PNG whose metadata says ``dpi``.

    The item is laid out at ``width``/``height`` divided by ``dpi``/96 for the rendering, so
    text keeps its printed size whatever the DPI. Raises OSError when the file cannot be written.
    """
    if width <= 0 or height <= 0 or dpi <= 0:
        raise ValueError(f"export size must be positive, not {width}x{height} at {dpi} DPI")
    scale = dpi / SCREEN_DPI
    exporter = _exporter(item)
    _check_writable(path)
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(exporter.parameters()["background"])
    with _laid_out_at(item, width / scale, height / scale):
        painter = QPainter(image)
        _render(item, exporter, painter, QRectF(0, 0, width, height))
    dots_per_metre = round(dpi / INCH)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    if not image.save(path, "PNG"):
        raise OSError(f"could not write {path}")


def export_svg(
    item: Exportable, path: str, width: int | None = None, height: int | None = None
) -> None:
    """Write ``item`` as SVG, laid out at ``width`` × ``height`` when both are given.

    Drawn with Qt's SVG generator: pyqtgraph 0.14's SVGExporter fails on the closed paths
    (``Z``) Qt 6 writes for every ViewBox (pyqtgraph issue #3495).
    """
    exporter = _exporter(item)
    _check_writable(path)
    size = (width, height) if width and height else (None, None)
    with _laid_out_at(item, *size):
        rect = item.boundingRect()
        target = QRectF(0, 0, rect.width(), rect.height())
        generator = QSvgGenerator()
        generator.setFileName(path)
        generator.setSize(QSize(math.ceil(target.width()), math.ceil(target.height())))
        generator.setViewBox(target)
        generator.setResolution(SCREEN_DPI)
        generator.setTitle("Flowdeck chart")
        painter = QPainter()
        if not painter.begin(generator):
            raise OSError(f"could not write {path}")
        background = exporter.parameters()["background"]
        if background.alpha():
            painter.fillRect(target, background)
        _render(item, exporter, painter, target)


def _exporter(item: Exportable) -> ImageExporter:
    """pyqtgraph's exporter for ``item``: its background colour and the items' export mode."""
    if item.scene() is None:
        raise ValueError("the item to export is not in a scene")
    return ImageExporter(item)


def _check_writable(path: str) -> None:
    """Raise the OSError the user should read (no such folder, permission denied...) now."""
    with open(path, "ab"):
        pass


def _render(item: Exportable, exporter: ImageExporter, painter: QPainter, target: QRectF) -> None:
    """Draw ``item``'s part of its scene into ``target``, then end ``painter``."""
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        exporter.setExportMode(True, {"antialias": True, "painter": painter})
        source = item.mapRectToScene(item.boundingRect())
        # a layout item was laid out at the target's shape; anything else must not stretch
        laid_out = isinstance(item, QGraphicsWidget)
        mode = (
            Qt.AspectRatioMode.IgnoreAspectRatio if laid_out else Qt.AspectRatioMode.KeepAspectRatio
        )
        item.scene().render(painter, target, source, mode)
    finally:
        exporter.setExportMode(False)
        painter.end()


def write_export(choice: ExportChoice, item: Exportable, write_csv: Callable[[str], None]) -> None:
    """Carry out ``choice``: the chart as PNG or SVG, or its data through ``write_csv``."""
    if choice.format == PNG:
        export_png(item, choice.path, choice.width, choice.height, choice.dpi)
    elif choice.format == SVG:
        export_svg(item, choice.path, choice.width, choice.height)
    elif choice.format == CSV:
        write_csv(choice.path)
    else:
        raise ValueError(f"unknown export format {choice.format!r}")


def export_chart(
    parent: QWidget,
    item: Exportable,
    write_csv: Callable[[str], None],
    file_stem: str = "chart",
) -> ExportChoice | None:
    """Ask with an ExportDialog, then export; a failure to write is a message, not a crash."""
    view_size = parent.size()
    dialog = ExportDialog(parent, file_stem=file_stem, size=(view_size.width(), view_size.height()))
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    choice = dialog.choice()
    try:
        write_export(choice, item, write_csv)
    except OSError as error:
        QMessageBox.warning(parent, "Export failed", f"Could not export the chart:\n{error}")
        return None
    return choice


@contextmanager
def _laid_out_at(item: Exportable, width: float | None, height: float | None) -> Iterator[None]:
    """Temporarily give a layout item (a PlotItem...) this size so axes and labels follow."""
    if width is None or height is None or not isinstance(item, QGraphicsWidget):
        yield
        return
    old_size = item.size()
    item.resize(width, height)
    _activate(item)
    try:
        yield
    finally:
        item.resize(old_size)
        _activate(item)


def _activate(item: QGraphicsWidget) -> None:
    layout = QGraphicsWidget.layout(item)  # PlotItem shadows layout() with an attribute
    if layout is not None:
        layout.activate()


class ExportDialog(QDialog):
    """Format, size, DPI and file of an export; remembers the last size, DPI and folder."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        settings: Settings | None = None,
        file_stem: str = "chart",
        size: tuple[int, int] = (1200, 800),
        formats: tuple[str, ...] = (PNG, SVG, CSV),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export chart")
        self._settings = settings or Settings()
        self.format_combo = QComboBox()
        for name in formats:
            self.format_combo.addItem(FORMATS[name], name)
        self.width_spin = _pixels_spin(self._setting("width", size[0]))
        self.height_spin = _pixels_spin(self._setting("height", size[1]))
        self.dpi_spin = QSpinBox(minimum=36, maximum=2400, suffix=" DPI")
        self.dpi_spin.setValue(self._setting("dpi", SCREEN_DPI))
        self.path_edit = QLineEdit()
        self.path_edit.setMinimumWidth(self.fontMetrics().horizontalAdvance("x") * 48)
        self.browse_button = QPushButton("Browse…")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")

        remembered = self._settings.value(f"{SETTINGS_PREFIX}/format", PNG, str)
        index = self.format_combo.findData(remembered)
        self.format_combo.setCurrentIndex(max(index, 0))
        folder = self._settings.value(f"{SETTINGS_PREFIX}/folder", _default_folder(), str)
        self.path_edit.setText(str(Path(folder) / f"{file_stem}.{self.format()}"))

        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Format:", self.format_combo)
        form.addRow("Width:", self.width_spin)
        form.addRow("Height:", self.height_spin)
        form.addRow("Resolution:", self.dpi_spin)
        form.addRow("File:", path_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self.path_edit.textChanged.connect(self._update_ok)
        self.browse_button.clicked.connect(self.browse)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._format_changed()

    def format(self) -> str:
        return str(self.format_combo.currentData())

    def set_format(self, name: str) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(name))

    def choice(self) -> ExportChoice:
        return ExportChoice(
            self.format(),
            self._path_with_suffix(),
            self.width_spin.value(),
            self.height_spin.value(),
            self.dpi_spin.value(),
        )

    def browse(self) -> None:
        name = self.format()
        chosen, _filter = QFileDialog.getSaveFileName(
            self, "Export chart", self._path_with_suffix(), f"{FORMATS[name]} (*.{name})"
        )
        if chosen:
            self.path_edit.setText(_with_suffix(chosen, name))

    def accept(self) -> None:
        if not self.path_edit.text().strip():
            return
        choice = self.choice()
        self.path_edit.setText(choice.path)
        prefix = SETTINGS_PREFIX
        self._settings.set_value(f"{prefix}/format", choice.format)
        self._settings.set_value(f"{prefix}/width", choice.width)
        self._settings.set_value(f"{prefix}/height", choice.height)
        self._settings.set_value(f"{prefix}/dpi", choice.dpi)
        self._settings.set_value(f"{prefix}/folder", str(Path(choice.path).parent))
        super().accept()

    def _setting(self, key: str, default: int) -> int:
        value = self._settings.value(f"{SETTINGS_PREFIX}/{key}", int(default), int)
        return value if value > 0 else int(default)

    def _path_with_suffix(self) -> str:
        text = self.path_edit.text().strip()
        if not text:
            return ""
        path = Path(text).expanduser()
        if not path.is_absolute():
            folder = self._settings.value(f"{SETTINGS_PREFIX}/folder", _default_folder(), str)
            path = Path(folder) / path
        return _with_suffix(str(path), self.format())

    def _format_changed(self) -> None:
        name = self.format()
        picture = name in (PNG, SVG)
        self.width_spin.setEnabled(picture)
        self.height_spin.setEnabled(picture)
        self.dpi_spin.setEnabled(name == PNG)
        if self.path_edit.text().strip():
            self.path_edit.setText(_with_suffix(self.path_edit.text().strip(), name))
        self._update_ok()

    def _update_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.path_edit.text().strip()))


def _pixels_spin(value: int) -> QSpinBox:
    spin = QSpinBox(minimum=16, maximum=MAX_PIXELS, suffix=" px")
    spin.setValue(value)
    return spin


def _with_suffix(path: str, name: str) -> str:
    """``path`` ending in ``.name``: a known export suffix is replaced, anything else kept."""
    current = Path(path)
    if current.suffix.lower().lstrip(".") in FORMATS:
        return str(current.with_suffix(f".{name}"))
    return f"{path}.{name}"


def _default_folder() -> str:
    for location in (
        QStandardPaths.StandardLocation.PicturesLocation,
        QStandardPaths.StandardLocation.HomeLocation,
    ):
        folder = QStandardPaths.writableLocation(location)
        if folder and Path(folder).is_dir():
            return folder
    return str(Path.home())
