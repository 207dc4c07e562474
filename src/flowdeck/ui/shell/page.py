"""The base of every page in the host: an address, a title, loading state and refresh on change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from flowdeck.core.addresses import Address, BadAddress
from flowdeck.core.context import NOTHING, Selection
from flowdeck.core.errors import FlowdeckError, InvalidFilter, NotFound
from flowdeck.store.base import Store
from flowdeck.ui.crash import failure_text

if TYPE_CHECKING:
    from flowdeck.ui.settings import Settings
    from flowdeck.ui.shell.commands import CommandRegistry
    from flowdeck.ui.shell.context import Context
    from flowdeck.ui.shell.writes import WritePath
    from flowdeck.ui.tasks import TaskRunner


@dataclass
class Shell:
    """What a page may use: the task runner, settings, the shared context and the write path."""

    runner: TaskRunner
    settings: Settings
    context: Context
    writes: WritePath
    commands: CommandRegistry | None = None
    servers: Any = None  # the app's local model servers (ui.serving.manager), made on first use
    open_location: Callable[[str], None] | None = None  # opens a store beside the others


class Page(QWidget):
    """One page: shows what its address names in one store.

    Subclasses set ``family``, build their widgets in ``__init__`` and start their reads in
    ``start()``; they call ``finish_loading()`` once every request they made has answered, or
    ``fail()``. Tasks are submitted with ``owner=self`` so that pages never cancel each other.
    """

    family: ClassVar[str] = ""

    title_changed = Signal(str)
    loaded = Signal()  # every request the page made has answered
    failed = Signal(str, bool)  # plain message, True when the address names nothing (or is bad)
    open_requested = Signal(object, bool)  # Address, in a new tab
    open_in_store_requested = Signal(object, object, bool)  # Store, Address, in a new tab
    address_changed = Signal(object)  # the page moved within itself (a filter was applied)
    selection_changed = Signal(object)  # Selection (what edit commands act on)
    busy_changed = Signal(bool)  # a load the user may cancel started or ended
    status = Signal(str)  # short texts for the status bar

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__()
        self.shell = shell
        self.store = store
        self.address = address
        self.loading = False
        self.error: str | None = None
        self.names_nothing = False  # the failure says the address names nothing or is bad
        self._title = str(address)

    # --- what the host asks -----------------------------------------------------------------------

    def start(self) -> None:
        """Begin loading (called once, after the page is in the host)."""
        self.finish_loading()

    def title(self) -> str:
        return self._title

    def set_title(self, title: str) -> None:
        self._title = title
        self.title_changed.emit(title)

    def selection(self) -> Selection:
        """The items this page has selected (runs, versions…); edit commands act on them."""
        return NOTHING

    def refresh(self) -> None:
        """Read again what the page shows (F5)."""
        self.start()

    def apply_change(self, store: Store, change: Any) -> None:
        """A write changed something in ``store``: refresh what this page shows of it."""
        if store is self.store and self.shows(change):
            self.refresh()

    def shows(self, change: Any) -> bool:
        """Whether ``change`` touches what the page shows (by default: never)."""
        return False

    @property
    def busy(self) -> bool:
        """True while a load runs that ``cancel_loads`` would stop."""
        return self.loading

    def cancel_loads(self) -> None:
        """Stop what the page is loading (the Cancel button); what it shows stays."""
        self.shell.runner.cancel_owner(self)

    def add_context_actions(self, actions: list[Any]) -> None:
        """Commands for the page's item context menu (pages without items ignore them)."""

    def auto_refresh(self) -> None:
        """Called every few seconds while auto-refresh is on (pages with live data reload)."""

    def close_page(self) -> None:
        """The page is leaving the host: stop its work."""
        self.shell.runner.cancel_owner(self)

    # --- helpers for subclasses ---------------------------------------------------------------

    def begin_loading(self) -> None:
        self.loading = True
        self.error = None
        self.busy_changed.emit(self.busy)

    def finish_loading(self) -> None:
        self.loading = False
        self.busy_changed.emit(self.busy)
        self.loaded.emit()

    def fail(self, error: BaseException | str) -> None:
        """Loading failed: keep the message; bugs also go to the crash dialog (via failure_text)."""
        missing = isinstance(error, NotFound | InvalidFilter | BadAddress)
        if isinstance(error, str):
            text = error
        elif isinstance(error, FlowdeckError):
            text = error.message
        else:
            text = failure_text(error, f"Opening {self.address}")
        self.loading = False
        self.error = text
        self.names_nothing = missing
        self.busy_changed.emit(self.busy)
        self.failed.emit(text, missing)
