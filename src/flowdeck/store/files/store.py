"""FileStore: Flowdeck's own fast reader of MLflow's mlruns/ folder format."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from flowdeck.core.entities import ArtifactEntry, LoggedModel, Metric, RunDetail, RunInfo
from flowdeck.core.errors import (
    CorruptStore,
    FlowdeckError,
    InvalidFilter,
    NotFound,
    StoreNotFound,
)
from flowdeck.core.task_state import TaskState, check
from flowdeck.store.base import (
    CAP_ARTIFACTS,
    CAP_LOGGED_MODELS,
    CAP_REGISTRY,
    CAP_TRACES,
    SUMMARY_COLUMNS,
    VIEWS,
    Store,
)
from flowdeck.store.files import details
from flowdeck.store.files.cache import RunCache
from flowdeck.store.files.experiments import (
    REGISTRY_FOLDER,
    TRASH,
    ExperimentFolder,
    experiment_records,
    scan_experiments,
)
from flowdeck.store.files.fsread import parallel_map
from flowdeck.store.files.meta import MetaError
from flowdeck.store.files.registry import FileRegistryMixin
from flowdeck.store.files.traces import FileTracesMixin
from flowdeck.store.progress import Progress
from flowdeck.store.read_guard import guard_reads, os_error

if TYPE_CHECKING:  # numpy, pandas and the run readers load with the first runs, not the sidebar
    import numpy as np
    import pandas as pd

    from flowdeck.store.files.runs import RunRecord

READ_ONLY_TEXT = "Folder stores are read-only in Flowdeck for now."
RUNS_PROGRESS_TEXT = "Reading runs…"


def folder_of(location: str) -> Path:
    """The folder behind a path or ``file://`` URI."""
    if location.startswith("file:"):
        return Path(unquote(urlparse(location).path))
    return Path(location).expanduser()


