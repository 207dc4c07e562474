"""The image previewer (png, jpeg, gif, bmp, webp, svg): decoded on a worker, zoom and pan."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import (
    QImage,
    QImageIOHandler,
    QImageReader,
    QKeyEvent,
    QPainter,
)
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from flowdeck.core.artifacts import kinds
from flowdeck.core.artifacts.hexdump import file_error
from flowdeck.core.artifacts.images import drop_svg_references, folder_images, neighbours
from flowdeck.core.errors import CorruptStore
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_size
from flowdeck.ui.artifacts.previewer import Previewer, PreviewSource, previewer
from flowdeck.ui.artifacts.previews.image_view import ImageView, ZoomBar

try:
    from PySide6.QtSvg import QSvgRenderer
except ImportError:  # a PySide6 build without QtSvg (Essentials ships it)
    QSvgRenderer = None  # type: ignore[assignment,misc]

SVG_READABLE = QSvgRenderer is not None  # else SVG files get the "open externally" view
MAX_PIXELS = 40_000_000  # larger images are decoded scaled down
ALLOCATION_LIMIT_MB = 1024
MAX_SVG_BYTES = 20 * 1024 * 1024
SVG_LONG_SIDE = (512, 4096)  # an SVG is rasterised at twice its size, within these bounds


@dataclass(frozen=True)
class DecodedImage:
    """An image decoded on a worker thread, with what the user is told about it."""

    image: QImage
    width: int  # of the file, before any scaling down
    height: int
    file_size: int | None
    scaled_down: bool = False


@dataclass(frozen=True)
class ImageData:
    """What ``ImagePreviewer.show_data`` gets."""

    decoded: DecodedImage
    path: str
    previous_path: str | None
    next_path: str | None


def unreadable(reason: str) -> CorruptStore:
    return CorruptStore(f"This image could not be read: {reason}.")


def decode_image(
    path: Path, box: QSize | None = None, max_pixels: int = MAX_PIXELS
) -> DecodedImage:
    """Decode an image file (any thread); ``box`` scales it down to fit (thumbnails)."""
    if path.suffix.lower() == ".svg":
        return render_svg(path, box)
    try:
        file_size = path.stat().st_size
    except OSError as error:
        raise file_error(error) from error
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    width, height = size.width(), size.height()
    target = QSize(size)
    if size.isValid() and box is not None and (width > box.width() or height > box.height()):
        target = size.scaled(box, Qt.AspectRatioMode.KeepAspectRatio)
    if size.isValid() and target.width() * target.height() > max_pixels:
        factor = (max_pixels / (width * height)) ** 0.5
        target = QSize(max(1, int(width * factor)), max(1, int(height * factor)))
    scaled = size.isValid() and target != size
    if scaled:
        reader.setScaledSize(target)
    reader.setAllocationLimit(ALLOCATION_LIMIT_MB)  # some formats decode in full, then scale
    image = reader.read()
    if image.isNull() and size.isValid() and width * height * 4 > ALLOCATION_LIMIT_MB << 20:
        raise unreadable(f"at {width * height / 1e6:.0f} megapixels it is too large to decode")
    if image.isNull():
        raise unreadable(_reason(reader))
    rotated = reader.transformation() & QImageIOHandler.Transformation.TransformationRotate90
    if size.isValid() and rotated:
        width, height = height, width
    return DecodedImage(image, width or image.width(), height or image.height(), file_size, scaled)


def _reason(reader: QImageReader) -> str:
    error = reader.error()
    if error == QImageReader.ImageReaderError.UnsupportedFormatError:
        return "its content is not in an image format Flowdeck can decode"
    if error == QImageReader.ImageReaderError.InvalidDataError:
        return "the file is damaged or incomplete"
    if error in (
        QImageReader.ImageReaderError.FileNotFoundError,
        QImageReader.ImageReaderError.DeviceError,
    ):
        return "the file could not be opened"
    return reader.errorString() or "unknown error"


def render_svg(path: Path, box: QSize | None = None) -> DecodedImage:
    """Rasterise an SVG (any thread) after removing its references to other files."""
    try:
        file_size = path.stat().st_size
        if file_size > MAX_SVG_BYTES:
            raise unreadable(f"the SVG is larger than {format_size(MAX_SVG_BYTES)}")
        data = drop_svg_references(path.read_bytes())
    except OSError as error:
        raise file_error(error) from error
    if QSvgRenderer is None:
        raise unreadable("this Qt installation cannot draw SVG files")
    renderer = QSvgRenderer(QByteArray(data))
    size = renderer.defaultSize()
    if not renderer.isValid() or size.isEmpty():
        raise unreadable("the file is not a valid SVG drawing")
    low, high = SVG_LONG_SIDE
    long_side = min(max(2 * max(size.width(), size.height()), low), high)
    target = size.scaled(box or QSize(long_side, long_side), Qt.AspectRatioMode.KeepAspectRatio)
    image = QImage(target, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return DecodedImage(image, size.width(), size.height(), file_size)


def describe(decoded: DecodedImage) -> str:
    parts = [f"{decoded.width} × {decoded.height} px"]
    if decoded.file_size is not None:
        parts.append(format_size(decoded.file_size))
    return " · ".join(parts)


@previewer
class ImagePreviewer(Previewer):
    """One image. The host passes the parent folder's children in ``source.entries`` for a
    file; Left/Up and Right/Down then emit ``open_requested`` for the previous/next image."""

    title = "Image"

    def __init__(self, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self.view = ImageView()
        self.bar = ZoomBar(self.view)
        self.notice = QLabel()
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(self.notice)
        layout.addWidget(self.view, 1)
        self.setFocusProxy(self.view)
        self.data: ImageData | None = None

    @classmethod
    def accepts(cls, source: PreviewSource) -> int:
        if source.is_dir:
            return 0
        if source.kind == kinds.IMAGE or (source.kind == kinds.SVG and SVG_READABLE):
            return 10
        return 0

    @staticmethod
    def prepare(state: TaskState, source: PreviewSource) -> ImageData:
        assert source.fetch is not None
        local = source.fetch(state, source.path)
        state.check()
        decoded = decode_image(local)
        folder = source.path.rsplit("/", 1)[0] if "/" in source.path else ""
        siblings = folder_images(folder, source.entries, svg=SVG_READABLE)
        previous_path, next_path = neighbours(siblings, source.path)
        return ImageData(decoded, source.path, previous_path, next_path)

    def show_data(self, data: ImageData) -> None:
        self.data = data
        decoded = data.decoded
        self.view.set_image(decoded.image, QSize(decoded.width, decoded.height))
        self.bar.set_details(describe(decoded))
        if decoded.scaled_down:
            shown = decoded.image
            self.notice.setText(
                f"This image has {decoded.width * decoded.height / 1e6:.0f} megapixels; it is "
                f"shown scaled down to {shown.width()} × {shown.height()} px."
            )
        self.notice.setVisible(decoded.scaled_down)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        key = event.key()
        target = None
        if self.data is not None and key in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            target = self.data.previous_path
        elif self.data is not None and key in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            target = self.data.next_path
        else:
            super().keyPressEvent(event)
            return
        if target is not None:
            self.open_requested.emit(target)
        else:
            backwards = key in (Qt.Key.Key_Left, Qt.Key.Key_Up)
            self.message.emit(
                "This is the first image." if backwards else "This is the last image."
            )
