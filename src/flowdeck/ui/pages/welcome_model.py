"""What the welcome page lists (recent stores, still there or not) and which experiment to show.

Qt-free: plain functions the welcome page runs on its task runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowdeck.core.errors import FlowdeckError, StoreNotFound
from flowdeck.store.locations import resolve_location

MISSING_NOTE = "not found: moved or deleted?"
UNKNOWN_NOTE = "Flowdeck cannot open this kind of location"
DEMO_STEPS = 8  # progress lines the demo build prints, "building…" to "ready"


@dataclass(frozen=True)
class RecentStore:
    """One recent store: its location (never with a secret) and a plain note when it is gone."""

    location: str
    note: str = ""

    @property
    def missing(self) -> bool:
        return bool(self.note)


def check_recent(_state: Any, locations: list[str]) -> list[RecentStore]:
    """Each location with a note when it no longer exists (servers and databases are not
    contacted: only local files and folders are checked)."""
    found = []
    for location in locations:
        try:
            resolve_location(location)
            note = ""
        except StoreNotFound:
            note = MISSING_NOTE
        except FlowdeckError:
            note = UNKNOWN_NOTE
        found.append(RecentStore(location, note))
    return found


def build_demo(state: Any) -> str:
    """Build the demo store if it is absent (reporting each step) and return its location."""
    from flowdeck.demo import ensure_demo_store

    done = 0

    def progress(message: str) -> None:
        nonlocal done
        if state is not None:
            state.check()  # a cancelled build stops here; the half-built folder is removed
            done = min(done + 1, DEMO_STEPS)
            state.progress(done, DEMO_STEPS, message)

    return str(ensure_demo_store(progress=progress))


def first_experiment(_state: Any, store: Any) -> str | None:
    """The experiment to show once a store opens: the oldest active one other than Default
    (MLflow's catch-all), else Default; None for a store without experiments."""
    frame = store.experiments(view="active")
    if frame is None or len(frame) == 0:
        return None
    ids = [str(i) for i in frame["experiment_id"]]
    named = [i for i, name in zip(ids, frame["name"], strict=True) if name != "Default"]
    candidates = named or ids
    return min(candidates, key=lambda i: (len(i), i) if i.isdigit() else (10**6, i))
