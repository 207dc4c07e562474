"""The sidebar tree's row kinds, data roles and the plain node objects behind each row."""

from __future__ import annotations

import html
from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt

from flowdeck.core.addresses import Address, experiment_address, model_address
from flowdeck.core.entities import RegisteredModel
from flowdeck.store.base import Store
from flowdeck.ui.sidebar.listing import ExperimentEntry

READ_ONLY_SUFFIX = " (read-only)"
LOADING_TEXT = "Loading…"
MODELS_TEXT = "Models"
PROMPTS_TEXT = "Prompts"
TRACES_TEXT = "Traces"
LOGGED_MODELS_TEXT = "Logged models"
SERVERS_TEXT = "Servers"


class Kind(IntEnum):
    """What a row of the tree is."""

    STORE = 1
    EXPERIMENT = 2
    LOADING = 3
    ERROR = 4
    MODELS = 5
    MODEL = 6
    PROMPTS = 7
    PROMPT = 8
    TRACES = 9
    LOGGED_MODELS = 10
    SERVERS = 11


class Role(IntEnum):
    """Custom data roles of ``StoreTreeModel``."""

    KIND = Qt.ItemDataRole.UserRole + 1
    STORE = Qt.ItemDataRole.UserRole + 2
    EXPERIMENT_ID = Qt.ItemDataRole.UserRole + 3
    DELETED = Qt.ItemDataRole.UserRole + 4
    READ_ONLY_REASON = Qt.ItemDataRole.UserRole + 5
    NAME = Qt.ItemDataRole.UserRole + 6
    ADDRESS = Qt.ItemDataRole.UserRole + 7  # the page the row opens (an Address), or None


# Rows that may have children (and are therefore registered as parents).
PARENT_KINDS = frozenset({Kind.STORE, Kind.EXPERIMENT, Kind.MODELS, Kind.PROMPTS})
STATUS_KINDS = frozenset({Kind.LOADING, Kind.ERROR})
FIXED_TEXT = {
    Kind.MODELS: MODELS_TEXT,
    Kind.PROMPTS: PROMPTS_TEXT,
    Kind.TRACES: TRACES_TEXT,
    Kind.LOGGED_MODELS: LOGGED_MODELS_TEXT,
    Kind.SERVERS: SERVERS_TEXT,
    Kind.LOADING: LOADING_TEXT,
}

RowKey = tuple[int, str]  # (kind, experiment id or model name): a row of one store, stable


def rich_tooltip(text: str) -> str:
    """Store text as a tooltip that Qt renders literally (escaped inside forced rich text)."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"


class Node:
    """One row: its kind, parent, children and what it shows (an experiment, a model, a text)."""

    __slots__ = ("children", "key", "kind", "parent", "payload", "row")

    def __init__(self, kind: Kind, parent: Node | None, key: int, payload: Any = None) -> None:
        self.kind = kind
        self.parent = parent
        self.key = key
        self.payload = payload
        self.children: list[Node] = []
        self.row = 0

    def set_children(self, children: list[Node]) -> None:
        self.children = children
        for row, child in enumerate(children):
            child.row = row

    def store_node(self) -> StoreNode | None:
        node: Node | None = self
        while node is not None and not isinstance(node, StoreNode):
            node = node.parent
        return node

    @property
    def entry(self) -> ExperimentEntry | None:
        return self.payload if isinstance(self.payload, ExperimentEntry) else None

    @property
    def model(self) -> RegisteredModel | None:
        return self.payload if isinstance(self.payload, RegisteredModel) else None

    @property
    def experiment_id(self) -> str:
        """The experiment of an experiment row or of its Traces / Logged models rows."""
        entry = self.entry if self.kind == Kind.EXPERIMENT else None
        if entry is None and self.parent is not None:
            entry = self.parent.entry
        return "" if entry is None else entry.experiment_id

    def row_key(self) -> RowKey:
        model = self.model
        ident = model.name if model is not None else self.experiment_id
        return int(self.kind), ident

    def address(self) -> Address | None:
        kind = self.kind
        if kind == Kind.EXPERIMENT:
            return experiment_address([self.experiment_id])
        if kind == Kind.MODELS:
            return Address("models")
        if kind in (Kind.MODEL, Kind.PROMPT) and self.model is not None:
            return model_address(self.model.name)
        if kind == Kind.TRACES:
            return Address("traces", (self.experiment_id,))
        if kind == Kind.LOGGED_MODELS:
            return Address("logged-models", (self.experiment_id,))
        if kind == Kind.SERVERS:
            return Address("servers")
        return None


class StoreNode(Node):
    """A store row and what was loaded for it."""

    __slots__ = (
        "capabilities",
        "error",
        "experiments",
        "head",
        "loaded",
        "models",
        "models_error",
        "models_loaded",
        "models_node",
        "prompts",
        "read_only_reason",
        "store",
        "versions",
    )

    def __init__(self, store: Store, parent: Node, key: int) -> None:
        super().__init__(Kind.STORE, parent, key)
        self.store = store
        self.loaded = False
        self.error = ""
        self.read_only_reason: str | None = None
        self.capabilities: frozenset[str] = frozenset()
        self.experiments: list[ExperimentEntry] = []
        self.head: list[Node] = []  # the experiment rows, or one loading / error row
        self.models_node: Node | None = None
        self.models_loaded = False
        self.models_error = ""
        self.models: list[RegisteredModel] = []
        self.prompts: list[RegisteredModel] = []
        self.versions: dict[str, int | None] = {}

    def sync_children(self) -> None:
        tail = [] if self.models_node is None else [self.models_node]
        self.set_children([*self.head, *tail])
