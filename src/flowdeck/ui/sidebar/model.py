"""StoreTreeModel: open stores with their experiments as children, loaded off the GUI thread."""

from __future__ import annotations

import html
import itertools
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QFont, QGuiApplication, QPalette

from flowdeck.core.errors import FlowdeckError
from flowdeck.store.base import Store
from flowdeck.ui.sidebar.listing import ExperimentEntry, StoreListing, load_listing
from flowdeck.ui.tasks import TaskRunner

Index = QModelIndex | QPersistentModelIndex
READ_ONLY_SUFFIX = " (read-only)"
LOADING_TEXT = "Loading…"
ROOT = QModelIndex()


class Kind(IntEnum):
    """What a row of the tree is."""

    STORE = 1
    EXPERIMENT = 2
    LOADING = 3
    ERROR = 4


class Role(IntEnum):
    """Custom data roles of ``StoreTreeModel``."""

    KIND = Qt.ItemDataRole.UserRole + 1
    STORE = Qt.ItemDataRole.UserRole + 2
    EXPERIMENT_ID = Qt.ItemDataRole.UserRole + 3
    DELETED = Qt.ItemDataRole.UserRole + 4
    READ_ONLY_REASON = Qt.ItemDataRole.UserRole + 5
    NAME = Qt.ItemDataRole.UserRole + 6


