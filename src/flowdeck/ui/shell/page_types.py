"""Which page class shows which address family; page modules register themselves here."""

from __future__ import annotations

from collections.abc import Callable

from flowdeck.core.addresses import Address
from flowdeck.store.base import Store
from flowdeck.ui.shell.page import Page, Shell

PAGE_TYPES: dict[str, type[Page]] = {}


def page_type(cls: type[Page]) -> type[Page]:
    """Class decorator: ``cls`` shows addresses of ``cls.family``."""
    if not cls.family:
        raise ValueError(f"{cls.__name__} has no family")
    PAGE_TYPES[cls.family] = cls
    return cls


def create_page(shell: Shell, store: Store, address: Address) -> Page:
    """A new page for ``address`` (pages are imported on first use)."""
    import flowdeck.ui.pages  # noqa: F401 - registers every page type

    cls = PAGE_TYPES.get(address.family)
    if cls is None:
        raise KeyError(f"no page shows {address.family!r} addresses")
    return cls(shell, store, address)


PageFactory = Callable[[Shell, Store, Address], Page]