class FileStore(FileRegistryMixin, FileTracesMixin, Store):
    """Reads an mlruns/ folder directly: parallel small-file reads, an mtime cache per run."""

    kind = "files"

    def __init__(self, location: str, *, workers: int | None = None) -> None:
        super().__init__(location)
        self.root = folder_of(location).resolve()
        self.workers = workers if workers is not None else min(4, os.cpu_count() or 1)
        self._checked = False
        self._cache = RunCache()
        self._run_folders: dict[str, tuple[str, str]] = {}  # run_id -> (experiment_id, folder)
        self._experiment_problems: list[str] = []
        self._other_problems: dict[str, str] = {}
        self._records_in_view: dict[str, list[RunRecord]] = {}  # experiment_id -> last records
        self._tables_cache: dict[tuple[tuple[str, ...], str], tuple[list[RunRecord], Any]] = {}

    # --- identity ------------------------------------------------------------------------------

    @property
    def display_name(self) -> str:
        return str(self.root)

    @property
    def tracking_uri(self) -> str:
        return self.root.as_uri()

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset({CAP_ARTIFACTS, CAP_REGISTRY, CAP_LOGGED_MODELS, CAP_TRACES})

    @property
    def read_only_reason(self) -> str | None:
        try:
            from flowdeck.store import schema_guard
        except ImportError:
            return READ_ONLY_TEXT
        guard = getattr(schema_guard, "file_read_only_reason", None)
        return READ_ONLY_TEXT if guard is None else guard(self)

    @property
    def problems(self) -> list[str]:
        """What could not be read, in plain words (damaged files are skipped, not fatal)."""
        seen: dict[str, None] = dict.fromkeys(self._experiment_problems)
        for records in self._records_in_view.values():
            for record in records:
                seen.update(dict.fromkeys(record.problems))
        seen.update(dict.fromkeys(self._other_problems.values()))
        return list(seen)

    def note_problem(self, where: str, text: str) -> None:
        self._other_problems[where] = text

    def close(self) -> None:
        self._cache.clear()
        self._tables_cache.clear()

    # --- experiments ---------------------------------------------------------------------------

    def check_root(self) -> None:
        """Raise ``StoreNotFound`` unless the folder looks like an mlruns/ store."""
        if self._checked:
            return
        root = self.root
        if not root.is_dir():
            raise StoreNotFound(f"There is no folder at {root}.")
        looks_like_store = (root / TRASH).is_dir() or (root / REGISTRY_FOLDER).is_dir()
        if not looks_like_store:
            with os.scandir(root) as entries:
                looks_like_store = any(
                    e.is_dir() and os.path.isfile(os.path.join(e.path, "meta.yaml"))
                    for e in entries
                )
        if not looks_like_store:
            raise StoreNotFound(
                f"{root} is not an MLflow store: it has no experiment folders with a meta.yaml."
            )
        self._checked = True

    def experiment_folders(self) -> list[ExperimentFolder]:
        self.check_root()
        problems: list[str] = []
        folders = scan_experiments(str(self.root), problems)
        self._experiment_problems = problems
        return folders

    def experiment_folder(self, experiment_id: str) -> ExperimentFolder:
        for folder in self.experiment_folders():
            if folder.experiment_id == str(experiment_id):
                return folder
        raise NotFound(f"Experiment {experiment_id} does not exist.")

    def experiments(self, view: str = "active") -> pd.DataFrame:
        from flowdeck.store.experiment_frame import experiments_frame

        return experiments_frame(self.experiment_records(view))

    def experiment_records(self, view: str = "active") -> list[dict[str, Any]]:
        _check_view(view)
        return experiment_records(self.experiment_folders(), view)

    # --- runs ----------------------------------------------------------------------------------

    def runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] = (),
        view: str = "active",
        max_results: int | None = None,
        *,
        state: TaskState | None = None,
    ) -> pd.DataFrame:
        from flowdeck.core.like_match import FILES
        from flowdeck.core.run_filter import parse_run_filter
        from flowdeck.core.runs_frame import build_runs_frame

        parse_run_filter(filter_string)  # a bad filter fails before reading
        tables = self.load_run_tables(experiment_ids, view, state=state)
        check(state)
        return build_runs_frame(
            tables, filter_string, order_by, max_results, rules=FILES, state=state
        )

    def load_run_tables(
        self, experiment_ids: Sequence[str], view: str = "active", *, state: TaskState | None = None
    ):
        """RunTables of the experiments (unknown ids contribute nothing, as in MLflow).

        ``state`` is checked between groups of run folders; progress counts the runs read.
        """
        _check_view(view)
        check(state)
        wanted = [str(i) for i in experiment_ids]
        by_id = {e.experiment_id: e for e in self.experiment_folders()}
        listed = [
            (by_id[experiment_id], _run_folders(by_id[experiment_id]))
            for experiment_id in dict.fromkeys(wanted)
            if experiment_id in by_id
        ]
        progress = Progress(state, sum(len(folders) for _, folders in listed), RUNS_PROGRESS_TEXT)
        records: list[RunRecord] = []
        for experiment, run_folders in listed:
            records.extend(self._experiment_records(experiment, run_folders, progress))
        previous = self._tables_cache.get((tuple(wanted), view))
        if (
            previous is not None
            and len(previous[0]) == len(records)
            and all(a is b for a, b in zip(previous[0], records, strict=True))
        ):
            return previous[1]  # nothing changed on disk since the last read
        from flowdeck.store.files.runs import build_run_tables

        tables = build_run_tables(records, view)
        self._tables_cache[(tuple(wanted), view)] = (records, tables)
        return tables

    def _experiment_records(
        self, experiment: ExperimentFolder, run_folders: list[str], progress: Progress
    ) -> list[RunRecord]:
        from flowdeck.store.files.runs import finish_records, read_raw_run

        state = progress.state
        cached = parallel_map(self._cache.get_fresh, run_folders, self.workers, state)
        stale = [f for f, record in zip(run_folders, cached, strict=True) if record is None]
        if len(stale) < len(run_folders):
            progress.advance(len(run_folders) - len(stale))
        started = time.time_ns()
        raws = parallel_map(
            lambda folder: read_raw_run(folder, experiment.experiment_id),
            stale,
            self.workers,
            state,
            progress.advance,
        )
        needs_datasets = any(raw.input_metas for raw in raws)
        lookup = details.dataset_lookup(experiment) if needs_datasets else {}
        fresh = dict(zip(stale, finish_records(raws, lookup), strict=True))
        progress.check()
        records = []
        for folder, record in zip(run_folders, cached, strict=True):
            if record is None:
                record = fresh[folder]
                self._cache.put(folder, record, started)
            records.append(record)
            if record.info is not None:
                self._run_folders[record.info["run_id"]] = (experiment.experiment_id, folder)
        self._cache.forget_missing(set(run_folders), experiment.folder)
        self._records_in_view[experiment.experiment_id] = records
        return records

    def locate_run(self, run_id: str) -> tuple[str, str]:
        """(experiment_id, run folder) of a run, active or deleted; raises ``NotFound``."""
        run_id = str(run_id)
        known = self._run_folders.get(run_id)
        if known and os.path.isfile(os.path.join(known[1], "meta.yaml")):
            return known
        if "/" in run_id or "\\" in run_id or run_id in ("", ".", ".."):
            raise NotFound(f"Run '{run_id}' does not exist.")
        for experiment in self.experiment_folders():
            folder = os.path.join(experiment.folder, run_id)
            if os.path.isfile(os.path.join(folder, "meta.yaml")):
                self._run_folders[run_id] = (experiment.experiment_id, folder)
                return experiment.experiment_id, folder
        raise NotFound(f"Run '{run_id}' does not exist.")

    def _record(self, run_id: str) -> RunRecord:
        from flowdeck.store.files.runs import finish_records, read_raw_run

        experiment_id, folder = self.locate_run(run_id)
        record = self._cache.get_fresh(folder)
        if record is None:
            started = time.time_ns()
            raw = read_raw_run(folder, experiment_id)
            lookup = (
                details.dataset_lookup(self.experiment_folder(experiment_id))
                if raw.input_metas
                else {}
            )
            record = finish_records([raw], lookup)[0]
            self._cache.put(folder, record, started)
        if record.info is None:  # its meta.yaml is there (locate_run) but damaged
            raise CorruptStore(" ".join(record.problems) or f"Run '{run_id}' cannot be read.")
        return record

    # --- run detail and metrics ------------------------------------------------------------------

    def run(self, run_id: str) -> RunDetail:
        record = self._record(run_id)
        experiment_id, folder = self.locate_run(run_id)
        info = record.info or {}
        metrics = {
            key: Metric(key=key, value=value, timestamp=stamp, step=step)
            for key, (value, step, stamp) in sorted(record.metrics.items())
        }
        inputs, model_inputs = details.run_inputs(folder, self.experiment_folder(experiment_id))
        return RunDetail(
            info=RunInfo(
                run_id=info["run_id"],
                experiment_id=info["experiment_id"],
                run_name=info["run_name"],
                status=info["status"],
                start_time=info["start_time"],
                end_time=info["end_time"],
                lifecycle_stage=info["lifecycle_stage"],
                artifact_uri=info["artifact_uri"],
                user_id=info["user_id"],
            ),
            params=dict(sorted(record.params.items())),
            metrics=metrics,
            tags=dict(sorted(record.tags.items())),
            inputs=inputs,
            model_inputs=model_inputs,
            outputs=details.run_outputs(folder),
        )

    def metric_history(
        self,
        run_ids: Iterable[str],
        keys: Iterable[str],
        *,
        state: TaskState | None = None,
    ) -> dict[tuple[str, str], np.ndarray]:
        from flowdeck.store.files.history import read_histories

        check(state)
        pairs = [(str(r), str(k)) for r in run_ids for k in keys]
        folders = {
            run_id: self.locate_run(run_id)[1] for run_id in dict.fromkeys(r for r, _ in pairs)
        }
        histories, bad = read_histories(
            [(run_id, key, folders[run_id]) for run_id, key in pairs], self.workers, state
        )
        for (run_id, key), count in bad.items():
            self.note_problem(
                f"history:{run_id}:{key}",
                f"Run {run_id[:8]}…: metric '{key}' has {count} unreadable line(s); ignored.",
            )
        return histories

    def metric_summaries(
        self,
        run_ids: Iterable[str],
        keys: Iterable[str] | None = None,
        *,
        state: TaskState | None = None,
    ) -> pd.DataFrame:
        from flowdeck.store.files.history import read_histories, summaries_from_histories

        run_ids = [str(r) for r in run_ids]
        pairs: list[tuple[str, str]] = []
        check(state)
        for run_id in run_ids:
            if keys is None:
                check(state)
                pairs.extend((run_id, key) for key in sorted(self._record(run_id).metrics))
            else:
                pairs.extend((run_id, str(key)) for key in keys)
        folders = {run_id: self.locate_run(run_id)[1] for run_id in run_ids}
        histories, _bad = read_histories(
            [(run_id, key, folders[run_id]) for run_id, key in pairs], self.workers, state
        )
        frame = summaries_from_histories(histories, state)
        return frame[SUMMARY_COLUMNS]

    # --- artifacts and logged models -----------------------------------------------------------

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactEntry]:
        from flowdeck.store import artifacts

        experiment_id, folder = self.locate_run(run_id)
        uri = self._record(run_id).info["artifact_uri"]  # type: ignore[index]
        return artifacts.list_artifacts(_artifact_root(uri, folder), path)

    def fetch_artifact(self, run_id: str, path: str, *, state: TaskState | None = None) -> Path:
        from flowdeck.store import artifacts
        from flowdeck.store.artifact_fetch import run_stamp

        experiment_id, folder = self.locate_run(run_id)
        info = self._record(run_id).info or {}
        return artifacts.fetch(
            _artifact_root(info.get("artifact_uri"), folder),
            path,
            cache_key=f"{self.tracking_uri}#{run_id}",
            stamp=run_stamp(info.get("end_time")),
            state=state,
        )

    def logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] = (),
        *,
        state: TaskState | None = None,
    ) -> list[LoggedModel]:
        from flowdeck.core.logged_model_filter import search_logged_models

        search_logged_models((), filter_string, order_by)  # a bad filter fails before reading
        wanted = {str(i) for i in experiment_ids}
        models = []
        for experiment in self.experiment_folders():
            if experiment.experiment_id in wanted:
                check(state)
                models.extend(details.logged_models(experiment, self.note_problem))
        return search_logged_models(models, filter_string, order_by, first_metric=True)

    def logged_model(self, model_id: str) -> LoggedModel:
        return self._locate_model(model_id)[0]

    def list_logged_model_artifacts(self, model_id: str, path: str = "") -> list[ArtifactEntry]:
        from flowdeck.store import logged_model_artifacts

        model, folder = self._locate_model(model_id)
        return logged_model_artifacts.list_model_artifacts(
            model, path, moved_folder=os.path.join(folder, "artifacts")
        )

    def fetch_logged_model_artifact(
        self, model_id: str, path: str, *, state: TaskState | None = None
    ) -> Path:
        from flowdeck.store import logged_model_artifacts

        model, folder = self._locate_model(model_id)
        return logged_model_artifacts.fetch_model_artifact(
            model,
            path,
            store_key=self.tracking_uri,
            moved_folder=os.path.join(folder, "artifacts"),
            state=state,
        )

    def _locate_model(self, model_id: str) -> tuple[LoggedModel, str]:
        """An active logged model and its folder; raises ``NotFound``."""
        model_id = str(model_id)
        if (
            model_id
            and "/" not in model_id
            and "\\" not in model_id
            and model_id not in (".", "..")
        ):
            for experiment in self.experiment_folders():
                folder = os.path.join(experiment.folder, "models", model_id)
                if not os.path.isfile(os.path.join(folder, "meta.yaml")):
                    continue
                model = details.logged_model(folder, experiment, self.note_problem)
                if model is not None and model.lifecycle_stage != "deleted":
                    return model, folder
        raise NotFound(f"There is no logged model with ID {model_id}.")


