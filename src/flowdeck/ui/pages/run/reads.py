"""Worker reads of the run page (Qt-free): the run, its links, metric summaries and sparklines."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

from flowdeck.core.compare import better_is_lower
from flowdeck.core.decimate import decimate_minmax
from flowdeck.core.entities import RunDetail
from flowdeck.core.errors import Cancelled, FlowdeckError, NotFound
from flowdeck.core.task_state import TaskState
from flowdeck.core.trace_filter import SOURCE_RUN_KEY
from flowdeck.store.base import CAP_LOGGED_MODELS, CAP_REGISTRY, CAP_TRACES, Store
from flowdeck.ui.pages.overview_reads import missing_as

SPARKLINE_POINTS = 200
SPARKLINE_COLUMNS = (SPARKLINE_POINTS - 2) // 3  # decimate_minmax keeps ≤ 3 * columns + 2
MAX_CHILDREN = 200
MAX_MODELS_SCANNED = 100  # registered models whose versions are searched for this run
MAX_TRACES_COUNTED = 1000
PARENT_TAG = "mlflow.parentRunId"
T = TypeVar("T")
GIT_TAGS = (  # label, tag, shortened to this many characters (0: as is)
    ("Git commit", "mlflow.source.git.commit", 10),
    ("Git branch", "mlflow.source.git.branch", 0),
    ("Git repository", "mlflow.source.git.repoURL", 0),
    ("Git dirty", "mlflow.source.git.dirty", 0),
)
SOURCE_TAGS = (
    ("Source", "mlflow.source.name"),
    ("Source type", "mlflow.source.type"),
    ("Entry point", "mlflow.project.entryPoint"),
)


# --- metrics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricRow:
    """One metric of the run: latest, min, max, the step of the best value, point count."""

    key: str
    latest: float
    minimum: float
    maximum: float
    best_step: int | None
    count: int
    lower_better: bool

    @property
    def best(self) -> float:
        return self.minimum if self.lower_better else self.maximum


def metric_rows(summaries: pd.DataFrame) -> list[MetricRow]:
    """Rows of ``metric_summaries`` for one run, sorted by key."""
    rows = []
    for record in summaries.sort_values("key").itertuples(index=False):
        key = str(record.key)
        lower = better_is_lower(key)
        step = record.min_step if lower else record.max_step
        rows.append(
            MetricRow(
                key=key,
                latest=float(record.last),
                minimum=float(record.min),
                maximum=float(record.max),
                best_step=None if pd.isna(step) else int(step),
                count=int(record.count),
                lower_better=lower,
            )
        )
    return rows


@dataclass(frozen=True)
class Sparkline:
    """A metric's curve in the unit square (x right, y down: 0 is the highest value).

    At most ``SPARKLINE_POINTS`` points; NaN in ``y`` breaks the line.
    """

    x: np.ndarray
    y: np.ndarray
    points: int  # points in the full history


def sparkline(history: np.ndarray) -> Sparkline | None:
    """The decimated, normalised curve of a ``HISTORY_DTYPE`` array (None when empty)."""
    if not len(history):
        return None
    steps = history["step"].astype(np.float64)
    values = history["value"].astype(np.float64)
    values = np.where(np.isfinite(values), values, np.nan)
    x, y = decimate_minmax(steps, values, -np.inf, np.inf, SPARKLINE_COLUMNS)
    finite = np.isfinite(y)
    low, high = (float(y[finite].min()), float(y[finite].max())) if finite.any() else (0.0, 0.0)
    span_x = float(x[-1] - x[0])
    unit_x = (x - x[0]) / span_x if span_x > 0 else np.full(len(x), 0.5)
    unit_y = 1.0 - (y - low) / (high - low) if high > low else np.where(finite, 0.5, np.nan)
    return Sparkline(unit_x, unit_y, len(history))


def read_sparklines(
    state: TaskState, store: Store, run_id: str, keys: Sequence[str]
) -> dict[str, Sparkline | None]:
    """Full histories of ``keys`` (one batch), reduced to sparklines on this worker."""
    histories = store.metric_history([run_id], list(keys), state=state)
    found: dict[str, Sparkline | None] = {}
    for key in keys:
        state.check()
        history = histories.get((run_id, key))
        found[key] = None if history is None else sparkline(history)
    return found


# --- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunData:
    """What the page shows first: the run, its experiment's and parent's names, its metrics."""

    detail: RunDetail
    experiment_name: str
    parent_name: str
    metrics: tuple[MetricRow, ...]


def read_detail(state: TaskState, store: Store, run_id: str) -> RunDetail:
    with missing_as(f"There is no run with ID {run_id} in {store.display_name}."):
        return store.run(run_id)


def read_run(state: TaskState, store: Store, run_id: str) -> RunData:
    """The run; ``NotFound`` in the page's words when the store has no such run."""
    detail = read_detail(state, store, run_id)
    state.check()
    experiment_name = _quiet(lambda: store.experiment(detail.info.experiment_id).name, "")
    parent_id = detail.parent_run_id
    parent_name = _quiet(lambda: store.run(parent_id).info.run_name, "") if parent_id else ""
    state.check()
    metrics = metric_rows(store.metric_summaries([run_id], state=state)) if detail.metrics else []
    return RunData(detail, experiment_name, parent_name, tuple(metrics))


def source_facts(tags: Mapping[str, str]) -> list[tuple[str, str]]:
    """(label, value) of the run's source tags that are set."""
    return [(label, tags[tag]) for label, tag in SOURCE_TAGS if tags.get(tag)]


