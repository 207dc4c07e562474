"""Worker-thread loading of metric histories, in chunks of runs, with progress and cancel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowdeck.store.base import HISTORY_DTYPE, Store
from flowdeck.store.progress import SubtaskState
from flowdeck.ui.tasks import TaskState

RUNS_PER_CHUNK = 25
PROGRESS_TEXT = "Loading curves…"


@dataclass(frozen=True)
class ChartRun:
    """A run as the charts need it."""

    run_id: str
    name: str
    colour: str
    start_ms: int | None
    running: bool


def load_histories(
    state: TaskState, store: Store, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], np.ndarray]:
    """The histories of these (run id, key) pairs; absent pairs come back empty."""
    by_run: dict[str, list[str]] = {}
    for run_id, key in pairs:
        by_run.setdefault(run_id, []).append(key)
    run_ids = list(by_run)
    found: dict[tuple[str, str], np.ndarray] = {}
    for start in range(0, len(run_ids), RUNS_PER_CHUNK):
        state.check()
        chunk = run_ids[start : start + RUNS_PER_CHUNK]
        keys = sorted({key for run_id in chunk for key in by_run[run_id]})
        histories = store.metric_history(
            chunk, keys, state=_within_chunk(state, start, len(chunk), len(run_ids))
        )
        for run_id in chunk:
            for key in by_run[run_id]:
                found[(run_id, key)] = histories.get((run_id, key), _EMPTY)
        state.progress(start + len(chunk), len(run_ids), PROGRESS_TEXT)
    return found


def _within_chunk(state: TaskState, start: int, size: int, runs: int) -> SubtaskState:
    """The store call's token for one chunk: its progress counts runs of the whole load."""

    def report(done: int, total: int, store_text: str) -> None:
        if total > 0:  # the store's words may say more (a server's: the points so far)
            state.progress(start + size * done // total, runs, store_text or PROGRESS_TEXT)

    return SubtaskState(state, report)


_EMPTY = np.zeros(0, dtype=HISTORY_DTYPE)
