"""The window's shared context (open stores, current experiments, selection, focus), Qt-free."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Listener = Callable[..., None]
EVENTS = ("stores", "experiments", "selection", "focus", "read_only", "change")


@dataclass(frozen=True)
class Item:
    """One selected thing: its id and what commands need to know about it."""

    id: str
    name: str = ""
    deleted: bool = False
    uri: str = ""  # a run's artifact URI
    description: str = ""
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Selection:
    """Selected items of one kind (``experiment``, ``run``, …) in one store."""

    kind: str = ""
    store: Any = None
    items: tuple[Item, ...] = ()

    @property
    def ids(self) -> list[str]:
        return [item.id for item in self.items]

    @property
    def active(self) -> list[Item]:
        return [item for item in self.items if not item.deleted]

    @property
    def deleted(self) -> list[Item]:
        return [item for item in self.items if item.deleted]

    def __bool__(self) -> bool:
        return bool(self.items)


NOTHING = Selection()


@dataclass
class ContextState:
    """What every view may know: stores, the current page's experiments and runs, the focus.

    Views change it through the setters; listeners registered with ``subscribe`` hear of each
    change that actually changed something (the Qt adapter turns them into signals).
    """

    stores: list[Any] = field(default_factory=list)
    store: Any = None
    experiment_ids: tuple[str, ...] = ()
    selection: Selection = NOTHING
    focus: Selection = NOTHING
    read_only: dict[int, str | None] = field(default_factory=dict)
    _listeners: dict[str, list[Listener]] = field(default_factory=dict, repr=False)

    def subscribe(self, event: str, listener: Listener) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown context event {event!r}")
        self._listeners.setdefault(event, []).append(listener)

    def _emit(self, event: str, *args: Any) -> None:
        for listener in list(self._listeners.get(event, ())):
            listener(*args)

    # --- stores --------------------------------------------------------------------------------

    def add_store(self, store: Any) -> None:
        if any(s is store for s in self.stores):
            return
        self.stores.append(store)
        self._emit("stores", list(self.stores))

    def remove_store(self, store: Any) -> None:
        if not any(s is store for s in self.stores):
            return
        self.stores = [s for s in self.stores if s is not store]
        self.read_only.pop(id(store), None)
        if self.store is store:
            self.set_experiments(None, ())
        if self.selection.store is store:
            self.set_selection(NOTHING)
        if self.focus.store is store:
            self.set_focus(NOTHING)
        self._emit("stores", list(self.stores))

    def set_read_only(self, store: Any, reason: str | None) -> None:
        """Record a store's read-only reason (None: writable) as last checked."""
        key = id(store)
        if key in self.read_only and self.read_only[key] == reason:
            return
        self.read_only[key] = reason
        self._emit("read_only", store, reason)

    def read_only_reason(self, store: Any) -> str | None:
        """The last known reason; "still checking" until the first check answered."""
        if store is None:
            return "No store is open."
        return self.read_only.get(id(store), "Checking whether this store can be edited…")

    # --- the current page ---------------------------------------------------------------------

    def set_experiments(self, store: Any, experiment_ids: tuple[str, ...] | list[str]) -> None:
        ids = tuple(experiment_ids)
        if store is self.store and ids == self.experiment_ids:
            return
        self.store, self.experiment_ids = store, ids
        self._emit("experiments", store, ids)

    def set_selection(self, selection: Selection) -> None:
        if selection == self.selection:
            return
        self.selection = selection
        self._emit("selection", selection)

    def set_focus(self, focus: Selection) -> None:
        """The items that edit commands act on (the sidebar's or the page's selection)."""
        if focus == self.focus:
            return
        self.focus = focus
        self._emit("focus", focus)

    def broadcast_change(self, store: Any, change: Any) -> None:
        """Tell every view that a write changed something (a ``Change`` of ``store``)."""
        self._emit("change", store, change)
