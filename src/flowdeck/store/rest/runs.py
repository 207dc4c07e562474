"""Experiments, run tables and run detail read from a tracking server's REST answers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from flowdeck.core.entities import DatasetInput, Metric, ModelOutput, RunDetail, RunInfo
from flowdeck.core.run_tables import (
    DATASET_COLUMNS,
    KEY_VALUE_COLUMNS,
    LATEST_METRIC_COLUMNS,
    RUN_COLUMNS,
    RunTables,
)
from flowdeck.core.runs_frame import build_runs_frame
from flowdeck.core.task_state import TaskState, check
from flowdeck.store.experiment_frame import experiments_frame
from flowdeck.store.rest.client import RestClient
from flowdeck.store.rest.fields import Fields
from flowdeck.store.rest.run_pages import RUNS_PER_PAGE, search_pages, unseen_runs

SEARCH_MAX_RESULTS = 50000
VIEW_TYPES = {"active": "ACTIVE_ONLY", "deleted": "DELETED_ONLY", "all": "ALL"}
PROGRESS_TEXT = "Reading runs…"


def view_type(view: str) -> str:
    try:
        return VIEW_TYPES[view]
    except KeyError:
        raise ValueError(f"view must be one of {sorted(VIEW_TYPES)}, not {view!r}") from None


def metric_value(value: Any) -> float:
    """A REST metric value: numbers, or the strings "NaN", "Infinity", "-Infinity"."""
    return float(value) if value is not None else float("nan")


def key_values(items: Iterable[dict[str, Any]] | None) -> dict[str, str]:
    return {item["key"]: item.get("value", "") for item in items or ()}


# --- experiments ----------------------------------------------------------------------------


def read_experiments(client: RestClient, view: str) -> pd.DataFrame:
    """Every experiment in the view, ordered by experiment id (numerically when numeric)."""
    payload = {"max_results": SEARCH_MAX_RESULTS, "view_type": view_type(view)}
    records = []
    endpoint = "experiments/search"
    for page in client.iter_pages("POST", endpoint, payload, "experiments"):
        for raw in page:
            item = Fields(raw, endpoint, f"experiments[{len(records)}]")
            records.append(
                {
                    "experiment_id": item.required_text("experiment_id"),
                    "name": item.text("name"),
                    "artifact_location": item.optional_text("artifact_location"),
                    "lifecycle_stage": item.text("lifecycle_stage", "active"),
                    "creation_time": item.integer("creation_time"),
                    "last_update_time": item.integer("last_update_time"),
                    "tags": item.key_values("tags"),
                }
            )
    return experiments_frame(records)


# --- runs -------------------------------------------------------------------------------------


class RunTableBuilder:
    """Accumulates REST run objects page by page into the long-form ``RunTables``."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.runs: list[tuple[Any, ...]] = []
        self.metrics: list[tuple[Any, ...]] = []
        self.params: list[tuple[Any, ...]] = []
        self.tags: list[tuple[Any, ...]] = []
        self.datasets: list[tuple[Any, ...]] = []

    def add(self, runs: Iterable[dict[str, Any]], endpoint: str = "runs/search") -> None:
        for number, raw in enumerate(runs, len(self.order)):
            run = Fields(raw, endpoint, f"runs[{number}]")
            info = run.obj("info")
            data = run.obj("data")
            run_id = info.text("run_id") or info.required_text("run_uuid")
            self.order.append(run_id)
            self.runs.append(
                (
                    run_id,
                    info.text("experiment_id"),
                    info.text("run_name"),
                    info.text("status", "RUNNING"),
                    info.optional_text("user_id"),
                    info.optional_text("artifact_uri"),
                    info.integer("start_time"),
                    info.integer("end_time"),
                    info.text("lifecycle_stage", "active"),
                )
            )
            for metric in data.objects("metrics"):
                self.metrics.append(
                    (
                        run_id,
                        metric.required_text("key"),
                        metric.number("value"),
                        metric.integer("step", 0),
                        metric.integer("timestamp", 0),
                    )
                )
            for key, value in data.key_values("params").items():
                self.params.append((run_id, key, value))
            for key, value in data.key_values("tags").items():
                self.tags.append((run_id, key, value))
            for dataset_input in run.obj("inputs").objects("dataset_inputs"):
                dataset = dataset_input.obj("dataset")
                context = dataset_input.key_values("tags").get("mlflow.data.context")
                self.datasets.append(
                    (
                        run_id,
                        dataset.optional_text("name"),
                        dataset.optional_text("digest"),
                        context,
                    )
                )

    def tables(self) -> RunTables:
        runs = pd.DataFrame(self.runs, columns=RUN_COLUMNS, dtype=object)
        for name in ("start_time", "end_time"):
            runs[name] = pd.array(list(runs[name]), dtype="Int64")
        metrics = pd.DataFrame(self.metrics, columns=LATEST_METRIC_COLUMNS)
        metrics = metrics.astype(
            {"run_id": object, "key": object, "value": np.float64, "step": np.int64}
        ).astype({"timestamp": np.int64})
        return RunTables(
            runs=runs,
            metrics=metrics,
            params=pd.DataFrame(self.params, columns=KEY_VALUE_COLUMNS, dtype=object),
            tags=pd.DataFrame(self.tags, columns=KEY_VALUE_COLUMNS, dtype=object),
            datasets=pd.DataFrame(self.datasets, columns=DATASET_COLUMNS, dtype=object),
        )


