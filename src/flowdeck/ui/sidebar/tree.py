"""The sidebar's tree view (middle-click and Enter report rows) and its experiment search filter."""

from __future__ import annotations

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QAbstractItemView, QTreeView, QWidget

from flowdeck.ui.sidebar.nodes import Kind, Role

ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class ExperimentFilter(QSortFilterProxyModel):
    """Keeps every row but experiments, which must contain the search text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self.setRecursiveFilteringEnabled(False)

    def set_search(self, text: str) -> None:
        self._needle = text.strip().casefold()
        self.invalidateFilter()

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        if not source_parent.isValid() or not self._needle:
            return True
        index = self.sourceModel().index(source_row, 0, source_parent)
        if index.data(Role.KIND) != Kind.EXPERIMENT:
            return True
        return self._needle in str(index.data(Role.NAME)).casefold()


class NavigationTree(QTreeView):
    """A tree whose middle button never selects: it reports the row instead, as Enter does."""

    middle_clicked = Signal(QModelIndex)  # the row under the middle button (press and release)
    enter_pressed = Signal(QModelIndex)  # the current row when Enter or Return was pressed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._middle_pressed: QPersistentModelIndex | None = None
        self.setHeaderHidden(True)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            index = self.indexAt(event.position().toPoint())
            self._middle_pressed = QPersistentModelIndex(index) if index.isValid() else None
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            pressed, self._middle_pressed = self._middle_pressed, None
            index = self.indexAt(event.position().toPoint())
            if pressed is not None and index.isValid() and QModelIndex(pressed) == index:
                self.middle_clicked.emit(index)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        current = self.currentIndex()
        if event.key() in ENTER_KEYS and current.isValid():
            self.enter_pressed.emit(current)
            event.accept()
            return
        super().keyPressEvent(event)
