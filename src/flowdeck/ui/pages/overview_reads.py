"""Worker reads of the overview pages: check that an address names something, gather its facts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flowdeck.core.entities import (
    Experiment,
    LoggedModel,
    ModelVersion,
    RegisteredModel,
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

LATEST_VERSION_LIMIT = 200  # models whose latest version the models page looks up
TRACE_PAGE_SIZE = 100


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


def _versions(store: Store, name: str) -> list[ModelVersion]:
    with missing_as(f"There is no registered model named '{name}' in {store.display_name}."):
        return store.model_versions(name)


# --- registry ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRow:
    model: RegisteredModel
    latest: int | None  # None when not looked up (or the model has no live version)


@dataclass(frozen=True)
class ModelsView:
    models: tuple[ModelRow, ...]
    prompts: tuple[ModelRow, ...]
    more: bool  # the registry holds more models than were read
    latest_skipped: bool  # some latest versions were not looked up


def read_models(state: TaskState, store: Store) -> ModelsView:
    """Registered models and prompts, each with its latest version (for the first ones)."""
    page = store.registered_models()
    rows = []
    for index, model in enumerate(page.items):
        latest = None
        if index < LATEST_VERSION_LIMIT:
            state.check()
            state.progress(index, min(len(page.items), LATEST_VERSION_LIMIT), "Reading versions")
            try:
                latest = max((v.version for v in store.model_versions(model.name)), default=None)
            except NotFound:  # deleted since the listing
                latest = None
        rows.append(ModelRow(model, latest))
    return ModelsView(
        models=tuple(row for row in rows if not row.model.is_prompt),
        prompts=tuple(row for row in rows if row.model.is_prompt),
        more=page.next_token is not None,
        latest_skipped=len(rows) > LATEST_VERSION_LIMIT,
    )


def _name_filter(name: str) -> str:
    """An exact-name model filter, or '' when the name holds both kinds of quote."""
    if "'" not in name:
        return f"name = '{name}'"
    if '"' not in name:
        return f'name = "{name}"'
    return ""


def _registered_model(store: Store, name: str) -> RegisteredModel | None:
    try:
        page = store.registered_models(filter_string=_name_filter(name))
    except FlowdeckError:
        return None
    return next((model for model in page.items if model.name == name), None)


@dataclass(frozen=True)
class ModelView:
    name: str
    model: RegisteredModel | None  # None when its own record could not be read
    versions: tuple[ModelVersion, ...]  # newest first


def read_model(state: TaskState, store: Store, name: str) -> ModelView:
    versions = _versions(store, name)
    state.check()
    return ModelView(name, _registered_model(store, name), tuple(versions))


@dataclass(frozen=True)
class VersionView:
    version: ModelVersion
    run_name: str  # '' when the source run is unknown or gone


def read_model_version(state: TaskState, store: Store, name: str, version: str) -> VersionView:
    versions = _versions(store, name)
    found = next((v for v in versions if str(v.version) == version.strip()), None)
    if found is None:
        raise NotFound(
            f"Registered model '{name}' has no version {version} in {store.display_name}."
        )
    run_name = ""
    if found.run_id:
        state.check()
        try:
            run_name = store.run(found.run_id).info.run_name
        except FlowdeckError:
            run_name = ""
    return VersionView(found, run_name)


# --- logged models ----------------------------------------------------------------------------------


def read_logged_models(
    state: TaskState, store: Store, experiment_id: str
) -> tuple[Experiment, list[LoggedModel]]:
    experiment = _experiment(store, experiment_id)
    state.check()
    return experiment, store.logged_models([experiment_id])


def read_logged_model(state: TaskState, store: Store, model_id: str) -> tuple[LoggedModel, str]:
    """The logged model and its experiment's name (looked up over every experiment)."""
    frame = store.experiments(view="all")
    names = dict(zip(frame["experiment_id"].astype(str), frame["name"], strict=True))
    state.check()
    found = next((m for m in store.logged_models(list(names)) if m.model_id == model_id), None)
    if found is None:
        raise NotFound(f"There is no logged model with ID {model_id} in {store.display_name}.")
    return found, str(names.get(found.experiment_id, ""))


# --- traces -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TracesView:
    experiment: Experiment
    traces: tuple[TraceInfo, ...]
    more: bool


def read_traces(
    state: TaskState, store: Store, experiment_id: str, filter_string: str
) -> TracesView:
    experiment = _experiment(store, experiment_id)
    state.check()
    page = store.search_traces(
        [experiment_id], filter_string=filter_string, max_results=TRACE_PAGE_SIZE, state=state
    )
    return TracesView(experiment, tuple(page.items), page.next_token is not None)


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
    return TraceView(trace, build_trace_tree(trace.spans), experiment_name)


def trace_label(info: TraceInfo) -> str:
    return info.name or info.trace_id
