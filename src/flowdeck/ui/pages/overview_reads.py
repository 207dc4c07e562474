"""Worker reads of the overview pages: check that an address names something, gather its facts."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flowdeck.core.entities import (
    Experiment,
    RunDetail,
    Trace,
    TraceInfo,
)
from flowdeck.core.errors import FlowdeckError, NotFound, Unsupported
from flowdeck.core.span_rows import TreeArrays, tree_arrays
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import (  # noqa: F401 - the pages import them from here too
    first_line,
    format_millis,
    format_size,
    format_time,
    short_id,
)
from flowdeck.core.trace_tree import TraceTree, build_trace_tree
from flowdeck.core.trace_view import SpanFacts, critical_path, span_facts
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
    arrays: TreeArrays | None = None  # the tree as numpy arrays, for the rows of the view
    facts: SpanFacts = field(default_factory=lambda: span_facts(()))
    critical: frozenset[int] = frozenset()  # the critical path's spans


def read_trace(state: TaskState, store: Store, trace_id: str) -> TraceView:
    with missing_as(f"There is no trace with ID {trace_id} in {store.display_name}."):
        trace = store.trace(trace_id)
    state.check()
    try:
        experiment_name = store.experiment(trace.info.experiment_id).name
    except FlowdeckError:
        experiment_name = ""
    tree = build_trace_tree(trace.spans)
    state.check()
    # everything that walks all spans happens here, not on the GUI thread
    wanted = [a.span_id for a in trace.assessments if a.span_id]
    view = TraceView(
        trace,
        tree,
        experiment_name,
        tree_arrays(tree),
        span_facts(tree.spans, wanted),
        critical_path(tree),
    )
    gc.freeze()  # long-lived: keep 100,000 spans out of every later collection on the GUI thread
    return view


def trace_label(info: TraceInfo) -> str:
    return info.name or info.trace_id