def search_runs(
    client: RestClient,
    experiment_ids: Sequence[str],
    filter_string: str,
    order_by: Sequence[str],
    view: str,
    max_results: int | None,
    state: TaskState | None = None,
) -> pd.DataFrame:
    """``mlflow.search_runs()``'s frame; the server filters, orders and pages.

    Every run (no ``max_results``) comes in pages of ``RUNS_PER_PAGE``, several asked for at
    a time (``search_pages``). ``state`` is checked before each page is requested; progress
    counts pages, the total being one more than those read while more follow, and says how
    many runs came so far.
    """
    builder = RunTableBuilder()
    if experiment_ids and (max_results is None or max_results > 0):
        payload: dict[str, Any] = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "filter": filter_string or "",
            "run_view_type": view_type(view),
            "max_results": min(SEARCH_MAX_RESULTS, max_results or SEARCH_MAX_RESULTS),
            "order_by": list(order_by),
        }
        counter = _RunCount(state)
        if max_results is None:
            payload["max_results"] = RUNS_PER_PAGE
            pages = unseen_runs(search_pages(client, payload, state, counter.add), set())
        else:
            pages = client.iter_pages(
                "POST", "runs/search", payload, "runs", is_search=True, limit=max_results, state=state
            )
        for page in pages:
            builder.add(page)
            if max_results is not None:
                counter.add(len(page))
        if state is not None and counter.pages:
            state.progress(counter.pages, counter.pages, counter.text())
    check(state)
    frame = build_runs_frame(builder.tables(), "", (), None)
    return keep_server_order(frame, builder.order)


class _RunCount:
    """Pages and runs a search has received so far, said on the task's progress."""

    def __init__(self, state: TaskState | None) -> None:
        self.state = state
        self.pages = self.runs = 0

    def text(self) -> str:
        return f"{PROGRESS_TEXT} {self.runs:,} so far"

    def add(self, runs: int) -> None:
        self.pages += 1
        self.runs += runs
        if self.state is not None and not self.state.cancelled:
            self.state.progress(self.pages, self.pages + 1, self.text())


def keep_server_order(frame: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Rows in the order the server returned them (it already applied ``order_by``)."""
    if len(frame) < 2:
        return frame
    position = {run_id: index for index, run_id in enumerate(order)}
    ranks = np.fromiter((position[r] for r in frame["run_id"]), dtype=np.int64, count=len(frame))
    if np.all(ranks[1:] > ranks[:-1]):
        return frame
    return frame.iloc[np.argsort(ranks, kind="stable")].reset_index(drop=True)


# --- one run ---------------------------------------------------------------------------------


def run_detail(answer: dict[str, Any], endpoint: str = "runs/get") -> RunDetail:
    """A ``RunDetail`` from the runs/get answer ``{"run": {info, data, inputs, outputs}}``."""
    run = Fields(answer, endpoint).obj("run")
    info = run.obj("info")
    data = run.obj("data")
    inputs = run.obj("inputs")
    run_info = RunInfo(
        run_id=info.text("run_id") or info.required_text("run_uuid"),
        experiment_id=info.text("experiment_id"),
        run_name=info.text("run_name"),
        status=info.text("status", "RUNNING"),
        start_time=info.integer("start_time"),
        end_time=info.integer("end_time"),
        lifecycle_stage=info.text("lifecycle_stage", "active"),
        artifact_uri=info.optional_text("artifact_uri"),
        user_id=info.optional_text("user_id"),
    )
    metrics = {}
    for item in data.objects("metrics"):
        key = item.required_text("key")
        metrics[key] = Metric(
            key=key,
            value=item.number("value"),
            timestamp=item.integer("timestamp", 0) or 0,
            step=item.integer("step", 0) or 0,
        )
    datasets = []
    for dataset_input in inputs.objects("dataset_inputs"):
        dataset = dataset_input.obj("dataset")
        datasets.append(
            DatasetInput(
                name=dataset.text("name"),
                digest=dataset.text("digest"),
                source_type=dataset.optional_text("source_type"),
                source=dataset.optional_text("source"),
                schema=dataset.optional_text("schema"),
                profile=dataset.optional_text("profile"),
                tags=dataset_input.key_values("tags"),
            )
        )
    return RunDetail(
        info=run_info,
        params=data.key_values("params"),
        metrics=metrics,
        tags=data.key_values("tags"),
        inputs=datasets,
        model_inputs=[item.required_text("model_id") for item in inputs.objects("model_inputs")],
        outputs=[
            ModelOutput(model_id=item.required_text("model_id"), step=item.integer("step", 0) or 0)
            for item in run.obj("outputs").objects("model_outputs")
        ],
    )
