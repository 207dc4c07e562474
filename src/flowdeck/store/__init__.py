"""Store layer: ``open_store(location)`` returns a backend implementing ``Store``."""

from __future__ import annotations

import os
from typing import Any

from flowdeck.store.base import SUMMARY_COLUMNS, Store
from flowdeck.store.locations import default_location, resolve_location

__all__ = ["HISTORY_DTYPE", "SUMMARY_COLUMNS", "Store", "default_location", "open_store"]


def __getattr__(name: str) -> Any:
    if name == "HISTORY_DTYPE":  # made on first use: numpy loads with the first data
        from flowdeck.store import base

        return base.HISTORY_DTYPE
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(location: str | os.PathLike[str] | None = None, **options: object) -> Store:
    """Open a tracking store by path or URI; with no location, what MLflow would use.

    Connecting is lazy: errors about reaching the backend surface on the first call.
    """
    resolved = resolve_location(location)
    if resolved.kind == "sql":
        from flowdeck.store.sql import SqlStore

        return SqlStore(resolved.uri, **options)
    if resolved.kind == "files":
        from flowdeck.store.files import FileStore

        return FileStore(resolved.uri, **options)
    from flowdeck.store.rest import RestStore

    return RestStore(resolved.uri, **options)
