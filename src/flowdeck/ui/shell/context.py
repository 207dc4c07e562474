"""The Qt adapter of the shared context: ``ContextState`` changes as typed signals."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from flowdeck.core.context import ContextState, Selection


class Context(QObject):
    """Holds a ``ContextState``; views call its setters and connect to its signals."""

    stores_changed = Signal(list)  # list[Store]
    experiments_changed = Signal(object, tuple)  # Store | None, experiment ids
    selection_changed = Signal(object)  # Selection of the current page
    focus_changed = Signal(object)  # Selection that edit commands act on
    read_only_changed = Signal(object, object)  # Store, reason (str) or None when writable
    changed = Signal(object, object)  # Store, Change written by the write path

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = ContextState()
        self.state.subscribe("stores", self.stores_changed.emit)
        self.state.subscribe("experiments", self.experiments_changed.emit)
        self.state.subscribe("selection", self.selection_changed.emit)
        self.state.subscribe("focus", self.focus_changed.emit)
        self.state.subscribe("read_only", self.read_only_changed.emit)
        self.state.subscribe("change", self.changed.emit)

    # Read access --------------------------------------------------------------------------------

    @property
    def stores(self) -> list[Any]:
        return list(self.state.stores)

    @property
    def store(self) -> Any:
        return self.state.store

    @property
    def experiment_ids(self) -> tuple[str, ...]:
        return self.state.experiment_ids

    @property
    def selection(self) -> Selection:
        return self.state.selection

    @property
    def focus(self) -> Selection:
        return self.state.focus

    def read_only_reason(self, store: Any) -> str | None:
        return self.state.read_only_reason(store)

    # Changes --------------------------------------------------------------------------------------

    def add_store(self, store: Any) -> None:
        self.state.add_store(store)

    def remove_store(self, store: Any) -> None:
        self.state.remove_store(store)

    def set_read_only(self, store: Any, reason: str | None) -> None:
        self.state.set_read_only(store, reason)

    def set_experiments(self, store: Any, experiment_ids: tuple[str, ...] | list[str]) -> None:
        self.state.set_experiments(store, experiment_ids)

    def set_selection(self, selection: Selection) -> None:
        self.state.set_selection(selection)

    def set_focus(self, focus: Selection) -> None:
        self.state.set_focus(focus)

    def broadcast_change(self, store: Any, change: Any) -> None:
        self.state.broadcast_change(store, change)
