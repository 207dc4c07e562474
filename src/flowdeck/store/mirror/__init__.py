"""Offline mirrors: any store copied into a local SQLite store that MLflow itself opens.

Importing the package is cheap (a store checks whether it is a mirror on opening); the sync
machinery loads on first use of ``sync_mirror``, ``MirrorOptions`` or ``MirrorReport``.
"""

from __future__ import annotations

from typing import Any

from flowdeck.store.mirror.database import MirrorError, is_mirror, read_state

_FROM_SYNC = ("MirrorOptions", "MirrorReport", "sync_mirror")

__all__ = ["MirrorError", "MirrorOptions", "MirrorReport", "is_mirror", "read_state", "sync_mirror"]


def __getattr__(name: str) -> Any:
    if name in _FROM_SYNC:
        from flowdeck.store.mirror import sync

        return getattr(sync, name)
    raise AttributeError(name)
