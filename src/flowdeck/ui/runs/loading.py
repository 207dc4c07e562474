"""The runs pane's background load: the runs frame (and metric summaries), formatted once."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flowdeck.core.runs_table import RunsTable
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.store.progress import SubtaskState
from flowdeck.ui.theme import RUN_COLOURS

STEPS = 3


@dataclass(frozen=True)
class RunsLoad:
    """What a background load returns: the formatted table and each run's artifact URI."""

    table: RunsTable
    artifact_uris: dict[str, str]
    seconds: float


def load_runs(
    state: Any,
    store: Store,
    experiment_ids: list[str],
    filter_string: str,
    view: str,
    summaries: bool,
) -> RunsLoad:
    """Worker-thread body: the runs frame (and optionally metric summaries), formatted once."""
    started = time.perf_counter()
    text = "Loading runs…"
    state.progress(0, STEPS, text)
    frame = store.runs(experiment_ids, filter_string, view=view, state=_step(state, 0, text))
    state.check()
    summary_frame = None
    if summaries and len(frame):
        text = f"Summarising the metrics of {len(frame)} runs…"
        state.progress(1, STEPS, text)
        run_ids = [str(i) for i in frame["run_id"]]
        summary_frame = store.metric_summaries(run_ids, state=_step(state, 1, text))
        state.check()
    state.progress(2, STEPS, f"Formatting {len(frame)} runs…")
    table = RunsTable.build(frame, summary_frame, colours=RUN_COLOURS)
    uris = {}
    if "artifact_uri" in frame:
        uris = {str(r): str(u) for r, u in zip(frame["run_id"], frame["artifact_uri"], strict=True)}
    state.progress(STEPS, STEPS, "")
    return RunsLoad(table, uris, time.perf_counter() - started)


def _step(state: TaskState, step: int, text: str) -> SubtaskState:
    """The token of the store call that makes up ``step``: its progress moves within the step."""

    def report(done: int, total: int, _store_text: str) -> None:
        if total > 0:
            state.progress(step * total + done, STEPS * total, text)

    return SubtaskState(state, report)
