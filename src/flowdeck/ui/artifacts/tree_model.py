"""The artifact tree: plain nodes listed folder by folder (a "Loading…" row until then), its view."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QIcon, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QStyle,
    QTreeView,
    QWidget,
)

from flowdeck.core.entities import ArtifactEntry
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_size
from flowdeck.store.artifact_owner import ArtifactOwner

Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()
NAME_COLUMN, SIZE_COLUMN = 0, 1
HEADERS = ("Name", "Size")
LOADING_TEXT = "Loading…"
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)

# Listing states of a folder node.
UNLISTED, LOADING, LISTED, FAILED = "unlisted", "loading", "listed", "failed"


class Node:
    """One row: an artifact (file or folder) or a folder's "Loading…" / error row."""

    __slots__ = (
        "children",
        "entries",
        "is_dir",
        "key",
        "name",
        "parent",
        "path",
        "row",
        "size",
        "size_text",
        "state",
    )

    def __init__(
        self, key: int, parent: Node | None, path: str | None, is_dir: bool, size: int | None
    ) -> None:
        self.key = key
        self.parent = parent
        self.path = path  # None for a placeholder row
        self.name = "" if path is None else path.rsplit("/", 1)[-1]
        self.is_dir = is_dir
        self.size = size
        self.size_text = "" if is_dir else format_size(size)
        self.row = 0
        self.children: list[Node] = []
        self.entries: tuple[ArtifactEntry, ...] = ()  # a listed folder's children
        self.state = UNLISTED if is_dir else LISTED


