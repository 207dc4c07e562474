"""The runs pane's background load: the runs frame (and metric summaries), formatted once."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flowdeck.core.runs_table import RunsTable
from flowdeck.store.base import Store
from flowdeck.ui.theme import RUN_COLOURS


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
    state.progress(0, 3, "Loading runs…")
    frame = store.runs(experiment_ids, filter_string, view=view)
    state.check()
    summary_frame = None
    if summaries and len(frame):
        state.progress(1, 3, f"Summarising the metrics of {len(frame)} runs…")
        summary_frame = store.metric_summaries([str(i) for i in frame["run_id"]])
        state.check()
    state.progress(2, 3, f"Formatting {len(frame)} runs…")
    table = RunsTable.build(frame, summary_frame, colours=RUN_COLOURS)
    uris = {}
    if "artifact_uri" in frame:
        uris = {str(r): str(u) for r, u in zip(frame["run_id"], frame["artifact_uri"], strict=True)}
    state.progress(3, 3, "")
    return RunsLoad(table, uris, time.perf_counter() - started)
