"""StoreTreeModel: stores → experiments (→ Traces, Logged models) and Models, then Servers."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal

from flowdeck.core.entities import RegisteredModel
from flowdeck.core.errors import FlowdeckError, Unsupported
from flowdeck.store.base import CAP_LOGGED_MODELS, CAP_REGISTRY, CAP_TRACES, Store
from flowdeck.ui.sidebar.listing import (
    ExperimentEntry,
    ModelsListing,
    StoreListing,
    load_latest_versions,
    load_listing,
    load_models,
)
from flowdeck.ui.sidebar.node_model import ROOT, Index, NodeTreeModel
from flowdeck.ui.sidebar.nodes import (
    LOADING_TEXT,
    READ_ONLY_SUFFIX,
    STATUS_KINDS,
    Kind,
    Node,
    Role,
    RowKey,
    StoreNode,
    rich_tooltip,
)
from flowdeck.ui.tasks import TaskRunner

__all__ = [
    "LOADING_TEXT",
    "READ_ONLY_SUFFIX",
    "ExperimentEntry",
    "Kind",
    "Role",
    "StoreTreeModel",
    "rich_tooltip",
]

EXPERIMENT_CHILDREN = ((CAP_TRACES, Kind.TRACES), (CAP_LOGGED_MODELS, Kind.LOGGED_MODELS))


class StoreTreeModel(NodeTreeModel):
    """Top level: open stores, then one Servers row; everything below loads on the runner."""

    store_loaded = Signal(object)  # Store, after its experiments arrived
    store_failed = Signal(object, str)  # Store, plain message
    models_loaded = Signal(object)  # Store, after its registered models arrived
    models_failed = Signal(object, str)  # Store, plain message (not sent for Unsupported)
    children_about_to_reset = Signal(object)  # Store, before rows below it are replaced
    children_reset = Signal(object)  # Store, after rows below it were replaced

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._servers = self._new(Kind.SERVERS, self._root)
        self._root.set_children([self._servers])
        self._show_deleted = False

    # --- stores ----------------------------------------------------------------------------------

    @property
    def stores(self) -> list[Store]:
        return [node.store for node in self._store_nodes()]

    @property
    def show_deleted(self) -> bool:
        return self._show_deleted

    def add_store(self, store: Store) -> None:
        """Show a store above Servers and start loading it; adding it twice does nothing."""
        if self._node(store) is not None:
            return
        node = StoreNode(store, self._root, next(self._keys))
        self._register(node)
        node.head = [self._new(Kind.LOADING, node)]
        node.sync_children()
        row = len(self._store_nodes())
        self.beginInsertRows(ROOT, row, row)
        self._root.set_children([*self._store_nodes(), node, self._servers])
        self.endInsertRows()
        self.refresh(store)

    def remove_store(self, store: Store) -> None:
        node = self._node(store)
        if node is None:
            return
        self._runner.cancel_owner(node)
        self.beginRemoveRows(ROOT, node.row, node.row)
        self._root.set_children([child for child in self._root.children if child is not node])
        self._forget([node])
        self.endRemoveRows()

    def refresh(self, store: Store) -> None:
        """Reload a store's experiments, then its models (the old rows stay until then)."""
        node = self._node(store)
        if node is None:
            return
        self._runner.submit(
            load_listing,
            store,
            key="experiments",
            owner=node,
            label=f"Listing the experiments of {store.display_name}",
            store=store,
            on_result=lambda listing, n=node: self._loaded(n, listing),
            on_error=lambda error, _trace, n=node: self._failed(n, error),
        )

    def refresh_models(self, store: Store) -> None:
        """Reload a store's registered models (they load after its experiments anyway)."""
        node = self._node(store)
        if node is not None and node.models_node is not None:
            self._load_models(node)

    def set_show_deleted(self, show: bool) -> None:
        if show == self._show_deleted:
            return
        self._show_deleted = show
        for node in self._store_nodes():
            if node.loaded:
                self._reset_head(node, self._experiment_rows(node))

    def set_read_only(self, store: Store, reason: str | None) -> None:
        """Show a store's read-only state as found by a later check (None: writable)."""
        node = self._node(store)
        if node is None or node.read_only_reason == reason:
            return
        node.read_only_reason = reason
        index = self._index_of(node)
        self.dataChanged.emit(index, index)

    # --- lookups ------------------------------------------------------------------------------

    def is_loaded(self, store: Store) -> bool:
        node = self._node(store)
        return node is not None and node.loaded

    def read_only_reason(self, store: Store) -> str | None:
        """The last known reason (None also while unknown: check ``is_loaded``)."""
        node = self._node(store)
        return None if node is None else node.read_only_reason

    def load_error(self, store: Store) -> str:
        node = self._node(store)
        return "" if node is None else node.error

    def capabilities(self, store: Store) -> frozenset[str]:
        """The store's capabilities as found by the last listing (empty until then)."""
        node = self._node(store)
        return frozenset() if node is None else node.capabilities

    def is_models_loaded(self, store: Store) -> bool:
        node = self._node(store)
        return node is not None and node.models_loaded

    def models_error(self, store: Store) -> str:
        node = self._node(store)
        return "" if node is None else node.models_error

    def models_of(self, store: Store) -> list[RegisteredModel]:
        """The registered models, then the prompts, as last listed."""
        node = self._node(store)
        return [] if node is None else [*node.models, *node.prompts]

    def experiment(self, store: Store, experiment_id: str) -> ExperimentEntry | None:
        node = self._node(store)
        if node is None:
            return None
        return next((e for e in node.experiments if e.experiment_id == experiment_id), None)

    def experiments_of(self, store: Store) -> list[ExperimentEntry]:
        """Every experiment listed for ``store`` (active and deleted; empty until loaded)."""
        node = self._node(store)
        return [] if node is None else list(node.experiments)

    def entry(self, index: Index) -> ExperimentEntry | None:
        """The experiment behind an experiment row (None for every other row)."""
        node = self._node_at(index) if index.isValid() else None
        return node.entry if node is not None and node.kind == Kind.EXPERIMENT else None

    def experiment_ids(self, indexes: list[QModelIndex]) -> list[tuple[Store, str]]:
        """The (store, experiment id) behind each experiment index, in order, without repeats."""
        found: dict[tuple[int, str], tuple[Store, str]] = {}
        for index in indexes:
            entry = self.entry(index)
            node = self._node_at(index)
            store_node = None if node is None else node.store_node()
            if entry is not None and store_node is not None:
                found.setdefault(
                    (store_node.key, entry.experiment_id), (store_node.store, entry.experiment_id)
                )
        return list(found.values())

    def store_index(self, store: Store) -> QModelIndex:
        node = self._node(store)
        return QModelIndex() if node is None else self._index_of(node)

    def servers_index(self) -> QModelIndex:
        return self._index_of(self._servers)

    def models_index(self, store: Store) -> QModelIndex:
        node = self._node(store)
        if node is None or node.models_node is None:
            return QModelIndex()
        return self._index_of(node.models_node)

    def experiment_index(self, store: Store, experiment_id: str) -> QModelIndex:
        node = self._node(store)
        for row in [] if node is None else node.head:
            if row.kind == Kind.EXPERIMENT and row.experiment_id == experiment_id:
                return self._index_of(row)
        return QModelIndex()

    def traces_index(self, store: Store, experiment_id: str) -> QModelIndex:
        return self.indexes_by_key(store).get((int(Kind.TRACES), experiment_id), QModelIndex())

    def logged_models_index(self, store: Store, experiment_id: str) -> QModelIndex:
        key = (int(Kind.LOGGED_MODELS), experiment_id)
        return self.indexes_by_key(store).get(key, QModelIndex())

    def model_index(self, store: Store, name: str) -> QModelIndex:
        """The row of a registered model or of a prompt."""
        found = self.indexes_by_key(store)
        return found.get((int(Kind.MODEL), name), found.get((int(Kind.PROMPT), name), ROOT))

    def row_key(self, index: Index) -> RowKey | None:
        """What identifies a row below a store across reloads (None for other rows)."""
        node = self._node_at(index) if index.isValid() else None
        if node is None or node.kind in STATUS_KINDS or node.store_node() in (None, node):
            return None
        return node.row_key()

    def indexes_by_key(
        self, store: Store, keys: set[RowKey] | None = None
    ) -> dict[RowKey, QModelIndex]:
        """The rows below ``store`` with these ``row_key`` values (None: every keyed row)."""
        node = self._node(store)
        found: dict[RowKey, QModelIndex] = {}
        pending = [] if node is None else list(node.children)
        while pending:
            child = pending.pop()
            if child.kind in STATUS_KINDS:
                continue
            key = child.row_key()
            if keys is None or key in keys:
                found[key] = self._index_of(child)
            pending.extend(child.children)
        return found

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        horizontal = orientation == Qt.Orientation.Horizontal
        if section == 0 and horizontal and role == Qt.ItemDataRole.DisplayRole:
            return "Stores"
        return None

    # --- rows ------------------------------------------------------------------------------------

    def _store_nodes(self) -> list[StoreNode]:
        return [node for node in self._root.children if isinstance(node, StoreNode)]

    def _node(self, store: Store) -> StoreNode | None:
        return next((node for node in self._store_nodes() if node.store is store), None)

    def _experiment_rows(self, node: StoreNode) -> list[Node]:
        kinds = [kind for cap, kind in EXPERIMENT_CHILDREN if cap in node.capabilities]
        rows = []
        for entry in node.experiments:
            if entry.deleted and not self._show_deleted:
                continue
            row = self._new(Kind.EXPERIMENT, node, entry)
            row.set_children([self._new(kind, row) for kind in kinds])
            rows.append(row)
        return rows

    def _model_rows(self, models_node: Node, listing: ModelsListing) -> list[Node]:
        rows = []
        if listing.prompts:
            group = self._new(Kind.PROMPTS, models_node)
            group.set_children([self._new(Kind.PROMPT, group, p) for p in listing.prompts])
            rows.append(group)
        rows += [self._new(Kind.MODEL, models_node, model) for model in listing.models]
        return rows

    def _reset_head(
        self, node: StoreNode, head: list[Node] | None, models_row: bool | None = None
    ) -> None:
        """Replace the rows above Models (None: keep them); True/False adds/removes Models."""

        def put_head(rows: list[Node]) -> None:
            node.head = rows
            node.sync_children()

        def put_models(rows: list[Node]) -> None:
            node.models_node = rows[0] if rows else None
            node.sync_children()

        self.children_about_to_reset.emit(node.store)
        try:
            if head is not None:
                self._replace_rows(node, 0, len(node.head), head, put_head)
            if models_row is not None and models_row != (node.models_node is not None):
                new = []
                if models_row:
                    models = self._new(Kind.MODELS, node)
                    models.set_children([self._new(Kind.LOADING, models)])
                    new = [models]
                else:
                    node.models_loaded, node.models, node.prompts = False, [], []
                self._replace_rows(node, len(node.head), 1 - len(new), new, put_models)
        finally:
            self.children_reset.emit(node.store)

    def _reset_models(self, node: StoreNode, models_node: Node, rows: list[Node]) -> None:
        self.children_about_to_reset.emit(node.store)
        try:
            count = len(models_node.children)
            self._replace_rows(models_node, 0, count, rows, models_node.set_children)
        finally:
            self.children_reset.emit(node.store)

    # --- loading -------------------------------------------------------------------------------

    def _loaded(self, node: StoreNode, listing: StoreListing) -> None:
        if not self._alive(node):
            return
        node.loaded, node.error = True, ""
        node.experiments = listing.experiments
        node.read_only_reason = listing.read_only_reason
        node.capabilities = listing.capabilities
        registry = CAP_REGISTRY in listing.capabilities
        self._reset_head(node, self._experiment_rows(node), models_row=registry)
        top = self._index_of(node)
        self.dataChanged.emit(top, top)
        self.store_loaded.emit(node.store)
        if registry:
            self._load_models(node)

    def _failed(self, node: StoreNode, error: BaseException) -> None:
        if not self._alive(node):
            return
        if isinstance(error, FlowdeckError):
            message = error.message
        else:
            message = f"Could not list the experiments of {node.store.display_name}: {error}"
        node.loaded, node.experiments, node.error = False, [], message
        self._runner.cancel_owner(node)
        self._reset_head(node, [self._new(Kind.ERROR, node, message)], models_row=False)
        top = self._index_of(node)
        self.dataChanged.emit(top, top)
        self.store_failed.emit(node.store, message)

    def _load_models(self, node: StoreNode) -> None:
        self._runner.submit(
            load_models,
            node.store,
            key="models",
            owner=node,
            label=f"Listing the models of {node.store.display_name}",
            store=node.store,
            on_result=lambda listing, n=node: self._models_loaded(n, listing),
            on_error=lambda error, _trace, n=node: self._models_failed(n, error),
        )

    def _models_loaded(self, node: StoreNode, listing: ModelsListing) -> None:
        models_node = node.models_node
        if not self._alive(node) or models_node is None:
            return
        node.models, node.prompts = listing.models, listing.prompts
        node.models_loaded, node.models_error = True, ""
        self._reset_models(node, models_node, self._model_rows(models_node, listing))
        top = self._index_of(models_node)
        self.dataChanged.emit(top, top)
        self.models_loaded.emit(node.store)
        names = [model.name for model in (*listing.models, *listing.prompts)]
        if names:
            self._runner.submit(
                load_latest_versions,
                node.store,
                names,
                key="model-versions",
                owner=node,
                label=f"Reading the latest model versions of {node.store.display_name}",
                store=node.store,
                on_result=lambda versions, n=node: self._versions_loaded(n, versions),
            )

    def _models_failed(self, node: StoreNode, error: BaseException) -> None:
        models_node = node.models_node
        if not self._alive(node) or models_node is None:
            return
        if isinstance(error, Unsupported):
            self._reset_head(node, None, models_row=False)
            return
        if isinstance(error, FlowdeckError):
            message = error.message
        else:
            message = f"Could not list the models of {node.store.display_name}: {error}"
        node.models_loaded, node.models, node.prompts = False, [], []
        node.models_error = message
        self._reset_models(node, models_node, [self._new(Kind.ERROR, models_node, message)])
        self.models_failed.emit(node.store, message)

    def _versions_loaded(self, node: StoreNode, versions: dict[str, int | None]) -> None:
        models_node = node.models_node
        if not self._alive(node) or models_node is None:
            return
        node.versions = versions
        groups = [c for c in models_node.children if c.kind == Kind.PROMPTS]
        for parent in (models_node, *groups):
            if parent.children:
                first = self._index_of(parent.children[0])
                last = self._index_of(parent.children[-1])
                self.dataChanged.emit(first, last, [Qt.ItemDataRole.ToolTipRole])