def _artifact_root(uri: str | None, run_folder: str) -> str | None:
    """The run's artifact root; a moved store's stale absolute path falls back to run/artifacts."""
    from flowdeck.store import artifacts

    local = artifacts.local_root(uri)
    if local is not None and not local.exists():
        moved = os.path.join(run_folder, "artifacts")
        if os.path.isdir(moved):
            return moved
    return uri


def _run_folders(experiment: ExperimentFolder) -> list[str]:
    from flowdeck.store.files.runs import RESERVED_EXPERIMENT_FOLDERS

    return [
        entry.path
        for entry in os.scandir(experiment.folder)
        if entry.name not in RESERVED_EXPERIMENT_FOLDERS and entry.is_dir()
    ]


def _check_view(view: str) -> None:
    if view not in VIEWS:
        raise InvalidFilter(f"Unknown run view '{view}': use one of {', '.join(VIEWS)}.")


def _translate(store: FileStore, error: Exception) -> FlowdeckError | None:
    """The typed error for an unreadable or damaged file; None for anything else (a bug)."""
    import yaml

    if isinstance(error, OSError):
        return os_error(error, store.display_name)
    if isinstance(error, MetaError | yaml.YAMLError | json.JSONDecodeError | UnicodeDecodeError):
        return CorruptStore(
            f"A file in {store.display_name} is damaged: {error}.", detail=str(error)
        )
    return None


guard_reads(FileStore, _translate)
