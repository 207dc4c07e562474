"""Worker reads of the overview pages: check that an address names something, gather its facts."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flowdeck.core.entities import (
    Experiment,
    RunDetail,
    Trace,
    TraceInfo,
)
from flowdeck.core.errors import FlowdeckError, NotFound, Unsupported
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import (  # noqa: F401 - the pages import them from here too
    first_line,
    format_millis,
    format_size,
    format_time,
    short_id,
)
from flowdeck.core.trace_tree import TraceTree, build_trace_tree
from flowdeck.store.base import Store


def run_label(detail: RunDetail) -> str:
    """The run's name, else its short id."""
    return detail.info.run_name or short_id(detail.info.run_id)


# --- NotFound with the page's own words ------------------------------------------------------------


@contextmanager
def missing_as(message: str) -> Iterator[None]:
    """Re-raise the store's ``NotFound`` as ``NotFound(message)``."""
    try:
        yield
    except NotFound as error:
        if type(error) is not NotFound:  # a server without the route: nothing says it is missing
            raise Unsupported(error.message, detail=error.detail) from error
        raise NotFound(message, detail=error.message) from error


def _experiment(store: Store, experiment_id: str) -> Experiment:
    with missing_as(f"There is no experiment with ID {experiment_id} in {store.display_name}."):
        return store.experiment(experiment_id)


# --- traces -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceView:
    trace: Trace
    tree: TraceTree
    experiment_name: str


def read_trace(state: TaskState, store: Store, trace_id: str) -> TraceView:
    with missing_as(f"There is no trace with ID {trace_id} in {store.display_name}."):
        trace = store.trace(trace_id)
    state.check()
    try:
        experiment_name = store.experiment(trace.info.experiment_id).name
    except FlowdeckError:
        experiment_name = ""
    view = TraceView(trace, build_trace_tree(trace.spans), experiment_name)
    gc.freeze()  # long-lived: keep 100,000 spans out of every later collection on the GUI thread
    return view


def trace_label(info: TraceInfo) -> str:
    return info.name or info.trace_id