class ArtifactTreeModel(QAbstractItemModel):
    """Two columns (name, size); an index's internal id is its node's key."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._keys = itertools.count(1)
        self._nodes: dict[int, Node] = {}
        self._by_path: dict[str, Node] = {}
        self._icons: tuple[QIcon, QIcon] | None = None
        #: the local file of an artifact fetched already, else None (what a drag can carry)
        self.local_file: Callable[[str], Path | None] = lambda _path: None
        self._root = self._make_root()

    # --- QAbstractItemModel -------------------------------------------------------------------

    def index(self, row: int, column: int, parent: Index = ROOT) -> QModelIndex:
        if row < 0 or not 0 <= column < len(HEADERS):
            return QModelIndex()
        node = self._node_at(parent)
        if node is None or row >= len(node.children):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row].key)

    def parent(self, child: Index = ROOT) -> QModelIndex:  # type: ignore[override]
        node = self._nodes.get(int(child.internalId())) if child.isValid() else None
        if node is None or node.parent is None or node.parent is self._root:
            return QModelIndex()
        return self.createIndex(node.parent.row, 0, node.parent.key)

    def rowCount(self, parent: Index = ROOT) -> int:
        if parent.isValid() and parent.column() != NAME_COLUMN:
            return 0
        node = self._node_at(parent)
        return 0 if node is None else len(node.children)

    def columnCount(self, parent: Index = ROOT) -> int:
        return len(HEADERS)

    def flags(self, index: Index) -> Qt.ItemFlag:
        node = self._node_at(index) if index.isValid() else None
        if node is None:
            return Qt.ItemFlag.NoItemFlags
        if node.path is None:
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
        flags = (
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        )
        return flags if node.is_dir else flags | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self._node_at(index) if index.isValid() else None
        if node is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return node.name if column == NAME_COLUMN else node.size_text
        if role == PATH_ROLE:
            return node.path
        if role == Qt.ItemDataRole.ToolTipRole and node.path is not None:
            return node.path
        if role == Qt.ItemDataRole.DecorationRole and column == NAME_COLUMN and node.path:
            folder, file = self._standard_icons()
            return folder if node.is_dir else file
        if role == Qt.ItemDataRole.TextAlignmentRole and column == SIZE_COLUMN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData | None:
        """The local files of the fetched artifacts among ``indexes`` (None if none is)."""
        paths = dict.fromkeys(self.path_of(index) for index in indexes)
        files = [self.local_file(path) for path in paths if path is not None]
        urls = [QUrl.fromLocalFile(str(local)) for local in files if local is not None]
        if not urls:
            return None
        mime = QMimeData()
        mime.setUrls(urls)
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    # --- the tree ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every listing (Refresh): only an unlisted root remains."""
        self.beginResetModel()
        self._root = self._make_root()
        self.endResetModel()

    def node(self, path: str) -> Node | None:
        """The node of an artifact path ("" is the root), if listed so far."""
        return self._by_path.get(path)

    def index_of(self, path: str, column: int = NAME_COLUMN) -> QModelIndex:
        node = self._by_path.get(path)
        if node is None or node is self._root:
            return QModelIndex()
        return self.createIndex(node.row, column, node.key)

    def path_of(self, index: Index) -> str | None:
        """The artifact path of a row; None for a placeholder or an invalid index."""
        node = self._node_at(index) if index.isValid() else None
        return None if node is None else node.path

    def state_of(self, path: str) -> str | None:
        node = self._by_path.get(path)
        return None if node is None else node.state

    def entries(self, path: str) -> tuple[ArtifactEntry, ...] | None:
        """A listed folder's children, as the store listed them (None until listed)."""
        node = self._by_path.get(path)
        return node.entries if node is not None and node.state == LISTED else None

    def mark_loading(self, path: str) -> None:
        node = self._by_path.get(path)
        if node is not None and node.is_dir:
            node.state = LOADING
            self._set_placeholder(node, LOADING_TEXT)

    def set_failed(self, path: str, message: str) -> None:
        """The folder could not be listed: its one row says why; expanding again retries."""
        node = self._by_path.get(path)
        if node is not None and node.is_dir:
            node.state = FAILED
            self._set_placeholder(node, message)

    def set_listing(self, path: str, entries: list[ArtifactEntry]) -> None:
        """Put a folder's listed children in place of its placeholder row."""
        node = self._by_path.get(path)
        if node is None or not node.is_dir:
            return
        self._drop_children(node)
        children = []
        for row, entry in enumerate(entries):
            child = self._add(node, entry.path, entry.is_dir, entry.file_size)
            child.row = row
            children.append(child)
        if children:
            self.beginInsertRows(self._index_of_node(node), 0, len(children) - 1)
            node.children = children
            self.endInsertRows()
        node.entries = tuple(entries)
        node.state = LISTED

    # --- internals ----------------------------------------------------------------------------

    def _make_root(self) -> Node:
        self._nodes.clear()
        self._by_path.clear()
        return self._add(None, "", True, None)

    def _add(self, parent: Node | None, path: str | None, is_dir: bool, size: int | None) -> Node:
        node = Node(next(self._keys), parent, path, is_dir, size)
        self._nodes[node.key] = node
        if path is not None:
            self._by_path[path] = node
        if is_dir:
            placeholder = Node(next(self._keys), node, None, False, None)
            placeholder.name = LOADING_TEXT
            self._nodes[placeholder.key] = placeholder
            node.children = [placeholder]
        return node

    def _set_placeholder(self, node: Node, text: str) -> None:
        if len(node.children) == 1 and node.children[0].path is None:
            placeholder = node.children[0]
            placeholder.name = text
            index = self.createIndex(0, NAME_COLUMN, placeholder.key)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])

    def _drop_children(self, node: Node) -> None:
        if not node.children:
            return
        self.beginRemoveRows(self._index_of_node(node), 0, len(node.children) - 1)
        pending = list(node.children)
        while pending:
            child = pending.pop()
            self._nodes.pop(child.key, None)
            if child.path is not None and self._by_path.get(child.path) is child:
                del self._by_path[child.path]
            pending.extend(child.children)
        node.children = []
        self.endRemoveRows()

    def _index_of_node(self, node: Node) -> QModelIndex:
        if node is self._root:
            return QModelIndex()
        return self.createIndex(node.row, 0, node.key)

    def _node_at(self, index: Index) -> Node | None:
        if not index.isValid():
            return self._root
        return self._nodes.get(int(index.internalId()))

    def _standard_icons(self) -> tuple[QIcon, QIcon]:
        if self._icons is None:
            style = QApplication.style()
            self._icons = (
                style.standardIcon(QStyle.StandardPixmap.SP_DirIcon),
                style.standardIcon(QStyle.StandardPixmap.SP_FileIcon),
            )
        return self._icons


def list_artifacts(state: TaskState, owner: ArtifactOwner, path: str) -> list[ArtifactEntry]:
    state.check()
    return owner.list(path)


def artifact_root(state: TaskState, owner: ArtifactOwner) -> str | None:
    state.check()
    return owner.root_uri()


def artifact_uri(root: str, path: str) -> str:
    """The URI of ``path`` below a run's artifact root URI."""
    return f"{root.rstrip('/')}/{path}" if path else root


class ArtifactTree(QTreeView):
    """The tree: Enter shows or opens, Ctrl+C asks for the URI, a drag asks the view for files."""

    enter_pressed = Signal(QModelIndex)
    copy_requested = Signal()
    drag_started = Signal(str)  # the artifact path the user began to drag

    def __init__(self, model: ArtifactTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(NAME_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(SIZE_COLUMN, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(SIZE_COLUMN, 80)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in ENTER_KEYS and self.currentIndex().isValid():
            self.enter_pressed.emit(self.currentIndex())
            event.accept()
        elif event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
            event.accept()
        else:
            super().keyPressEvent(event)

    def startDrag(self, supportedActions: Qt.DropAction) -> None:  # noqa: N802, N803 - Qt
        path = self.model().path_of(self.currentIndex())  # type: ignore[attr-defined]
        if path is not None:
            self.drag_started.emit(path)