def git_facts(tags: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(label, shown, copied) of the run's git tags that are set; the commit shows short."""
    facts = []
    for label, tag, width in GIT_TAGS:
        value = tags.get(tag, "")
        if value:
            facts.append((label, value[:width] if width else value, value))
    return facts


def schema_text(schema: str | None) -> str:
    """A dataset schema as 'name (type), …' for MLflow column specs, else the text as is."""
    if not schema:
        return ""
    try:
        columns = json.loads(schema).get("mlflow_colspec")
    except (ValueError, AttributeError):
        return schema
    if not isinstance(columns, list):
        return schema
    parts = []
    for column in columns:
        if isinstance(column, dict):
            name, kind = column.get("name"), column.get("type", "?")
            parts.append(f"{name} ({kind})" if name is not None else str(kind))
    return ", ".join(parts)


# --- links ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunLink:
    run_id: str
    name: str
    status: str


@dataclass(frozen=True)
class ModelLink:
    """A logged model the run produced (``"output"``) or used (``"input"``)."""

    model_id: str
    name: str
    relation: str


@dataclass(frozen=True)
class VersionLink:
    name: str
    version: int


@dataclass(frozen=True)
class RunLinks:
    """What else in the store names this run; ``None`` counts were not looked up."""

    children: tuple[RunLink, ...] = ()
    more_children: bool = False
    models: tuple[ModelLink, ...] = ()
    versions: tuple[VersionLink, ...] | None = None  # None: the store has no registry
    versions_note: str = ""
    traces: int | None = None
    more_traces: bool = False


def read_links(state: TaskState, store: Store, detail: RunDetail) -> RunLinks:
    """Children, logged models, registered versions and linked traces of the run."""
    run_id, experiment_id = detail.info.run_id, detail.info.experiment_id
    children, more = _quiet(lambda: _children(state, store, run_id, experiment_id), ((), False))
    state.check()
    models = _models(store, detail)
    state.check()
    versions, note = _versions(state, store, run_id)
    state.check()
    traces, more_traces = _traces(state, store, run_id, experiment_id)
    return RunLinks(children, more, models, versions, note, traces, more_traces)


def _quiet(read: Callable[[], T], default: T) -> T:
    """``read()``, or ``default`` when the store cannot answer (a cancel still stops the task)."""
    try:
        return read()
    except Cancelled:
        raise
    except FlowdeckError:
        return default


def _children(
    state: TaskState, store: Store, run_id: str, experiment_id: str
) -> tuple[tuple[RunLink, ...], bool]:
    frame = store.runs(
        [experiment_id],
        filter_string=f"tags.`{PARENT_TAG}` = '{run_id}'",
        order_by=["attributes.start_time ASC"],
        max_results=MAX_CHILDREN + 1,
        state=state,
    )
    names = frame.get("tags.mlflow.runName", pd.Series([""] * len(frame), dtype=object))
    links = [
        RunLink(str(child_id), name if isinstance(name, str) else "", str(status))
        for child_id, name, status in zip(frame["run_id"], names, frame["status"], strict=True)
    ]
    return tuple(links[:MAX_CHILDREN]), len(links) > MAX_CHILDREN


def _models(store: Store, detail: RunDetail) -> tuple[ModelLink, ...]:
    run_id = detail.info.run_id
    relations = {output.model_id: "output" for output in detail.outputs}
    for model_id in detail.model_inputs:
        relations.setdefault(model_id, "input")
    names: dict[str, str] = {}
    if CAP_LOGGED_MODELS in store.capabilities:
        for model in _quiet(lambda: store.logged_models([detail.info.experiment_id]), []):
            names[model.model_id] = model.name
            if model.source_run_id == run_id:
                relations.setdefault(model.model_id, "output")
    return tuple(
        ModelLink(model_id, names.get(model_id, ""), relation)
        for model_id, relation in sorted(relations.items(), key=lambda item: item[1] != "output")
    )


def _versions(
    state: TaskState, store: Store, run_id: str
) -> tuple[tuple[VersionLink, ...] | None, str]:
    if CAP_REGISTRY not in store.capabilities:
        return None, ""
    page = _quiet(lambda: store.registered_models(max_results=MAX_MODELS_SCANNED + 1), None)
    if page is None:
        return None, ""
    models = [model for model in page.items if not model.is_prompt]
    found = []
    for model in models[:MAX_MODELS_SCANNED]:
        state.check()
        try:
            versions = store.model_versions(model.name)
        except NotFound:  # deleted since the listing
            continue
        found.extend(VersionLink(v.name, v.version) for v in versions if v.run_id == run_id)
    note = ""
    if len(models) > MAX_MODELS_SCANNED or page.next_token is not None:
        note = f"Only the first {MAX_MODELS_SCANNED} registered models were searched."
    return tuple(sorted(found, key=lambda v: (v.name, v.version))), note


def trace_filter(run_id: str) -> str:
    """The trace filter for the traces logged inside a run."""
    return f"metadata.`{SOURCE_RUN_KEY}` = '{run_id}'"


def _traces(
    state: TaskState, store: Store, run_id: str, experiment_id: str
) -> tuple[int | None, bool]:
    if CAP_TRACES not in store.capabilities:
        return None, False
    page = _quiet(
        lambda: store.search_traces(
            [experiment_id],
            filter_string=trace_filter(run_id),
            max_results=MAX_TRACES_COUNTED,
            state=state,
        ),
        None,
    )
    return (None, False) if page is None else (len(page.items), page.next_token is not None)
