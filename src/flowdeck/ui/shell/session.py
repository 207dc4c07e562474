"""Opening and closing stores, recent stores, and the tabs saved for the next start."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMenu

from flowdeck.core.addresses import BadAddress, parse_address
from flowdeck.core.errors import FlowdeckError
from flowdeck.store.base import Store
from flowdeck.ui.open_store_dialog import OpenStoreDialog, open_chosen_store, remembered_options
from flowdeck.ui.settings import strip_password

if TYPE_CHECKING:
    from flowdeck.ui.main_window import MainWindow

TABS_KEY = "shell/tabs"


def _open_store(_state: Any, location: str, options: dict[str, str] | None) -> Store:
    """Worker-thread body: the backend's imports and the keyring can take a second."""
    if options is None:
        try:
            options = remembered_options(location)
        except Exception:  # no usable keyring, or a location it cannot parse: open as given
            options = {}
    from flowdeck.store.mirror.index import cached_if_mirrored

    return cached_if_mirrored(open_chosen_store(location, options))


class StoreSession:
    """The window's open stores: where each came from, and which tabs to reopen for it."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.locations: dict[int, str] = {}  # id(store) -> location it was opened from
        self.restore_tabs = True  # False for scripted snapshots: they open one page
        self._saved = self._load_saved_tabs()

    def location_of(self, store: Store) -> str:
        return self.locations.get(id(store), store.location)

    # --- opening and closing ---------------------------------------------------------------------

    def open_location(self, location: str, options: dict[str, str] | None = None) -> None:
        """Open a store beside the others, off the GUI thread; an open one is selected again."""
        window = self.window
        location = location.strip()
        for store in window.stores():
            if self.locations.get(id(store)) == location:
                window.sidebar.select_store(store)
                window.store_opened.emit(store)
                return
        window.statusBar().showMessage(f"Opening {strip_password(location)}…")
        window.runner.submit(
            _open_store,
            location,
            options,
            label=f"Opening {strip_password(location)}",
            on_result=lambda store: self._opened(location, store),
            on_error=self._failed,
        )

    def _opened(self, location: str, store: Store) -> None:
        window = self.window
        self.locations[id(store)] = location
        window.sidebar.add_store(store)
        window.context.add_store(store)
        window.writes.check(store)
        window.settings.remember_store(location)
        window.statusBar().showMessage(f"Opened {store.display_name}", 5000)
        if self.restore_tabs:  # the page types load after the window is usable
            filtered = any("?filter=" in e["address"] for e in self._saved)
            self.window.startup.warmup.when_ready(
                lambda: self._reopen_tabs(location, store), parser=filtered
            )
        window.store_opened.emit(store)
        if hasattr(store, "refresh") and hasattr(store, "cached_note"):
            self._refresh_from_remote(store)

    def _refresh_from_remote(self, store: Store) -> None:
        """A server read through its mirror: show the copy now, fetch what changed behind it."""
        window = self.window
        window.statusBar().showMessage(f"{store.cached_note()}; checking the server…")  # type: ignore[attr-defined]

        def done(report: Any) -> None:
            if report.runs_copied:
                window.statusBar().showMessage(
                    f"{report.runs_copied} changed runs copied from {store.display_name}.", 8000
                )
                window.refresh()
            else:
                window.statusBar().showMessage(f"{store.display_name} is up to date.", 5000)

        def failed(error: BaseException, _details: str) -> None:
            message = error.message if isinstance(error, FlowdeckError) else str(error)
            window.statusBar().showMessage(
                f"{store.cached_note()}; the server could not be read: {message}"  # type: ignore[attr-defined]
            )

        window.runner.submit(
            lambda state: store.refresh(state),  # type: ignore[attr-defined]
            key="mirror-refresh",
            owner=store,
            label=f"Checking {store.display_name} for changes",
            on_result=done,
            on_error=failed,
        )

    def _failed(self, error: BaseException, _details: str) -> None:
        if not isinstance(error, FlowdeckError):
            sys.excepthook(type(error), error, error.__traceback__)
            error = FlowdeckError(f"Flowdeck could not open the store: {error}")
        self.window.statusBar().showMessage("Could not open the store")
        self.window.show_message(error.message)
        self.window.open_failed.emit(error.message)

    def close_store(self, store: Store) -> None:
        window = self.window
        window.host.close_store(store)
        window.sidebar.remove_store(store)
        window.context.remove_store(store)
        window.writes.forget(store)
        self.locations.pop(id(store), None)
        store.close()

    def open_store_dialog(self) -> None:
        dialog = OpenStoreDialog(self.window.settings.recent_stores, self.window)
        if dialog.exec() == OpenStoreDialog.DialogCode.Accepted:
            self.open_location(dialog.result_location(), dialog.result_options())

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        for location in self.window.settings.recent_stores:
            action = menu.addAction(location)
            action.triggered.connect(lambda _c=False, loc=location: self.open_location(loc))
        if menu.isEmpty():
            menu.addAction("No recent stores").setEnabled(False)

    # --- tabs between sessions -------------------------------------------------------------------

    def save_tabs(self) -> None:
        """Remember each tab's store location (without secrets) and address."""
        saved = []
        for visit in self.window.host.visits():
            location = "" if visit.store is None else strip_password(self.location_of(visit.store))
            saved.append({"location": location, "address": str(visit.address)})
        for entry in self._saved:  # tabs of stores not opened this time are kept for later
            if entry not in saved and not any(
                strip_password(loc) == entry["location"] for loc in self.locations.values()
            ):
                saved.append(entry)
        self.window.settings.set_value(TABS_KEY, saved)

    def _load_saved_tabs(self) -> list[dict[str, str]]:
        raw = self.window.settings.value(TABS_KEY, [], list)
        return [
            {"location": str(e["location"]), "address": str(e["address"])}
            for e in raw
            if isinstance(e, dict) and "location" in e and "address" in e
        ]

    def _reopen_tabs(self, location: str, store: Store) -> None:
        if not any(open_store is store for open_store in self.window.stores()):  # closed
            return
        safe = strip_password(location)
        mine = [e for e in self._saved if e["location"] == safe]
        self._saved = [e for e in self._saved if e["location"] != safe]
        for entry in mine:
            try:
                address = parse_address(entry["address"])
            except BadAddress:
                continue
            self.window.host.open(store, address, new_tab=True)
