"""NodeTreeModel: a one-column QAbstractItemModel over ``Node`` objects, with row replacement."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from flowdeck.ui.sidebar.nodes import PARENT_KINDS, STATUS_KINDS, Kind, Node
from flowdeck.ui.sidebar.rows import node_data

Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()
SELECTABLE = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
LEAF = Qt.ItemFlag.ItemNeverHasChildren


class NodeTreeModel(QAbstractItemModel):
    """An index's internal id is the key of its parent node; parents are found by key."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._keys = itertools.count(1)
        self._root = Node(Kind.STORE, None, 0)  # never shown: its kind is not read
        self._registry: dict[int, Node] = {0: self._root}

    # --- QAbstractItemModel --------------------------------------------------------------------

    def index(self, row: int, column: int, parent: Index = ROOT) -> QModelIndex:
        if column != 0 or row < 0 or (parent.isValid() and parent.column() != 0):
            return QModelIndex()
        node = self._node_at(parent)
        if node is None or row >= len(node.children):
            return QModelIndex()
        return self.createIndex(row, 0, node.key)

    def parent(self, child: Index = ROOT) -> QModelIndex:  # type: ignore[override]
        if not child.isValid():
            return QModelIndex()
        node = self._registry.get(int(child.internalId()))
        return QModelIndex() if node is None else self._index_of(node)

    def rowCount(self, parent: Index = ROOT) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        node = self._node_at(parent)
        return 0 if node is None else len(node.children)

    def columnCount(self, parent: Index = ROOT) -> int:
        return 1

    def hasChildren(self, parent: Index = ROOT) -> bool:
        return self.rowCount(parent) > 0

    def flags(self, index: Index) -> Qt.ItemFlag:
        node = self._node_at(index) if index.isValid() else None
        if node is None:
            return Qt.ItemFlag.NoItemFlags
        if node.kind in STATUS_KINDS:
            return Qt.ItemFlag.ItemIsEnabled | LEAF
        if node.kind == Kind.EXPERIMENT and not node.children:
            return SELECTABLE | LEAF
        return SELECTABLE if node.kind in PARENT_KINDS else SELECTABLE | LEAF

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self._node_at(index) if index.isValid() else None
        return None if node is None else node_data(node, role)

    # --- nodes ---------------------------------------------------------------------------------

    def _alive(self, node: Node) -> bool:
        return self._registry.get(node.key) is node

    def _register(self, node: Node) -> Node:
        self._registry[node.key] = node
        return node

    def _new(self, kind: Kind, parent: Node, payload: Any = None) -> Node:
        node = Node(kind, parent, next(self._keys), payload)
        if kind in PARENT_KINDS:
            self._registry[node.key] = node
        return node

    def _forget(self, nodes: list[Node]) -> None:
        for node in nodes:
            self._registry.pop(node.key, None)
            self._forget(node.children)

    def _node_at(self, index: Index) -> Node | None:
        if not index.isValid():
            return self._root
        parent = self._registry.get(int(index.internalId()))
        if parent is None or index.row() >= len(parent.children):
            return None
        return parent.children[index.row()]

    def _index_of(self, node: Node) -> QModelIndex:
        if node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row, 0, node.parent.key)

    def _replace_rows(
        self,
        parent_node: Node,
        first: int,
        count: int,
        new: list[Node],
        apply: Callable[[list[Node]], None],
    ) -> None:
        """Remove rows ``first``…``first+count-1`` then insert ``new`` there.

        ``apply(rows)`` puts ``rows`` in place of the replaced span on ``parent_node``.
        """
        parent = self._index_of(parent_node)
        if count:
            self.beginRemoveRows(parent, first, first + count - 1)
            removed = parent_node.children[first : first + count]
            apply([])
            self._forget(removed)
            self.endRemoveRows()
        if new:
            self.beginInsertRows(parent, first, first + len(new) - 1)
            apply(new)
            self.endInsertRows()
