"""The ``across/<n>:<id>,…`` page: runs of experiments of several open stores in one table.

Stores are numbered 1, 2, … in the order they are listed in the sidebar. The page is the
experiment page over ``AcrossStores``: a Store column tells the runs apart, each run's curves
come from its own store, and a run's row opens its run page in its own store.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout

from flowdeck.core.across_stores import failures_text, key_of, split_key
from flowdeck.core.addresses import Address, across_address, run_address
from flowdeck.core.context import NOTHING, Item, Selection
from flowdeck.core.errors import InvalidFilter, NotFound
from flowdeck.store.across import AcrossStores
from flowdeck.store.base import Store
from flowdeck.ui.edit.run_ref import DELETED
from flowdeck.ui.pages.experiment import ExperimentPage, _experiment_names
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import page_type

MIXED_SELECTION = "Runs of several stores are selected: edit them in their own store's page."


def stores_of(shell: Shell, keys: tuple[str, ...]) -> dict[int, Store]:
    """The open stores the keys' numbers name; ``NotFound`` names a number no store has."""
    open_stores = shell.context.stores
    numbers = sorted({split_key(key)[0] for key in keys})
    missing = [n for n in numbers if n > len(open_stores)]
    if missing:
        count = len(open_stores)
        raise NotFound(
            f"Store {missing[0]} is not open ({count} store{'s' * (count != 1)} "
            "open, numbered as listed in the sidebar)."
        )
    return {n: open_stores[n - 1] for n in numbers}


@page_type
class AcrossPage(ExperimentPage):
    """Runs of experiments of several stores: one table with a Store column, one chart set."""

    family = "across"
    across: AcrossStores | None = None  # set after the experiment page applied the filter

    def __init__(self, shell: Shell, store: Store | None, address: Address) -> None:
        super().__init__(shell, None, address)  # type: ignore[arg-type] - of no single store
        self._problem: str | None = None
        try:
            self.across = AcrossStores(stores_of(shell, address.ids))
        except NotFound as error:
            self._problem = error.message
        self.failures_label = QLabel(self)
        self.failures_label.setTextFormat(Qt.TextFormat.PlainText)
        self.failures_label.setWordWrap(True)
        self.failures_label.setStyleSheet("QLabel { color: palette(link-visited); padding: 4px; }")
        self.failures_label.hide()
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(0, self.failures_label)
        shell.context.stores_changed.connect(self._stores_changed)

    # --- loading -------------------------------------------------------------------------------

    def start(self) -> None:
        if self.across is None:
            self.fail(NotFound(self._problem or "These stores are not open."))
            return
        if self._filter_problem is not None:
            self.fail(InvalidFilter(f"invalid filter: {self._filter_problem}"))
            self._filter_problem = None
            return
        self.begin_loading()
        self.shell.runner.submit(
            _experiment_names,
            self.across,
            tuple(self.experiment_ids),
            key="names",
            owner=self,
            label="Reading experiment names",
            on_result=self._named,
            on_error=lambda error, _tb: self.fail(error),
        )

    def _named(self, names: list[str]) -> None:
        assert self.across is not None
        self.names = names
        shown = list(dict.fromkeys(names))
        what = ", ".join(shown) if len(shown) <= 3 else f"{len(names)} experiments"
        self.set_title(f"{what} — {self.across.display_name}")
        self.runs.set_source(self.across, self.experiment_ids)

    def _runs_loaded(self, count: int) -> None:
        failures = self.across.failures if self.across is not None else []
        self.failures_label.setText(failures_text(failures))
        self.failures_label.setVisible(bool(failures))
        super()._runs_loaded(count)

    def _runs_failed(self, text: str) -> None:
        self.failures_label.hide()
        super()._runs_failed(text)

    def _filter_applied(self, text: str) -> None:
        self.address = across_address(self._address_keys(), text)
        self.address_changed.emit(self.address)

    def open_run(self, run_id: str, new_tab: bool) -> None:
        """A run's row opens its run page in its own store."""
        if self.across is not None:
            store, own_id = self.across.store_of(run_id)
            self.open_in_store_requested.emit(store, run_address(own_id), new_tab)

    # --- open stores change ----------------------------------------------------------------------

    def _address_keys(self) -> tuple[str, ...]:
        """The page's experiments numbered as the stores are listed now."""
        if self.across is None:
            return self.address.ids
        now = {id(store): n for n, store in enumerate(self.shell.context.stores, start=1)}
        keys = []
        for key in self.experiment_ids:
            number, experiment_id = split_key(key)
            store = self.across.stores[number]
            keys.append(key_of(now.get(id(store), number), experiment_id))
        return tuple(keys)

    def _stores_changed(self, stores: list[Any]) -> None:
        """A closed store ends the page; other stores closing renumber its address."""
        if self.across is None:
            return
        alive = {id(store) for store in stores}
        closed = [s for s in self.across.stores.values() if id(s) not in alive]
        if closed:
            self.runs.cancel_load()
            self.charts.cancel_load()
            self.across = None
            self.fail(NotFound(f"{closed[0].display_name} was closed."))
            return
        keys = self._address_keys()
        if keys != self.address.ids:
            self.address = across_address(keys, self.address.filter)
            self.address_changed.emit(self.address)

    # --- context -------------------------------------------------------------------------------

    def selection(self) -> Selection:
        """The selected runs, in their own store, when they all come from one store."""
        if self.across is None:
            return NOTHING
        refs = self.runs.selected_refs()
        numbers = {split_key(ref.run_id)[0] for ref in refs}
        if len(numbers) != 1:
            return NOTHING
        store = self.across.stores[numbers.pop()]
        items = tuple(
            Item(
                split_key(ref.run_id)[1],
                ref.name,
                ref.lifecycle_stage == DELETED,
                ref.artifact_uri or "",
            )  # fmt: skip
            for ref in refs
        )
        return Selection("run", store, items)

    def apply_change(self, store: Store, change: Any) -> None:
        if self.across is None or not any(s is store for s in self.across.stores.values()):
            return
        if change.kind == "experiment" and change.action == "rename":
            self.start()
        elif change.kind in ("run", "experiment"):
            self.runs.reload(keep_view=True)

    def close_page(self) -> None:
        self.shell.context.stores_changed.disconnect(self._stores_changed)
        super().close_page()
