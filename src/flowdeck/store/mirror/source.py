"""What a mirror copies, read from any source store: experiments, run tables and run inputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from flowdeck.core.entities import DatasetInput, ModelOutput
from flowdeck.core.run_tables import RunTables
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import CAP_LOGGED_MODELS, Store


@dataclass(frozen=True)
class RunInputs:
    """A run's dataset inputs (complete), logged models it used and logged models it made."""

    datasets: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[str] = field(default_factory=list)
    outputs: list[ModelOutput] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.datasets or self.model_inputs or self.outputs)


@dataclass
class SourceRuns:
    """Every run of some experiments (all lifecycle stages) with their inputs."""

    tables: RunTables
    inputs: dict[str, RunInputs]


def read_experiments(store: Store) -> pd.DataFrame:
    """Every experiment, active and deleted, as ``Store.experiments`` frames them."""
    return store.experiments(view="all")


def read_runs(
    store: Store, experiment_ids: Sequence[str], state: TaskState | None = None
) -> SourceRuns:
    """The run tables of ``experiment_ids`` (active and deleted) and each run's inputs."""
    ids = [str(experiment_id) for experiment_id in experiment_ids]
    if store.kind == "rest":
        return _read_rest_runs(store, ids, state)
    if store.kind == "files":
        tables = store.load_run_tables(ids, "all", state=state)  # type: ignore[attr-defined]
    else:
        from flowdeck.store.sql.run_tables import load_run_tables

        tables = store._read(  # type: ignore[attr-defined]
            load_run_tables, ids, "all", store._sqlite_file, state, store.note_problem
        )
    wanted = set(tables.datasets["run_id"]) | _model_source_runs(store, ids, state)
    inputs: dict[str, RunInputs] = {}
    for run_id in tables.runs["run_id"]:
        if run_id in wanted:
            if state is not None:
                state.check()
            detail = store.run(run_id)
            inputs[run_id] = RunInputs(detail.inputs, detail.model_inputs, detail.outputs)
    return SourceRuns(tables, inputs)


def _model_source_runs(store: Store, ids: list[str], state: TaskState | None) -> set[str]:
    """Runs that made a logged model (their outputs name it)."""
    if CAP_LOGGED_MODELS not in store.capabilities or not ids:
        return set()
    from flowdeck.core.errors import Unsupported

    try:
        models = store.logged_models(ids, state=state)
    except Unsupported:
        return set()
    return {model.source_run_id for model in models if model.source_run_id}


def _read_rest_runs(store: Store, ids: list[str], state: TaskState | None) -> SourceRuns:
    """Runs through ``runs/search`` in pages of 1,000; inputs come with each run."""
    from flowdeck.store.rest.runs import SEARCH_MAX_RESULTS, RunTableBuilder, run_detail

    builder = RunTableBuilder()
    inputs: dict[str, RunInputs] = {}
    if ids:
        payload: dict[str, Any] = {
            "experiment_ids": ids,
            "filter": "",
            "run_view_type": "ALL",
            "max_results": SEARCH_MAX_RESULTS,
        }
        client = store.client  # type: ignore[attr-defined]
        pages = client.iter_pages(
            "POST", "runs/search", payload, "runs", is_search=True, state=state
        )
        for done, page in enumerate(pages, 1):
            builder.add(page)
            for raw in page:
                if raw.get("inputs") or raw.get("outputs"):
                    detail = run_detail({"run": raw}, "runs/search")
                    found = RunInputs(detail.inputs, detail.model_inputs, detail.outputs)
                    if not found.empty:
                        inputs[detail.info.run_id] = found
            if state is not None:
                state.progress(done, done + 1, "Listing runs…")
    return SourceRuns(builder.tables(), inputs)
