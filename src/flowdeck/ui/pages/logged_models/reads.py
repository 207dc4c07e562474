"""Worker reads of the logged-model pages (Qt-free): rows with metrics, versions, comparison."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from flowdeck.core.entities import Experiment, LoggedModel, LoggedModelMetric, ModelVersion
from flowdeck.core.errors import FlowdeckError, InvalidFilter
from flowdeck.core.model_versions import model_id_from_source
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_time
from flowdeck.store.base import Store
from flowdeck.ui.pages.overview_reads import missing_as

MAX_METRIC_COLUMNS = 6


def metric_label(metric: LoggedModelMetric, keys_with_datasets: set[str]) -> str:
    """``accuracy`` or, when the key was computed on several datasets, ``accuracy (eval)``."""
    if metric.key in keys_with_datasets and metric.dataset_name:
        return f"{metric.key} ({metric.dataset_name})"
    return metric.key


def latest_metrics(model: LoggedModel) -> dict[str, LoggedModelMetric]:
    """Per key (and dataset where a key has several), the value at the highest step."""
    datasets: dict[str, set[str | None]] = {}
    for metric in model.metrics:
        datasets.setdefault(metric.key, set()).add(metric.dataset_name)
    several = {key for key, names in datasets.items() if len(names) > 1}
    found: dict[str, LoggedModelMetric] = {}
    for metric in model.metrics:
        label = metric_label(metric, several)
        known = found.get(label)
        if known is None or (metric.step, metric.timestamp or 0) >= (
            known.step,
            known.timestamp or 0,
        ):
            found[label] = metric
    return found


@dataclass(frozen=True)
class LoggedModelRow:
    model: LoggedModel
    metrics: dict[str, LoggedModelMetric]
    versions: tuple[ModelVersion, ...]  # registered versions made from the model


@dataclass(frozen=True)
class LoggedModelsView:
    experiment: Experiment
    rows: tuple[LoggedModelRow, ...]
    metric_keys: tuple[str, ...]  # the columns: the keys most models have
    registry_note: str  # why registered versions are not shown ("" when they are)


def versions_by_model(store: Store, state: TaskState | None = None) -> tuple[dict, str]:
    """Registered versions keyed by the logged model they were made from, and a note."""
    try:
        everything = store.all_model_versions(state=state)
    except FlowdeckError as error:
        return {}, f"Registered versions are not shown: {error.message}"
    made: dict[str, list[ModelVersion]] = {}
    for versions in everything.values():
        for version in versions:
            model_id = version.model_id or model_id_from_source(version.source)
            if model_id:
                made.setdefault(model_id, []).append(version)
    return made, ""


def read_logged_models_page(
    state: TaskState, store: Store, experiment_id: str, filter_string: str
) -> LoggedModelsView | InvalidFilter:
    """The experiment's logged models matching the filter (or the filter's error)."""
    with missing_as(f"There is no experiment with ID {experiment_id} in {store.display_name}."):
        experiment = store.experiment(experiment_id)
    state.check()
    try:
        models = store.logged_models([experiment_id], filter_string, state=state)
    except InvalidFilter as error:
        return error
    state.check()
    made, note = versions_by_model(store, state) if models else ({}, "")
    rows = tuple(
        LoggedModelRow(model, latest_metrics(model), tuple(made.get(model.model_id, ())))
        for model in models
    )
    counts = Counter(key for row in rows for key in row.metrics)
    keys = tuple(sorted(key for key, _n in counts.most_common(MAX_METRIC_COLUMNS)))
    return LoggedModelsView(experiment, rows, keys, note)


@dataclass(frozen=True)
class LoggedModelDetail:
    model: LoggedModel
    experiment_name: str
    metrics: tuple[LoggedModelMetric, ...]  # every recorded value, by key then step
    versions: tuple[ModelVersion, ...]
    registry_note: str


def read_logged_model_page(state: TaskState, store: Store, model_id: str) -> LoggedModelDetail:
    """One logged model, its experiment's name, and the versions registered from it."""
    with missing_as(f"There is no logged model with ID {model_id} in {store.display_name}."):
        model = store.logged_model(model_id)
    state.check()
    try:
        experiment_name = store.experiment(model.experiment_id).name
    except FlowdeckError:
        experiment_name = ""
    made, note = versions_by_model(store, state)
    metrics = tuple(
        sorted(model.metrics, key=lambda m: (m.key, m.dataset_name or "", m.step, m.timestamp or 0))
    )
    return LoggedModelDetail(
        model, experiment_name, metrics, tuple(made.get(model.model_id, ())), note
    )


# --- comparison ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparedRow:
    section: str  # "Model", "Params", "Metrics", "Tags"
    name: str
    values: tuple[str, ...]  # one per model, "" where it has none
    differs: bool


def format_value(value: float) -> str:
    return "NaN" if math.isnan(value) else f"{value:.6g}"


def compare_models(models: Sequence[LoggedModel]) -> list[ComparedRow]:
    """Side by side: facts, then the union of params, metrics and user tags."""
    rows: list[ComparedRow] = []

    def add(section: str, name: str, values: Sequence[str]) -> None:
        rows.append(ComparedRow(section, name, tuple(values), len(set(values)) > 1))

    add("Model", "Name", [m.name for m in models])
    add("Model", "Status", [m.status for m in models])
    add("Model", "Type", [m.model_type or "" for m in models])
    add("Model", "Source run", [m.source_run_id or "" for m in models])
    add("Model", "Created", [format_time(m.creation_time) for m in models])
    for key in sorted({key for m in models for key in m.params}):
        add("Params", key, [m.params.get(key, "") for m in models])
    latest = [latest_metrics(m) for m in models]
    for key in sorted({key for found in latest for key in found}):
        values = [format_value(found[key].value) if key in found else "" for found in latest]
        add("Metrics", key, values)
    user_tags = sorted({k for m in models for k in m.tags if not k.startswith("mlflow.")})
    for key in user_tags:
        add("Tags", key, [m.tags.get(key, "") for m in models])
    return rows
