"""Worker reads of an evaluation run's traces and their judges' assessments (Qt-free)."""

from __future__ import annotations

from flowdeck.core.entities import Assessment, TraceInfo
from flowdeck.core.evaluation import EvaluationTable, evaluation_table
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store

PAGE = 500
MAX_ROWS = 10_000


def run_traces(state: TaskState, store: Store, experiment_id: str, run_id: str) -> list[TraceInfo]:
    """Every trace linked to the run (``metadata.mlflow.sourceRun``), up to ``MAX_ROWS``."""
    filter_string = f"metadata.`mlflow.sourceRun` = '{run_id}'"
    found: list[TraceInfo] = []
    token: str | None = None
    while len(found) < MAX_ROWS:
        page = store.search_traces([experiment_id], filter_string, (), PAGE, token, state=state)
        found.extend(page.items)
        if not page.next_token or not page.items or page.next_token == token:
            break
        token = page.next_token
    return found[:MAX_ROWS]


def assessments_of(store: Store, info: TraceInfo) -> tuple[Assessment, ...]:
    """The trace's assessments: from the listing when it carries them, else read the trace."""
    listed = getattr(info, "assessments", None)
    if listed:
        return tuple(listed)
    return store.trace(info.trace_id).assessments  # a listing may leave them out


def read_evaluation(
    state: TaskState, store: Store, experiment_id: str, run_id: str
) -> EvaluationTable:
    """The run's evaluation table (empty when no trace of the run was judged)."""
    infos = run_traces(state, store, experiment_id, run_id)
    pairs = []
    for number, info in enumerate(infos):
        state.check()
        state.progress(number, len(infos), "Reading the judges' verdicts")
        pairs.append((info, assessments_of(store, info)))
    return evaluation_table(pairs)
