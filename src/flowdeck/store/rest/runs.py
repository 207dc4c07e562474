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
    for page in client.iter_pages("POST", "experiments/search", payload, "experiments"):
        for item in page:
            records.append(
                {
                    "experiment_id": str(item["experiment_id"]),
                    "name": item.get("name", ""),
                    "artifact_location": item.get("artifact_location"),
                    "lifecycle_stage": item.get("lifecycle_stage", "active"),
                    "creation_time": item.get("creation_time"),
                    "last_update_time": item.get("last_update_time"),
                    "tags": key_values(item.get("tags")),
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

    def add(self, runs: Iterable[dict[str, Any]]) -> None:
        for run in runs:
            info = run.get("info") or {}
            data = run.get("data") or {}
            run_id = info.get("run_id") or info.get("run_uuid")
            self.order.append(run_id)
            self.runs.append(
                (
                    run_id,
                    str(info.get("experiment_id", "")),
                    info.get("run_name") or "",
                    info.get("status", "RUNNING"),
                    info.get("user_id"),
                    info.get("artifact_uri"),
                    info.get("start_time"),
                    info.get("end_time"),
                    info.get("lifecycle_stage", "active"),
                )
            )
            for metric in data.get("metrics") or ():
                self.metrics.append(
                    (
                        run_id,
                        metric["key"],
                        metric_value(metric.get("value")),
                        int(metric.get("step", 0) or 0),
                        int(metric.get("timestamp", 0) or 0),
                    )
                )
            for param in data.get("params") or ():
                self.params.append((run_id, param["key"], param.get("value", "")))
            for tag in data.get("tags") or ():
                self.tags.append((run_id, tag["key"], tag.get("value", "")))
            for dataset_input in (run.get("inputs") or {}).get("dataset_inputs") or ():
                dataset = dataset_input.get("dataset") or {}
                context = key_values(dataset_input.get("tags")).get("mlflow.data.context")
                self.datasets.append((run_id, dataset.get("name"), dataset.get("digest"), context))

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

    ``state`` is checked before each page is requested; progress counts pages, the total
    being one more than those read while the server says more follow.
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
        pages = client.iter_pages(
            "POST", "runs/search", payload, "runs", is_search=True, limit=max_results, state=state
        )
        done = 0
        for done, page in enumerate(pages, 1):
            builder.add(page)
            if state is not None:
                state.progress(done, done + 1, PROGRESS_TEXT)
        if state is not None and done:
            state.progress(done, done, PROGRESS_TEXT)
    check(state)
    frame = build_runs_frame(builder.tables(), "", (), None)
    return keep_server_order(frame, builder.order)


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


def run_detail(run: dict[str, Any]) -> RunDetail:
    """A ``RunDetail`` from the REST ``Run`` object (runs/get)."""
    info = run.get("info") or {}
    data = run.get("data") or {}
    inputs = run.get("inputs") or {}
    outputs = run.get("outputs") or {}
    run_info = RunInfo(
        run_id=info.get("run_id") or info.get("run_uuid"),
        experiment_id=str(info.get("experiment_id", "")),
        run_name=info.get("run_name") or "",
        status=info.get("status", "RUNNING"),
        start_time=info.get("start_time"),
        end_time=info.get("end_time"),
        lifecycle_stage=info.get("lifecycle_stage", "active"),
        artifact_uri=info.get("artifact_uri"),
        user_id=info.get("user_id"),
    )
    metrics = {
        item["key"]: Metric(
            key=item["key"],
            value=metric_value(item.get("value")),
            timestamp=int(item.get("timestamp", 0) or 0),
            step=int(item.get("step", 0) or 0),
        )
        for item in data.get("metrics") or ()
    }
    datasets = []
    for dataset_input in inputs.get("dataset_inputs") or ():
        dataset = dataset_input.get("dataset") or {}
        datasets.append(
            DatasetInput(
                name=dataset.get("name", ""),
                digest=dataset.get("digest", ""),
                source_type=dataset.get("source_type"),
                source=dataset.get("source"),
                schema=dataset.get("schema"),
                profile=dataset.get("profile"),
                tags=key_values(dataset_input.get("tags")),
            )
        )
    return RunDetail(
        info=run_info,
        params=key_values(data.get("params")),
        metrics=metrics,
        tags=key_values(data.get("tags")),
        inputs=datasets,
        model_inputs=[item["model_id"] for item in inputs.get("model_inputs") or ()],
        outputs=[
            ModelOutput(model_id=item["model_id"], step=int(item.get("step", 0) or 0))
            for item in outputs.get("model_outputs") or ()
        ],
    )
