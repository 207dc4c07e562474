"""Offline mirrors: any store copied into a local SQLite store that MLflow itself opens."""

from __future__ import annotations

from flowdeck.store.mirror import steps as _steps  # noqa: F401 - registers the copy steps
from flowdeck.store.mirror.database import MirrorError, is_mirror, read_state
from flowdeck.store.mirror.sync import MirrorOptions, MirrorReport, sync_mirror

__all__ = [
    "MirrorError",
    "MirrorOptions",
    "MirrorReport",
    "is_mirror",
    "read_state",
    "sync_mirror",
]
