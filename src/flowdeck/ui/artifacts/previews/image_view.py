"""The zoomable, pannable image view and its zoom bar, shared by the image previewers."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

ZOOM_STEP = 1.25
ZOOM_RANGE = (0.02, 32.0)


class ImageView(QWidget):
    """Draws one image fitted to the widget (the default) or zoomed; wheel zooms around the
    cursor, dragging pans, double-click switches between fit and 100 %."""

    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(120, 90)
        self.setSizePolicy(self.sizePolicy().Policy.Expanding, self.sizePolicy().Policy.Expanding)
        self._pixmap = QPixmap()
        self._size = QSizeF()  # the image's own size; the pixmap may be larger (SVG) or smaller
        self._fit = True
        self._scale = 1.0
        self._offset = QPointF()
        self._drag_from: QPointF | None = None
        self._smooth_cache: tuple[float, QPixmap] | None = None
        self._checkers = _checkerboard()

    # --- state ------------------------------------------------------------------------------

    def set_image(self, image: QImage, size: QSize | None = None, keep_view: bool = False) -> None:
        """Show ``image`` fitted; ``size`` is the image's own size when ``image`` was rendered
        at another (100 % is one pixel of ``size``); ``keep_view`` keeps zoom and position."""
        self._pixmap = QPixmap.fromImage(image)
        self._size = QSizeF(size if size is not None and not size.isEmpty() else image.size())
        self._smooth_cache = None
        if keep_view:
            self._changed()
        else:
            self.fit_to_window()

    def clear(self) -> None:
        self.set_image(QImage())

    @property
    def fitted(self) -> bool:
        return self._fit

    def image_size(self) -> QSize:
        return self._size.toSize() if not self._pixmap.isNull() else QSize()

    def scale(self) -> float:
        """Screen pixels per image pixel."""
        return self._fit_scale() if self._fit else self._scale

    def image_rect(self) -> QRectF:
        """Where the image is drawn, in widget coordinates."""
        scale = self.scale()
        width, height = self._size.width() * scale, self._size.height() * scale
        if self._fit:
            return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)
        return QRectF(self._offset.x(), self._offset.y(), width, height)

    def fit_to_window(self) -> None:
        self._fit = True
        self._changed()

    def actual_size(self) -> None:
        self._zoom_to(1.0, QPointF(self.width() / 2, self.height() / 2))

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        centre = QPointF(self.width() / 2, self.height() / 2)
        self._zoom_to(self.scale() * factor, anchor if anchor is not None else centre)

    def _zoom_to(self, scale: float, anchor: QPointF) -> None:
        if self._pixmap.isNull():
            return
        rect = self.image_rect()
        old = self.scale()
        new = min(max(scale, ZOOM_RANGE[0]), ZOOM_RANGE[1])
        top_left = rect.topLeft()
        self._offset = anchor - (anchor - top_left) * (new / old)
        self._scale, self._fit = new, False
        self._clamp()
        self._changed()

    def _fit_scale(self) -> float:
        """Large images shrink to fit; small ones grow by a whole factor, so pixels stay crisp."""
        if self._pixmap.isNull() or self.width() <= 0 or self.height() <= 0:
            return 1.0
        fit = min(self.width() / self._size.width(), self.height() / self._size.height())
        return fit if fit < 1.0 else float(int(fit))

    def _clamp(self) -> None:
        """Centre a dimension smaller than the widget; else keep the image over the edges."""
        size = self._size * self._scale
        x, y = self._offset.x(), self._offset.y()
        x = (
            (self.width() - size.width()) / 2
            if size.width() <= self.width()
            else min(0.0, max(x, self.width() - size.width()))
        )
        y = (
            (self.height() - size.height()) / 2
            if size.height() <= self.height()
            else min(0.0, max(y, self.height() - size.height()))
        )
        self._offset = QPointF(x, y)

    def _changed(self) -> None:
        self.update()
        self.view_changed.emit()

    # --- painting -----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        if self._pixmap.isNull():
            return
        rect = self.image_rect()
        if self._pixmap.hasAlphaChannel():
            painter.fillRect(rect, self._checkers)
        ratio = self._pixmap.width() / self._size.width()  # pixmap pixels per image pixel
        scale = self.scale() / ratio  # screen pixels per pixmap pixel
        if scale < 1.0:
            painter.drawPixmap(rect.topLeft(), self._smooth(scale))
            return
        # Zoomed in, photos show their pixels; a rasterised SVG is smoothed instead.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, ratio > 1.0)
        visible = rect.intersected(QRectF(self.rect()))
        source = QRectF(
            (visible.x() - rect.x()) / scale,
            (visible.y() - rect.y()) / scale,
            visible.width() / scale,
            visible.height() / scale,
        )
        painter.drawPixmap(visible, self._pixmap, source)

    def _smooth(self, scale: float) -> QPixmap:
        """The pixmap scaled down smoothly, kept for the next paints at the same zoom."""
        if self._smooth_cache is None or abs(self._smooth_cache[0] - scale) > 1e-9:
            size = self._pixmap.size() * scale
            scaled = self._pixmap.scaled(
                max(1, round(size.width())),
                max(1, round(size.height())),
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            self._smooth_cache = (scale, scaled)
        return self._smooth_cache[1]

    # --- input --------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        if not self._fit:
            self._clamp()
        self._changed()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        notches = event.angleDelta().y() / 120
        if notches:
            self.zoom_by(ZOOM_STEP**notches, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton and not self._fit:
            self._drag_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._drag_from is not None:
            self._offset += event.position() - self._drag_from
            self._drag_from = event.position()
            self._clamp()
            self._changed()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self._drag_from = None
        self.unsetCursor()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._fit:
            self._zoom_to(1.0, event.position())
        else:
            self.fit_to_window()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and self._zoom_action(event):
            event.accept()  # the view's keys win over window shortcuts while it has focus
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        action = self._zoom_action(event)
        if action is None:
            super().keyPressEvent(event)
        else:
            action()

    def _zoom_action(self, event: QKeyEvent) -> Callable[[], None] | None:
        """+/−: zoom, Ctrl+0: 100 %, F: fit; None for other keys (arrows go to the parent)."""
        key, control = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            return lambda: self.zoom_by(ZOOM_STEP)
        if key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            return lambda: self.zoom_by(1 / ZOOM_STEP)
        if key == Qt.Key.Key_0 and control:
            return self.actual_size
        if key == Qt.Key.Key_F and not event.modifiers():
            return self.fit_to_window
        return None


def _checkerboard() -> QBrush:
    tile = QPixmap(16, 16)
    tile.fill(QColor(204, 204, 204))
    painter = QPainter(tile)
    painter.fillRect(0, 0, 8, 8, QColor(240, 240, 240))
    painter.fillRect(8, 8, 8, 8, QColor(240, 240, 240))
    painter.end()
    return QBrush(tile)


class ZoomBar(QWidget):
    """Fit / 100 % / − / + buttons and a plain-text line about the image, over an ImageView."""

    def __init__(self, view: ImageView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.fit_button = self._button("Fit", "Fit the image to the window (F)", view.fit_to_window)
        self.fit_button.setCheckable(True)
        self.actual_button = self._button("100 %", "Actual size (Ctrl+0)", view.actual_size)
        self.out_button = self._button("−", "Zoom out (−)", lambda: view.zoom_by(1 / ZOOM_STEP))
        self.in_button = self._button("+", "Zoom in (+)", lambda: view.zoom_by(ZOOM_STEP))
        self.info = QLabel()
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        self.details = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for button in (self.fit_button, self.actual_button, self.out_button, self.in_button):
            layout.addWidget(button)
        layout.addWidget(self.info, 1)
        view.view_changed.connect(self.refresh)

    def _button(self, text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the view
        button.clicked.connect(slot)
        return button

    def set_details(self, details: str) -> None:
        self.details = details
        self.refresh()

    def refresh(self) -> None:
        self.fit_button.setChecked(self.view.fitted)
        zoom = f"{self.view.scale() * 100:.0f} %" if not self.view.image_size().isEmpty() else ""
        self.info.setText(" · ".join(part for part in (self.details, zoom) if part))