def rich_tooltip(text: str) -> str:
    """Store text as a tooltip that Qt renders literally (escaped inside forced rich text)."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"


@dataclass
class _StoreNode:
    store: Store
    serial: int
    state: Kind = Kind.LOADING  # LOADING, ERROR or EXPERIMENT (loaded)
    error: str = ""
    loaded: bool = False
    read_only_reason: str | None = None
    experiments: list[ExperimentEntry] = field(default_factory=list)
    visible: list[ExperimentEntry] = field(default_factory=list)


class StoreTreeModel(QAbstractItemModel):
    """Top level: open stores; children: their experiments (or a loading / error row)."""

    store_loaded = Signal(object)  # Store, after its experiments arrived
    store_failed = Signal(object, str)  # Store, plain message
    children_about_to_reset = Signal(object)  # Store, before its child rows are replaced
    children_reset = Signal(object)  # Store, after its child rows were replaced

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._nodes: list[_StoreNode] = []
        self._by_serial: dict[int, _StoreNode] = {}
        self._serials = itertools.count(1)
        self._show_deleted = False

    # --- public API -----------------------------------------------------------------------------

    @property
    def stores(self) -> list[Store]:
        return [node.store for node in self._nodes]

    @property
    def show_deleted(self) -> bool:
        return self._show_deleted

    def add_store(self, store: Store) -> None:
        """Show a store and start loading its experiments; adding it twice does nothing."""
        if self._node(store) is not None:
            return
        node = _StoreNode(store, next(self._serials))
        row = len(self._nodes)
        self.beginInsertRows(QModelIndex(), row, row)
        self._nodes.append(node)
        self._by_serial[node.serial] = node
        self.endInsertRows()
        self.refresh(store)

    def remove_store(self, store: Store) -> None:
        node = self._node(store)
        if node is None:
            return
        row = self._nodes.index(node)
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._nodes[row]
        del self._by_serial[node.serial]
        self.endRemoveRows()

    def refresh(self, store: Store) -> None:
        """Reload a store's experiments in the background (the old rows stay until then)."""
        node = self._node(store)
        if node is None:
            return
        self._runner.submit(
            load_listing,
            store,
            key=f"sidebar-experiments-{node.serial}",
            store=store,
            on_result=lambda listing, n=node: self._loaded(n, listing),
            on_error=lambda error, _trace, n=node: self._failed(n, error),
        )

    def set_show_deleted(self, show: bool) -> None:
        if show == self._show_deleted:
            return
        self._show_deleted = show
        for node in self._nodes:
            if node.state == Kind.EXPERIMENT:
                self._replace_children(node, node.state, self._visible(node.experiments))

    def experiment_ids(self, indexes: list[QModelIndex]) -> list[tuple[Store, str]]:
        """The (store, experiment id) behind each experiment index, in order, without repeats."""
        found: dict[tuple[int, str], tuple[Store, str]] = {}
        for index in indexes:
            entry = self._entry(index)
            if entry is not None:
                node = self._by_serial[int(index.internalId())]
                found.setdefault(
                    (node.serial, entry.experiment_id), (node.store, entry.experiment_id)
                )
        return list(found.values())

    def store_index(self, store: Store) -> QModelIndex:
        node = self._node(store)
        return QModelIndex() if node is None else self.createIndex(self._nodes.index(node), 0, 0)

    def experiment_index(self, store: Store, experiment_id: str) -> QModelIndex:
        node = self._node(store)
        if node is None or node.state != Kind.EXPERIMENT:
            return QModelIndex()
        for row, entry in enumerate(node.visible):
            if entry.experiment_id == experiment_id:
                return self.createIndex(row, 0, node.serial)
        return QModelIndex()

    def experiment(self, store: Store, experiment_id: str) -> ExperimentEntry | None:
        node = self._node(store)
        if node is None:
            return None
        return next((e for e in node.experiments if e.experiment_id == experiment_id), None)

    def experiments_of(self, store: Store) -> list[ExperimentEntry]:
        """Every experiment listed for ``store`` (active and deleted; empty until loaded)."""
        node = self._node(store)
        return [] if node is None else list(node.experiments)

    def is_loaded(self, store: Store) -> bool:
        node = self._node(store)
        return node is not None and node.loaded

    def read_only_reason(self, store: Store) -> str | None:
        """The reason found by the last load (None also while unknown: check ``is_loaded``)."""
        node = self._node(store)
        return None if node is None else node.read_only_reason

    def load_error(self, store: Store) -> str:
        node = self._node(store)
        return "" if node is None or node.state != Kind.ERROR else node.error

    # --- QAbstractItemModel --------------------------------------------------------------------

    def index(self, row: int, column: int, parent: Index = ROOT) -> QModelIndex:
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, 0, 0) if row < len(self._nodes) else QModelIndex()
        if parent.internalId() != 0 or parent.column() != 0:
            return QModelIndex()
        node = self._nodes[parent.row()]
        if row >= self._child_count(node):
            return QModelIndex()
        return self.createIndex(row, 0, node.serial)

    def parent(self, child: Index = ROOT) -> QModelIndex:  # type: ignore[override]
        if not child.isValid() or child.internalId() == 0:
            return QModelIndex()
        node = self._by_serial.get(int(child.internalId()))
        if node is None:
            return QModelIndex()
        return self.createIndex(self._nodes.index(node), 0, 0)

    def rowCount(self, parent: Index = ROOT) -> int:
        if not parent.isValid():
            return len(self._nodes)
        if parent.internalId() != 0 or parent.column() != 0:
            return 0
        return self._child_count(self._nodes[parent.row()])

    def columnCount(self, parent: Index = ROOT) -> int:
        return 1

    def hasChildren(self, parent: Index = ROOT) -> bool:
        return self.rowCount(parent) > 0

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        kind = self._kind(index)
        if kind in (Kind.STORE, Kind.EXPERIMENT):
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if section == 0 and horizontal and role == Qt.ItemDataRole.DisplayRole:
            return "Experiments"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        kind = self._kind(index)
        if role == Role.KIND:
            return int(kind)
        if kind == Kind.STORE:
            return self._store_data(self._nodes[index.row()], role)
        node = self._by_serial[int(index.internalId())]
        if role == Role.STORE:
            return node.store
        if kind == Kind.EXPERIMENT:
            return self._experiment_data(node.visible[index.row()], role)
        if kind == Kind.LOADING:
            if role == Qt.ItemDataRole.DisplayRole:
                return LOADING_TEXT
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setItalic(True)
                return font
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return node.error
        if role == Qt.ItemDataRole.ToolTipRole:
            return rich_tooltip(node.error)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText))
        return None

    # --- internals -------------------------------------------------------------------------------

    def _store_data(self, node: _StoreNode, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            suffix = READ_ONLY_SUFFIX if node.read_only_reason else ""
            return node.store.display_name + suffix
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [node.store.display_name]
            if node.read_only_reason:
                lines.append(f"Read-only: {node.read_only_reason}")
            return rich_tooltip("\n".join(lines))
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == Role.STORE:
            return node.store
        if role == Role.READ_ONLY_REASON:
            return node.read_only_reason
        if role == Role.NAME:
            return node.store.display_name
        return None

    def _experiment_data(self, entry: ExperimentEntry, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Role.NAME):
            return entry.name
        if role == Qt.ItemDataRole.ToolTipRole:
            state = " (deleted)" if entry.deleted else ""
            text = f"{entry.name}\nExperiment ID {entry.experiment_id}{state}"
            if entry.description:
                text += f"\n\n{entry.description[:500]}"
            return rich_tooltip(text)
        if role == Qt.ItemDataRole.ForegroundRole and entry.deleted:
            palette = QGuiApplication.palette()
            return QBrush(palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        if role == Qt.ItemDataRole.FontRole and entry.deleted:
            font = QFont()
            font.setItalic(True)
            return font
        if role == Role.EXPERIMENT_ID:
            return entry.experiment_id
        if role == Role.DELETED:
            return entry.deleted
        return None

    def _node(self, store: Store) -> _StoreNode | None:
        return next((node for node in self._nodes if node.store is store), None)

    def _kind(self, index: Index) -> Kind:
        if index.internalId() == 0:
            return Kind.STORE
        return self._by_serial[int(index.internalId())].state

    def _entry(self, index: Index) -> ExperimentEntry | None:
        if not index.isValid() or index.internalId() == 0:
            return None
        node = self._by_serial.get(int(index.internalId()))
        if node is None or node.state != Kind.EXPERIMENT or index.row() >= len(node.visible):
            return None
        return node.visible[index.row()]

    @staticmethod
    def _child_count(node: _StoreNode) -> int:
        return len(node.visible) if node.state == Kind.EXPERIMENT else 1

    def _visible(self, entries: list[ExperimentEntry]) -> list[ExperimentEntry]:
        return [e for e in entries if self._show_deleted or not e.deleted]

    def _replace_children(
        self, node: _StoreNode, state: Kind, visible: list[ExperimentEntry]
    ) -> None:
        self.children_about_to_reset.emit(node.store)
        try:
            self._swap_children(node, state, visible)
        finally:
            self.children_reset.emit(node.store)

    def _swap_children(self, node: _StoreNode, state: Kind, visible: list[ExperimentEntry]) -> None:
        parent = self.createIndex(self._nodes.index(node), 0, 0)
        old = self._child_count(node)
        if old:
            self.beginRemoveRows(parent, 0, old - 1)
            node.visible = []
            node.state = Kind.EXPERIMENT
            self.endRemoveRows()
        new = len(visible) if state == Kind.EXPERIMENT else 1
        if not new:
            return  # a store without (visible) experiments: no children
        self.beginInsertRows(parent, 0, new - 1)
        node.state = state
        node.visible = visible if state == Kind.EXPERIMENT else []
        self.endInsertRows()

    def _loaded(self, node: _StoreNode, listing: StoreListing) -> None:
        if node.serial not in self._by_serial:
            return
        node.loaded = True
        node.error = ""
        node.experiments = listing.experiments
        node.read_only_reason = listing.read_only_reason
        self._replace_children(node, Kind.EXPERIMENT, self._visible(listing.experiments))
        top = self.createIndex(self._nodes.index(node), 0, 0)
        self.dataChanged.emit(top, top)
        self.store_loaded.emit(node.store)

    def _failed(self, node: _StoreNode, error: BaseException) -> None:
        if node.serial not in self._by_serial:
            return
        if isinstance(error, FlowdeckError):
            message = error.message
        else:
            message = f"Could not list the experiments of {node.store.display_name}: {error}"
        node.loaded = False
        node.experiments = []
        node.error = message
        self._replace_children(node, Kind.ERROR, [])
        top = self.createIndex(self._nodes.index(node), 0, 0)
        self.dataChanged.emit(top, top)
        self.store_failed.emit(node.store, message)
