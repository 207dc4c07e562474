"""A collapsible tree over a JSON value whose children are made only when a node is expanded."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QWidget

from flowdeck.ui.runs.decorations import escaped_tooltip

Index = QModelIndex | QPersistentModelIndex
PREVIEW_CHARS = 200
HEADERS = ("Key", "Value", "Type")


def value_preview(value: Any) -> str:
    """One line: the scalar itself, or ``{3 keys}`` / ``[12 items]`` for containers."""
    if isinstance(value, dict):
        return f"{{{len(value)} key{'' if len(value) == 1 else 's'}}}"
    if isinstance(value, list):
        return f"[{len(value)} item{'' if len(value) == 1 else 's'}]"
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    text = text.replace("\n", "⏎ ")
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "number" if isinstance(value, int | float) else type(value).__name__
    )


class _Node:
    __slots__ = ("key", "value", "parent", "row", "_children")

    def __init__(self, key: str, value: Any, parent: _Node | None, row: int) -> None:
        self.key, self.value, self.parent, self.row = key, value, parent, row
        self._children: list[_Node] | None = None

    def count(self) -> int:
        return len(self.value) if isinstance(self.value, dict | list) else 0

    def children(self) -> list[_Node]:
        if self._children is None:
            if isinstance(self.value, dict):
                items = [(str(k), v) for k, v in self.value.items()]
            elif isinstance(self.value, list):
                items = [(f"[{i}]", v) for i, v in enumerate(self.value)]
            else:
                items = []
            self._children = [_Node(k, v, self, row) for row, (k, v) in enumerate(items)]
        return self._children


class JsonTreeModel(QAbstractItemModel):
    """Key, value preview and type per node; nothing from the value is interpreted as markup."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root = _Node("", None, None, 0)

    def set_value(self, value: Any) -> None:
        self.beginResetModel()
        wrapped = value if isinstance(value, dict | list) else {"value": value}
        self.root = _Node("", wrapped, None, 0)
        self.endResetModel()

    def _node(self, index: Index) -> _Node:
        return index.internalPointer() if index.isValid() else self.root

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        node = self._node(parent)
        kids = node.children()
        if not (0 <= row < len(kids) and 0 <= column < len(HEADERS)):
            return QModelIndex()
        return self.createIndex(row, column, kids[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        parent = index.internalPointer().parent
        if parent is None or parent is self.root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return self._node(parent).count()

    def columnCount(self, _parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return len(HEADERS)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802, B008
        return self.rowCount(parent) > 0

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        node = index.internalPointer()
        if role == Qt.ItemDataRole.DisplayRole:
            return (node.key, value_preview(node.value), type_name(node.value))[index.column()]
        if (
            role == Qt.ItemDataRole.ToolTipRole
            and index.column() == 1
            and isinstance(node.value, str)
        ):
            return escaped_tooltip(node.value[:2000])
        return None

    def value_at(self, index: Index) -> Any:
        return self._node(index).value
