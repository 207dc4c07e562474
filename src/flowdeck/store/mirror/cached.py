"""A remote store read through its mirror: runs and histories from the local copy, the rest live."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flowdeck.core.entities import ArtifactEntry, RunDetail
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.store.mirror.identity import MirrorInfo
from flowdeck.store.mirror.sync import MirrorOptions, MirrorReport, sync_mirror

RUN_ID = re.compile(r"^[0-9a-f]{32}$")


class CachedStore(Store):
    """The remote store with a mirror in front of it.

    Experiments, runs, run details, histories and summaries of the experiments the mirror
    holds are read from the mirror (instantly, and offline); everything else, and every edit,
    goes to the remote. ``refresh()`` copies what changed lately; an edit made through
    ``writer()`` copies the runs it touched at once, so the next read shows it.
    """

    def __init__(self, remote: Store, mirror: MirrorInfo) -> None:
        super().__init__(remote.location)
        from flowdeck.store.sql import SqlStore

        self.kind = remote.kind
        self.remote = remote
        self.mirror = mirror
        self.cache = SqlStore(f"sqlite:///{mirror.path}")
        self._lock = threading.Lock()
        self._held: set[str] | None = None
        self._held_runs: set[str] | None = None

    # --- identity -----------------------------------------------------------------------------

    @property
    def display_name(self) -> str:
        return self.remote.display_name

    @property
    def capabilities(self) -> frozenset[str]:
        return self.remote.capabilities

    @property
    def read_only_reason(self) -> str | None:
        return self.remote.read_only_reason

    @property
    def tracking_uri(self) -> str:
        return self.remote.tracking_uri

    @property
    def problems(self) -> list[str]:
        return self.remote.problems + self.cache.problems

    def close(self) -> None:
        self.remote.close()
        self.cache.close()

    def cached_note(self) -> str:
        """ "Runs come from the offline copy (last synced …)" for a status bar."""
        return f"Runs of {self.display_name} come from its offline copy ({self.mirror.synced_text})"

    # --- what the mirror answers ----------------------------------------------------------------

    def held_experiments(self) -> set[str]:
        with self._lock:
            if self._held is None:
                frame = self.cache.experiments(view="all")
                self._held = set(frame["experiment_id"])
            return set(self._held)

    def _runs_held(self) -> set[str]:
        with self._lock:
            if self._held_runs is None:
                from flowdeck.store.mirror.database import closing_read

                with closing_read(self.mirror.path) as conn:
                    self._held_runs = {row[0] for row in conn.execute("SELECT run_uuid FROM runs")}
            return self._held_runs

    def _cached(self, experiment_ids: Iterable[str]) -> bool:
        ids = {str(i) for i in experiment_ids}
        return bool(ids) and ids <= self.held_experiments()

    def experiments(self, view: str = "active") -> pd.DataFrame:
        return self.cache.experiments(view)

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
        source = self.cache if self._cached(experiment_ids) else self.remote
        return source.runs(experiment_ids, filter_string, order_by, view, max_results, state=state)

    def _split(self, run_ids: Iterable[str]) -> tuple[list[str], list[str]]:
        """(runs the mirror holds, runs only the remote has)."""
        ids = list(dict.fromkeys(str(r) for r in run_ids))
        if not ids:
            return [], []
        held = self._runs_held()
        return [r for r in ids if r in held], [r for r in ids if r not in held]

    def metric_history(
        self, run_ids: Iterable[str], keys: Iterable[str], *, state: TaskState | None = None
    ) -> dict[tuple[str, str], np.ndarray]:
        keys = list(keys)
        local, remote = self._split(run_ids)
        found = self.cache.metric_history(local, keys, state=state) if local else {}
        if remote:
            found.update(self.remote.metric_history(remote, keys, state=state))
        return found

    def metric_summaries(
        self,
        run_ids: Iterable[str],
        keys: Iterable[str] | None = None,
        *,
        state: TaskState | None = None,
    ) -> pd.DataFrame:
        keys = None if keys is None else list(keys)
        local, remote = self._split(run_ids)
        frames = []
        if local:
            frames.append(self.cache.metric_summaries(local, keys, state=state))
        if remote:
            frames.append(self.remote.metric_summaries(remote, keys, state=state))
        if not frames:
            return self.cache.metric_summaries([], keys, state=state)
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def run(self, run_id: str) -> RunDetail:
        local, _ = self._split([run_id])
        return self.cache.run(run_id) if local else self.remote.run(run_id)

    # --- refreshing -----------------------------------------------------------------------------

    def refresh(self, state: TaskState | None = None) -> MirrorReport:
        """Copy the runs that changed lately (running, new or ended since the last look)."""
        report = sync_mirror(self.remote, self.mirror.path, MirrorOptions(quick=True), state)
        self._forget_held()
        return report

    def refresh_runs(self, run_ids: Sequence[str]) -> MirrorReport:
        """Copy exactly these runs (and the experiments) again, after an edit."""
        report = sync_mirror(self.remote, self.mirror.path, MirrorOptions(run_ids=tuple(run_ids)))
        self._forget_held()
        return report

    def _forget_held(self) -> None:
        with self._lock:
            self._held = None
            self._held_runs = None

    # --- everything else is the remote's --------------------------------------------------------

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactEntry]:
        return self.remote.list_artifacts(run_id, path)

    def fetch_artifact(self, run_id: str, path: str, *, state: TaskState | None = None) -> Path:
        return self.remote.fetch_artifact(run_id, path, state=state)

    def writer(self) -> Any:
        return _RefreshingWriter(self.remote.writer(), self)

    def __getattr__(self, name: str) -> Any:
        # Registry, traces, logged models and backend extras (e.g. ``client``) of the remote.
        if name.startswith("__") or name in {"remote", "cache", "mirror"}:
            raise AttributeError(name)
        return getattr(self.remote, name)


for _name in (
    "registered_models",
    "model_versions",
    "all_model_versions",
    "search_traces",
    "trace",
    "logged_models",
    "logged_model",
    "list_logged_model_artifacts",
    "fetch_logged_model_artifact",
):

    def _delegate(self: CachedStore, *args: Any, _name: str = _name, **kwargs: Any) -> Any:
        return getattr(self.remote, _name)(*args, **kwargs)

    _delegate.__name__ = _name
    setattr(CachedStore, _name, _delegate)


class _RefreshingWriter:
    """The remote's writer; after each edit the runs it named are copied into the mirror."""

    def __init__(self, writer: Any, store: CachedStore) -> None:
        self._writer = writer
        self._store = store

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._writer, name)
        if not callable(attribute) or name.startswith("_"):
            return attribute

        def edit(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            self._store.refresh_runs(sorted(_run_ids_in((*args, *kwargs.values()))))
            return result

        return edit


def _run_ids_in(values: Iterable[Any]) -> set[str]:
    """Every run id among arguments (strings, or lists and tuples of them)."""
    found: set[str] = set()
    for value in values:
        if isinstance(value, str) and RUN_ID.match(value):
            found.add(value)
        elif isinstance(value, list | tuple | set | frozenset):
            found |= _run_ids_in(value)
    return found


__all__ = ["CachedStore"]
