"""Loads a store's experiments and runs on a worker thread and reports back by signal."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field

import pandas as pd
from PySide6.QtCore import QObject, QRunnable, Signal

from flowdeck.core.errors import FlowdeckError
from flowdeck.store.base import Store

RUN_NAME_COLUMN = "tags.mlflow.runName"
PARENT_COLUMN = "tags.mlflow.parentRunId"


@dataclass(frozen=True)
class RunRow:
    """One run as listed under its experiment."""

    run_id: str
    name: str
    status: str
    parent_id: str | None = None


@dataclass(frozen=True)
class ExperimentRow:
    """One experiment with its runs (newest first)."""

    experiment_id: str
    name: str
    runs: list[RunRow] = field(default_factory=list)


@dataclass(frozen=True)
class StoreOverview:
    """Everything the minimal window shows about a store."""

    experiments: list[ExperimentRow]
    read_only_reason: str | None


class LoaderSignals(QObject):
    """Signals of ``ExperimentLoader`` (a QRunnable cannot carry signals itself)."""

    loaded = Signal(object)  # StoreOverview
    failed = Signal(str, str)  # user message, technical detail


def load_overview(store: Store) -> StoreOverview:
    """Read the active experiments and their active runs (blocking; call off the GUI thread)."""
    experiments = store.experiments(view="active")
    ids = [str(i) for i in experiments["experiment_id"]]
    runs = store.runs(ids) if ids else pd.DataFrame()
    runs_by_experiment: dict[str, list[RunRow]] = {i: [] for i in ids}
    if not runs.empty:
        names = runs[RUN_NAME_COLUMN] if RUN_NAME_COLUMN in runs else runs["run_id"]
        parents = runs[PARENT_COLUMN] if PARENT_COLUMN in runs else [None] * len(runs)
        for run_id, experiment_id, status, name, parent in zip(
            runs["run_id"], runs["experiment_id"], runs["status"], names, parents, strict=True
        ):
            runs_by_experiment.setdefault(str(experiment_id), []).append(
                RunRow(str(run_id), _text(name), str(status), _text(parent) or None)
            )
    rows = [
        ExperimentRow(str(i), str(n), runs_by_experiment.get(str(i), []))
        for i, n in zip(experiments["experiment_id"], experiments["name"], strict=True)
    ]
    return StoreOverview(rows, store.read_only_reason)


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value)


class ExperimentLoader(QRunnable):
    """Runs ``load_overview`` on a thread pool and emits ``loaded`` or ``failed``."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.signals = LoaderSignals()

    def run(self) -> None:
        try:
            overview = load_overview(self.store)
        except FlowdeckError as error:
            self.signals.failed.emit(error.message, error.detail or "")
        except Exception as error:  # a bug: report it in the window, keep the app alive
            self.signals.failed.emit(
                f"Unexpected error while reading the store: {error}", traceback.format_exc()
            )
        else:
            self.signals.loaded.emit(overview)
