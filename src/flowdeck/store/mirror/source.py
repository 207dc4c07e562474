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

# Runs per search answer: a server takes tens of seconds to answer 10,000 runs at once, longer
# than a request may take; pages of 1,000 each arrive well within it.
LISTING_PAGE = 1_000


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
    store: Store,
    experiment_ids: Sequence[str],
    state: TaskState | None = None,
    *,
    since: int | None = None,
    run_ids: Sequence[str] | None = None,
) -> SourceRuns:
    """The run tables of ``experiment_ids`` (active and deleted) and each run's inputs.

    ``since`` (ms) keeps the runs that may have changed since then: running, started or ended
    at or after it. ``run_ids`` keeps just those runs. A server is asked only for those.
    """
    ids = [str(experiment_id) for experiment_id in experiment_ids]
    if store.kind == "rest":
        return _read_rest_runs(store, ids, state, _rest_filters(since, run_ids))
    if store.kind == "files":
        tables = store.load_run_tables(ids, "all", state=state)  # type: ignore[attr-defined]
    else:
        from flowdeck.store.sql.run_tables import load_run_tables

        tables = store._read(  # type: ignore[attr-defined]
            load_run_tables, ids, "all", store._sqlite_file, state, store.note_problem
        )
    tables = _keep_runs(tables, since, run_ids)
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


def _keep_runs(tables: RunTables, since: int | None, run_ids: Sequence[str] | None) -> RunTables:
    """The tables of the runs ``read_runs`` keeps for ``since`` / ``run_ids`` (all without)."""
    runs = tables.runs
    if run_ids is not None:
        keep = runs["run_id"].isin(set(run_ids))
    elif since is not None:
        keep = (
            (runs["status"] == "RUNNING")
            | (runs["start_time"].fillna(-1) >= since)
            | (runs["end_time"].fillna(-1) >= since)
        )
    else:
        return tables
    kept = set(runs.loc[keep.astype(bool), "run_id"])
    return RunTables(
        runs=runs[runs["run_id"].isin(kept)].reset_index(drop=True),
        metrics=tables.metrics[tables.metrics["run_id"].isin(kept)],
        params=tables.params[tables.params["run_id"].isin(kept)],
        tags=tables.tags[tables.tags["run_id"].isin(kept)],
        datasets=tables.datasets[tables.datasets["run_id"].isin(kept)],
    )


def _rest_filters(since: int | None, run_ids: Sequence[str] | None) -> list[str]:
    """The search filters whose union is what ``read_runs`` keeps ("" is every run)."""
    if run_ids is not None:
        ids = list(dict.fromkeys(run_ids))
        return [
            "attributes.run_id IN ({})".format(
                ", ".join(f"'{run_id}'" for run_id in ids[start : start + 100])
            )
            for start in range(0, len(ids), 100)
        ]
    if since is not None:
        return [
            "attributes.status = 'RUNNING'",
            f"attributes.start_time >= {since}",
            f"attributes.end_time >= {since}",
        ]
    return [""]


def _read_rest_runs(
    store: Store, ids: list[str], state: TaskState | None, filters: list[str]
) -> SourceRuns:
    """Runs through ``runs/search`` in pages of ``LISTING_PAGE`` (one search per filter, the
    union kept once each); inputs come with each run."""
    from flowdeck.store.rest.run_pages import search_pages, unseen_runs
    from flowdeck.store.rest.runs import RunTableBuilder, run_detail

    builder = RunTableBuilder()
    inputs: dict[str, RunInputs] = {}
    seen: set[str] = set()
    client = store.client  # type: ignore[attr-defined]
    for filter_string in filters if ids else []:
        payload: dict[str, Any] = {
            "experiment_ids": ids,
            "filter": filter_string,
            "run_view_type": "ALL",
            "max_results": LISTING_PAGE,
        }
        pages = unseen_runs(search_pages(client, payload, state), seen)
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
