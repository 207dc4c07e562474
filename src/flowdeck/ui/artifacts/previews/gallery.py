"""The gallery previewer: a folder of images as a grid of thumbnails decoded lazily on workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import PurePosixPath

from PySide6.QtCore import QRect, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from flowdeck.core.artifacts.images import folder_images
from flowdeck.core.errors import FlowdeckError
from flowdeck.core.task_state import TaskState
from flowdeck.ui.artifacts.previewer import Fetch, Previewer, PreviewSource, previewer
from flowdeck.ui.artifacts.previews.image import SVG_READABLE, decode_image
from flowdeck.ui.tasks import TaskRunner

THUMBNAIL = QSize(160, 160)
MAX_THUMBNAILS = 500  # images past this are counted, not shown
FIRST_BATCH = 24  # thumbnails prepare decodes before the grid appears
PATH_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class GalleryData:
    """What ``GalleryPreviewer.show_data`` gets."""

    folder: str
    paths: tuple[str, ...]  # the images shown, in natural name order
    hidden: int  # images past MAX_THUMBNAILS
    others: int  # files in the folder that are not images
    thumbnails: dict[str, QImage | str]  # path -> thumbnail, or why it could not be read
    fetch: Fetch | None = field(default=None, compare=False)


def decode_thumbnails(
    state: TaskState, fetch: Fetch | None, paths: tuple[str, ...]
) -> dict[str, QImage | str]:
    """Thumbnails of ``paths`` (worker thread); a broken file gets its error message instead."""
    assert fetch is not None
    thumbnails: dict[str, QImage | str] = {}
    for done, path in enumerate(paths):
        state.check()
        state.progress(done, len(paths), "Loading thumbnails")
        try:
            thumbnails[path] = decode_image(fetch(state, path), THUMBNAIL).image
        except FlowdeckError as error:
            if state.cancelled:
                raise
            thumbnails[path] = error.message
    state.progress(len(paths), len(paths), "Loading thumbnails")
    return thumbnails


def _placeholder(broken: bool) -> QIcon:
    pixmap = QPixmap(THUMBNAIL)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    inner = QRect(20, 20, THUMBNAIL.width() - 40, THUMBNAIL.height() - 40)
    painter.fillRect(inner, QColor(128, 128, 128, 40))
    if broken:
        painter.setPen(QColor(200, 60, 60))
        painter.drawLine(inner.topLeft(), inner.bottomRight())
        painter.drawLine(inner.topRight(), inner.bottomLeft())
    painter.end()
    return QIcon(pixmap)


def _centred(thumbnail: QImage) -> QIcon:
    """The thumbnail in the middle of a square cell (icons are drawn top-aligned otherwise)."""
    pixmap = QPixmap(THUMBNAIL)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.drawImage(
        (THUMBNAIL.width() - thumbnail.width()) // 2,
        (THUMBNAIL.height() - thumbnail.height()) // 2,
        thumbnail,
    )
    painter.end()
    return QIcon(pixmap)


@previewer
class GalleryPreviewer(Previewer):
    """A folder whose files are mostly images. Arrow keys move the current thumbnail; Enter
    or a double-click emits ``open_requested`` with that image's path."""

    title = "Gallery"

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self.grid = QListWidget()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setIconSize(THUMBNAIL)
        self.grid.setGridSize(QSize(THUMBNAIL.width() + 24, THUMBNAIL.height() + 36))
        self.grid.setUniformItemSizes(True)
        self.grid.setWordWrap(False)
        self.grid.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.grid.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.grid.itemActivated.connect(self._activated)
        self.grid.currentItemChanged.connect(self._current_changed)
        self.grid.verticalScrollBar().valueChanged.connect(self._schedule_visible)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.grid, 1)
        self.setFocusProxy(self.grid)
        self._visible_timer = QTimer(self, singleShot=True, interval=0)
        self._visible_timer.timeout.connect(self.load_visible)
        self._items: dict[str, QListWidgetItem] = {}
        self._loaded: set[str] = set()
        self._pending: set[str] = set()
        self._fetch: Fetch | None = None
        self.destroyed.connect(partial(runner.cancel_owner, self))
        self._empty_icon = _placeholder(broken=False)
        self._broken_icon = _placeholder(broken=True)

    @classmethod
    def accepts(cls, source: PreviewSource) -> int:
        if not source.is_dir:
            return 0
        files = [entry for entry in source.entries if not entry.is_dir]
        images = folder_images(source.path, source.entries, svg=SVG_READABLE)
        return 6 if images and 2 * len(images) >= len(files) else 0

    @staticmethod
    def prepare(state: TaskState, source: PreviewSource) -> GalleryData:
        images = folder_images(source.path, source.entries, svg=SVG_READABLE)
        shown = tuple(images[:MAX_THUMBNAILS])
        files = sum(1 for entry in source.entries if not entry.is_dir)
        thumbnails = decode_thumbnails(state, source.fetch, shown[:FIRST_BATCH])
        return GalleryData(
            folder=source.path,
            paths=shown,
            hidden=len(images) - len(shown),
            others=files - len(images),
            thumbnails=thumbnails,
            fetch=source.fetch,
        )

    def show_data(self, data: GalleryData) -> None:
        self.runner.cancel_owner(self)
        self.grid.clear()
        self._items.clear()
        self._loaded.clear()
        self._pending.clear()
        self._fetch = data.fetch
        for path in data.paths:
            item = QListWidgetItem(self._empty_icon, PurePosixPath(path).name)
            item.setData(PATH_ROLE, path)
            item.setToolTip(PurePosixPath(path).name)
            self.grid.addItem(item)
            self._items[path] = item
        self._set_thumbnails(data.thumbnails)
        total = len(data.paths) + data.hidden
        parts = ["1 image" if total == 1 else f"{total} images"]
        if data.hidden:
            parts[0] = f"The first {len(data.paths)} of {total} images"
            parts.append(f"{data.hidden} more are not shown")
        if data.others == 1:
            parts.append("1 other file is listed in the browser only")
        elif data.others:
            parts.append(f"{data.others} other files are listed in the browser only")
        self.summary.setText(" · ".join(parts))
        if self.grid.count():
            self.grid.setCurrentRow(0)
        self._schedule_visible()

    def current_path(self) -> str | None:
        item = self.grid.currentItem()
        return item.data(PATH_ROLE) if item is not None else None

    def thumbnail_loaded(self, path: str) -> bool:
        return path in self._loaded

    def _set_thumbnails(self, thumbnails: dict[str, QImage | str]) -> None:
        for path, thumbnail in thumbnails.items():
            item = self._items.get(path)
            if item is None:
                continue
            self._loaded.add(path)
            if isinstance(thumbnail, str):
                item.setIcon(self._broken_icon)
                item.setToolTip(f"{PurePosixPath(path).name}\n{thumbnail}")
            else:
                item.setIcon(_centred(thumbnail))

    def _schedule_visible(self) -> None:
        self._visible_timer.start()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._schedule_visible()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._schedule_visible()

    def load_visible(self) -> None:
        """Decode the thumbnails on screen (and one screen below) that are not loaded yet."""
        if self._fetch is None or not self.isVisible():
            return
        area = self.grid.viewport().rect()
        area.setBottom(area.bottom() + area.height())
        wanted = tuple(
            path
            for path, item in self._items.items()
            if path not in self._loaded and self.grid.visualItemRect(item).intersects(area)
        )
        if not wanted or set(wanted) == self._pending:
            return
        self._pending = set(wanted)  # the new task supersedes (cancels) the previous one
        self.runner.submit(
            decode_thumbnails,
            self._fetch,
            wanted,
            key="thumbnails",
            owner=self,
            label="Loading thumbnails",
            on_result=self._thumbnails_done,
        )

    def _thumbnails_done(self, thumbnails: dict[str, QImage | str]) -> None:
        self._pending.clear()
        self._set_thumbnails(thumbnails)
        self._schedule_visible()

    def _activated(self, item: QListWidgetItem) -> None:
        self.open_requested.emit(item.data(PATH_ROLE))

    def _current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            row = self.grid.row(current) + 1
            self.message.emit(f"{current.text()} ({row} of {self.grid.count()})")
