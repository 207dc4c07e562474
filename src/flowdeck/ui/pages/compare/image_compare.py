"""Two images compared: side by side, swipe (a slider reveals one over the other), flicker."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QHideEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

FLICKER_MS = 500
SWIPE_STEPS = 1000


def caption(text: str = "", parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


def fitted(size: QSize, room: QRect) -> QRect:
    """The largest rectangle of ``size``'s shape centred in ``room``."""
    if size.isEmpty() or room.isEmpty():
        return QRect()
    scaled = size.scaled(room.size(), Qt.AspectRatioMode.KeepAspectRatio)
    left = room.left() + (room.width() - scaled.width()) // 2
    top = room.top() + (room.height() - scaled.height()) // 2
    return QRect(left, top, scaled.width(), scaled.height())


def draw(painter: QPainter, image: QImage, target: QRect) -> None:
    """Smooth when shrinking; sharp pixels when enlarging (a small plot stays legible)."""
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, target.width() < image.width())
    painter.drawImage(target, image)


class ImageCanvas(QWidget):
    """One image, fitted to the widget; ``images`` may hold two drawn in the same rectangle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.setMinimumSize(120, 120)

    def set_image(self, image: QImage) -> None:
        self.image = image
        self.update()

    def target(self) -> QRect:
        return fitted(self.image.size(), self.rect().adjusted(4, 4, -4, -4))

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        if not self.image.isNull():
            painter = QPainter(self)
            draw(painter, self.image, self.target())


class SwipeCanvas(ImageCanvas):
    """The first image, and the second over it right of a split line (drag it, or the slider)."""

    split_moved = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.other = QImage()
        self.split = 0.5

    def set_images(self, first: QImage, second: QImage) -> None:
        self.other = second
        self.set_image(first)

    def set_split(self, fraction: float) -> None:
        self.split = min(1.0, max(0.0, fraction))
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        if self.image.isNull():
            return
        painter = QPainter(self)
        target = self.target()
        draw(painter, self.image, target)
        x = target.left() + round(target.width() * self.split)
        if not self.other.isNull():
            painter.save()
            painter.setClipRect(QRect(x, target.top(), target.right() - x + 1, target.height()))
            draw(painter, self.other, target)
            painter.restore()
        painter.setPen(QPen(QColor(255, 255, 255), 3))
        painter.drawLine(x, target.top(), x, target.bottom())
        painter.setPen(QPen(QColor(0, 0, 0), 1))
        painter.drawLine(x, target.top(), x, target.bottom())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self._drag(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._drag(event)

    def _drag(self, event: QMouseEvent) -> None:
        target = self.target()
        if target.width() > 0:
            fraction = (event.position().x() - target.left()) / target.width()
            self.set_split(fraction)
            self.split_moved.emit(self.split)


class FlickerCanvas(ImageCanvas):
    """One image at a time; the other every 500 ms while flickering, or on Space."""

    switched = Signal(int)  # the index of the image now shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.images: tuple[QImage, QImage] = (QImage(), QImage())
        self.shown = 0
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.timer = QTimer(self, interval=FLICKER_MS)
        self.timer.timeout.connect(self.toggle)

    def set_images(self, first: QImage, second: QImage) -> None:
        self.images = (first, second)
        self.show_index(0)

    def show_index(self, index: int) -> None:
        self.shown = index
        self.set_image(self.images[index])
        self.switched.emit(index)

    def toggle(self) -> None:
        self.show_index(1 - self.shown)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Space:
            self.toggle()
            event.accept()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, _event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.setFocus()


class ImageCompareView(QTabWidget):
    """Two runs' versions of one image in three views."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDocumentMode(True)
        self.names = ("", "")
        self.first, self.second = ImageCanvas(), ImageCanvas()
        self.first_caption, self.second_caption = caption(), caption()
        side = QWidget()
        grid = QGridLayout(side)
        grid.addWidget(self.first_caption, 0, 0)
        grid.addWidget(self.second_caption, 0, 1)
        grid.addWidget(self.first, 1, 0)
        grid.addWidget(self.second, 1, 1)
        grid.setRowStretch(1, 1)
        self.swipe = SwipeCanvas()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SWIPE_STEPS)
        self.slider.setValue(SWIPE_STEPS // 2)
        self.swipe_left, self.swipe_right = caption(), caption()
        swipe = QWidget()
        swipe_layout = QVBoxLayout(swipe)
        names = QHBoxLayout()
        names.addWidget(self.swipe_left)
        names.addStretch(1)
        names.addWidget(self.swipe_right)
        swipe_layout.addLayout(names)
        swipe_layout.addWidget(self.swipe, 1)
        swipe_layout.addWidget(self.slider)
        self.flicker = FlickerCanvas()
        self.flicker_caption = caption()
        self.auto = QCheckBox(f"Switch every {FLICKER_MS} ms (Space switches by hand)")
        self.auto.setChecked(True)
        flicker = QWidget()
        flicker_layout = QVBoxLayout(flicker)
        flicker_layout.addWidget(self.flicker_caption)
        flicker_layout.addWidget(self.flicker, 1)
        flicker_layout.addWidget(self.auto)
        self.addTab(side, "Side by side")
        self.addTab(swipe, "Swipe")
        self.addTab(flicker, "Flicker")
        self.slider.valueChanged.connect(lambda value: self.swipe.set_split(value / SWIPE_STEPS))
        self.swipe.split_moved.connect(
            lambda fraction: self.slider.setValue(round(fraction * SWIPE_STEPS))
        )
        self.flicker.switched.connect(
            lambda index: self.flicker_caption.setText(f"Showing {self.names[index]}")
        )
        self.auto.toggled.connect(lambda _on: self._flicker_timer())
        self.currentChanged.connect(lambda _index: self._flicker_timer())

    def set_images(self, names: tuple[str, str], first: QImage, second: QImage) -> None:
        self.names = names
        self.first.set_image(first)
        self.second.set_image(second)
        self.first_caption.setText(f"{names[0]} ({first.width()}×{first.height()})")
        self.second_caption.setText(f"{names[1]} ({second.width()}×{second.height()})")
        self.swipe.set_images(first, second)
        self.swipe_left.setText(f"◀ {names[0]}")
        self.swipe_right.setText(f"{names[1]} ▶")
        self.flicker.set_images(first, second)
        self._flicker_timer()

    def _flicker_timer(self) -> None:
        running = self.isVisible() and self.currentIndex() == 2 and self.auto.isChecked()
        if running and not self.flicker.timer.isActive():
            self.flicker.timer.start()
        elif not running:
            self.flicker.timer.stop()
        if self.currentIndex() == 2:
            self.flicker.setFocus()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._flicker_timer()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        self.flicker.timer.stop()
