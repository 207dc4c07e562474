"""What each kind of sidebar row shows for a data role (pure functions over nodes, no I/O)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFont, QGuiApplication, QPalette

from flowdeck.ui.sidebar.listing import ExperimentEntry
from flowdeck.ui.sidebar.nodes import (
    FIXED_TEXT,
    READ_ONLY_SUFFIX,
    Kind,
    Node,
    Role,
    StoreNode,
    rich_tooltip,
)

DisplayRole = Qt.ItemDataRole.DisplayRole
ToolTipRole = Qt.ItemDataRole.ToolTipRole


def node_data(node: Node, role: int) -> Any:
    """The value of ``role`` for the row of ``node``."""
    kind = node.kind
    if role == Role.KIND:
        return int(kind)
    if role == Role.STORE:
        store_node = node.store_node()
        return None if store_node is None else store_node.store
    if role == Role.ADDRESS:
        return node.address()
    if isinstance(node, StoreNode):
        return store_data(node, role)
    if kind == Kind.EXPERIMENT and node.entry is not None:
        return experiment_data(node.entry, role)
    if kind in (Kind.MODEL, Kind.PROMPT):
        return model_data(node, role)
    if kind == Kind.ERROR:
        return error_data(str(node.payload), role)
    if role == Role.EXPERIMENT_ID and kind in (Kind.TRACES, Kind.LOGGED_MODELS):
        return node.experiment_id
    if role in (DisplayRole, Role.NAME):
        return FIXED_TEXT.get(kind, "")
    if role == ToolTipRole:
        return rich_tooltip(fixed_tooltip(node))
    if role == Qt.ItemDataRole.FontRole and kind == Kind.LOADING:
        return _font(italic=True)
    return None


def _font(*, bold: bool = False, italic: bool = False) -> QFont:
    font = QFont()
    font.setBold(bold)
    font.setItalic(italic)
    return font


def store_data(node: StoreNode, role: int) -> Any:
    if role == DisplayRole:
        suffix = READ_ONLY_SUFFIX if node.read_only_reason else ""
        return node.store.display_name + suffix
    if role == ToolTipRole:
        lines = [node.store.display_name]
        if node.read_only_reason:
            lines.append(f"Read-only: {node.read_only_reason}")
        return rich_tooltip("\n".join(lines))
    if role == Qt.ItemDataRole.FontRole:
        return _font(bold=True)
    if role == Role.READ_ONLY_REASON:
        return node.read_only_reason
    if role == Role.NAME:
        return node.store.display_name
    return None


def experiment_data(entry: ExperimentEntry, role: int) -> Any:
    if role in (DisplayRole, Role.NAME):
        return entry.name
    if role == ToolTipRole:
        state = " (deleted)" if entry.deleted else ""
        text = f"{entry.name}\nExperiment ID {entry.experiment_id}{state}"
        if entry.description:
            text += f"\n\n{entry.description[:500]}"
        return rich_tooltip(text)
    if role == Qt.ItemDataRole.ForegroundRole and entry.deleted:
        palette = QGuiApplication.palette()
        return QBrush(palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
    if role == Qt.ItemDataRole.FontRole and entry.deleted:
        return _font(italic=True)
    if role == Role.EXPERIMENT_ID:
        return entry.experiment_id
    if role == Role.DELETED:
        return entry.deleted
    return None


def model_data(node: Node, role: int) -> Any:
    model = node.model
    if model is None:
        return None
    if role in (DisplayRole, Role.NAME):
        return model.name
    if role != ToolTipRole:
        return None
    lines = [f"Prompt {model.name}" if node.kind == Kind.PROMPT else model.name]
    store_node = node.store_node()
    if store_node is not None and model.name in store_node.versions:
        latest = store_node.versions[model.name]
        lines.append("No versions" if latest is None else f"Latest version {latest}")
    description = (model.description or "").strip()
    if description:
        lines += ["", description[:500]]
    return rich_tooltip("\n".join(lines))


def error_data(message: str, role: int) -> Any:
    if role == DisplayRole:
        return message
    if role == ToolTipRole:
        return rich_tooltip(message)
    if role == Qt.ItemDataRole.ForegroundRole:
        return QBrush(QGuiApplication.palette().color(QPalette.ColorRole.PlaceholderText))
    return None


def fixed_tooltip(node: Node) -> str:
    store_node = node.store_node()
    experiment = node.parent.entry if node.parent is not None else None
    if node.kind == Kind.MODELS and store_node is not None:
        text = f"Registered models of {store_node.store.display_name}"
        if store_node.models_loaded:
            text += f"\n{len(store_node.models)} models, {len(store_node.prompts)} prompts"
        return text
    if node.kind == Kind.PROMPTS and store_node is not None:
        return f"{len(store_node.prompts)} prompts"
    if node.kind == Kind.TRACES and experiment is not None:
        return f"Traces of experiment {experiment.name}"
    if node.kind == Kind.LOGGED_MODELS and experiment is not None:
        return f"Logged models of experiment {experiment.name}"
    if node.kind == Kind.SERVERS:
        return "Model servers started by Flowdeck"
    return FIXED_TEXT.get(node.kind, "")
