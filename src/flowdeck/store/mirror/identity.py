"""What a mirror says about itself: its origin, when it was last synced, whether it is whole."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flowdeck.store.mirror.database import read_state


@dataclass(frozen=True)
class MirrorInfo:
    """The state a sync leaves in a mirror, in the words a window shows."""

    path: Path
    origin: str
    origin_kind: str
    last_sync: int | None  # ms since the epoch, None before the first sync finished
    complete: bool
    last_report: str = ""

    @property
    def synced_text(self) -> str:
        if self.last_sync is None:
            return "never synced completely"
        stamp = datetime.fromtimestamp(self.last_sync / 1000).strftime("%Y-%m-%d %H:%M")
        return f"last synced {stamp}" + ("" if self.complete else " (the last sync stopped early)")

    def describe(self) -> str:
        """ "Offline mirror of http://host:5000, last synced 2026-12-05 14:03"."""
        return f"Offline mirror of {self.origin}, {self.synced_text}"

    def read_only_reason(self) -> str:
        return (
            f"{self.describe()}. It is read-only: edits belong at the source "
            "(File → Open Mirror's Source opens it; File → Sync Mirror brings the copy up to date)."
        )


def mirror_info(path: Path | str | None) -> MirrorInfo | None:
    """The mirror behind a SQLite file, or None when it is not a Flowdeck mirror (or unreadable)."""
    if path is None:
        return None
    try:
        state = read_state(Path(path))
    except sqlite3.Error:
        return None
    if not state.get("origin"):
        return None
    last = state.get("last_sync")
    return MirrorInfo(
        path=Path(path),
        origin=state["origin"],
        origin_kind=state.get("origin_kind", ""),
        last_sync=int(last) if last and last.isdigit() else None,
        complete=state.get("complete") == "1",
        last_report=state.get("last_report", ""),
    )
