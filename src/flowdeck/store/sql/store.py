"""SqlStore: the Store contract over MLflow's SQL schema (SQLite, PostgreSQL, MySQL/MariaDB)."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from flowdeck.core.entities import ArtifactEntry, LoggedModel, RunDetail
from flowdeck.core.errors import FlowdeckError, InvalidFilter, NotFound, StoreTimeout
from flowdeck.core.task_state import TaskState, check
from flowdeck.store import artifacts
from flowdeck.store.base import (
    CAP_ARTIFACTS,
    CAP_LOGGED_MODELS,
    CAP_REGISTRY,
    CAP_TRACES,
    CAP_WRITE,
    VIEWS,
    Store,
)
from flowdeck.store.locations import sqlite_path
from flowdeck.store.read_guard import guard_reads, os_error
from flowdeck.store.sql.engine import (
    client_uri,
    create_read_engine,
    display_name,
    driver_errors,
    sqlite_state,
    translate_error,
    translated_errors,
)
from flowdeck.store.sql.experiments import read_experiment_records
from flowdeck.store.sql.logged_models import read_logged_model, read_logged_models
from flowdeck.store.sql.registry import SqlRegistryMixin
from flowdeck.store.sql.schema import SqlSchema, read_schema, table_of
from flowdeck.store.sql.traces import SqlTracesMixin

if TYPE_CHECKING:  # numpy and pandas load with the first data, not with the sidebar
    import numpy as np
    import pandas as pd

    from flowdeck.store.mirror.identity import MirrorInfo

# Reads of a quiet WAL-mode SQLite file are repeated this often when a writer changed the
# file during the read (see ``engine.sqlite_read_uri``), then give up with a typed error.
READ_ATTEMPTS = 3


class SqlStore(SqlRegistryMixin, SqlTracesMixin, Store):
    """An MLflow tracking database read through read-only SQLAlchemy connections."""

    kind = "sql"

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self._uri = uri
        self._engine: Engine | None = None
        self._schema: SqlSchema | None = None
        self._lock = threading.Lock()
        self._problems: dict[str, str] = {}

    # --- connection -------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The read-only engine, created (and checked) on first use."""
        with self._lock:
            if self._engine is None:
                self._engine = create_read_engine(self._uri)
            return self._engine

    @property
    def schema(self) -> SqlSchema:
        """Tables, columns and alembic revision, inspected once."""
        engine = self.engine
        with self._lock:
            if self._schema is None:
                with translated_errors(self._uri):
                    self._schema = read_schema(engine, self.display_name)
            return self._schema

    @property
    def problems(self) -> list[str]:
        """What was read as missing because the database is damaged, in plain words."""
        return list(dict.fromkeys(self._problems.values()))

    def note_problem(self, where: str, text: str) -> None:
        """Record a problem once per ``where`` (a later note on the same place replaces it)."""
        self._problems[where] = text

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
            self._engine = None
            self._schema = None

    # --- identity -----------------------------------------------------------------------------

    @property
    def tracking_uri(self) -> str:
        """The URI for MLflow's own client (a plain ``postgresql://`` gets an installed driver)."""
        return client_uri(self._uri)

    @property
    def display_name(self) -> str:
        name = display_name(self._uri)
        return f"{name} (offline mirror)" if self.mirror is not None else name

    @cached_property
    def mirror(self) -> MirrorInfo | None:
        """Origin and last sync when this SQLite file is a Flowdeck mirror, else None."""
        from flowdeck.store.mirror.identity import mirror_info

        return mirror_info(sqlite_path(self._uri))

    def refresh_mirror(self) -> None:
        """Read the mirror's state again (after a sync); the read-only reason follows it."""
        self.__dict__.pop("mirror", None)
        self.__dict__.pop("read_only_reason", None)

    @property
    def capabilities(self) -> frozenset[str]:
        schema = self.schema
        found = {CAP_ARTIFACTS}
        if schema.has_table("registered_models") and _overrides(self, "registered_models"):
            found.add(CAP_REGISTRY)
        if schema.has_table("trace_info") and _overrides(self, "search_traces"):
            found.add(CAP_TRACES)
        if schema.has_table("logged_models"):
            found.add(CAP_LOGGED_MODELS)
        if self.read_only_reason is None:
            found.add(CAP_WRITE)
        return frozenset(found)

    @cached_property
    def read_only_reason(self) -> str | None:  # type: ignore[override]
        try:
            guard = importlib.import_module("flowdeck.store.schema_guard")
        except ImportError:
            return "Editing SQL stores is not available in this version of Flowdeck."
        return guard.sql_read_only_reason(self)

    # --- reads ----------------------------------------------------------------------------------

    def experiments(self, view: str = "active") -> pd.DataFrame:
        from flowdeck.store.experiment_frame import experiments_frame

        return experiments_frame(self.experiment_records(view))

    def experiment_records(self, view: str = "active") -> list[dict[str, Any]]:
        _check_view(view)
        return self._read(read_experiment_records, self.schema, view)

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
        _check_view(view)
        from flowdeck.core.like_match import RULES_BY_DIALECT, SQLITE
        from flowdeck.core.run_filter import parse_run_filter
        from flowdeck.core.runs_frame import build_runs_frame
        from flowdeck.store.sql.run_tables import load_run_tables

        parse_run_filter(filter_string)  # a bad filter fails before reading
        ids = [str(experiment_id) for experiment_id in experiment_ids]
        tables = self._read(load_run_tables, ids, view, self._sqlite_file, state, self.note_problem)
        check(state)
        rules = RULES_BY_DIALECT.get(self.engine.dialect.name, SQLITE)
        return build_runs_frame(
            tables, filter_string, order_by, max_results, rules=rules, state=state
        )

    def metric_history(
        self,
        run_ids: Iterable[str],
        keys: Iterable[str],
        *,
        state: TaskState | None = None,
    ) -> dict[tuple[str, str], np.ndarray]:
        from flowdeck.store.sql.history import read_metric_history

        run_ids, keys = list(run_ids), list(keys)  # a retried read iterates them again
        return self._read(
            read_metric_history, run_ids, keys, state, self.note_problem, self._sqlite_file
        )

    def metric_summaries(
        self,
        run_ids: Iterable[str],
        keys: Iterable[str] | None = None,
        *,
        state: TaskState | None = None,
    ) -> pd.DataFrame:
        from flowdeck.store.sql.summaries import read_metric_summaries

        run_ids, keys = list(run_ids), None if keys is None else list(keys)
        return self._read(read_metric_summaries, run_ids, keys, state, self.note_problem)

    def run(self, run_id: str) -> RunDetail:
        from flowdeck.store.sql.detail import read_run

        return self._read(read_run, self.schema, str(run_id), self.note_problem)

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
        ids = [str(experiment_id) for experiment_id in experiment_ids]
        check(state)
        models = self._read(read_logged_models, self.schema, ids)
        check(state)
        return search_logged_models(models, filter_string, order_by)

    def logged_model(self, model_id: str) -> LoggedModel:
        return self._read(read_logged_model, self.schema, str(model_id))

    def list_logged_model_artifacts(self, model_id: str, path: str = "") -> list[ArtifactEntry]:
        from flowdeck.store import logged_model_artifacts

        model = self.logged_model(model_id)
        return logged_model_artifacts.list_model_artifacts(
            model, path, base_dir=self._database_folder()
        )

    def fetch_logged_model_artifact(
        self, model_id: str, path: str, *, state: TaskState | None = None
    ) -> Path:
        from flowdeck.store import logged_model_artifacts

        model = self.logged_model(model_id)
        return logged_model_artifacts.fetch_model_artifact(
            model, path, store_key=self._uri, base_dir=self._database_folder(), state=state
        )

    # --- artifacts --------------------------------------------------------------------------------

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactEntry]:
        return artifacts.list_artifacts(
            self._artifact_uri(run_id), path, base_dir=self._database_folder()
        )

    def fetch_artifact(self, run_id: str, path: str, *, state: TaskState | None = None) -> Path:
        from flowdeck.store.artifact_fetch import run_stamp

        uri, end_time = self._artifact_place(run_id)
        return artifacts.fetch(
            uri,
            path,
            cache_key=f"{self._uri}\n{run_id}",
            stamp=run_stamp(end_time),
            base_dir=self._database_folder(),
            state=state,
        )

    def _artifact_uri(self, run_id: str) -> str | None:
        return self._artifact_place(run_id)[0]

    def _artifact_place(self, run_id: str) -> tuple[str | None, int | None]:
        """The run's artifact URI and end time (the cache stamp of remote artifacts)."""
        runs = table_of("runs", "run_uuid", "artifact_uri", "end_time")
        query = select(runs.c.artifact_uri, runs.c.end_time).where(runs.c.run_uuid == str(run_id))

        with self.connect() as connection:
            rows = connection.execute(query).all()
        if not rows:
            raise NotFound(f"Run {run_id} does not exist in this store.")
        return rows[0][0], rows[0][1]

    @property
    def _sqlite_file(self) -> Path | None:
        """The database file of a SQLite store (None for server databases)."""
        if not self._uri.startswith("sqlite:"):
            return None
        path = sqlite_path(self._uri)
        return path.resolve() if path is not None else None

    def _database_folder(self) -> Path | None:
        if not self._uri.startswith("sqlite:"):
            return None
        path = sqlite_path(self._uri)
        return path.resolve().parent if path is not None else None

    def _read(self, reader, *args):
        """Run ``reader(engine, *args)``, turning driver errors into typed, readable errors.

        A read of a quiet WAL-mode SQLite file that a writer changed meanwhile is repeated.
        """
        engine = self.engine
        for _attempt in range(READ_ATTEMPTS):
            before = self._file_state()
            with translated_errors(self._uri):
                result = reader(engine, *args)
            if _unchanged(before, self._file_state()):
                return result
        raise self._kept_changing()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A read connection whose driver errors surface as typed, readable errors."""
        engine = self.engine
        before = self._file_state()
        with translated_errors(self._uri), engine.connect() as connection:
            yield connection
        if not _unchanged(before, self._file_state()):
            raise self._kept_changing()

    def _file_state(self) -> tuple[bool, int, int, int] | None:
        path = self._sqlite_file
        return None if path is None else sqlite_state(path)

    def _kept_changing(self) -> StoreTimeout:
        return StoreTimeout(
            f"{self.display_name} was being written by another program while Flowdeck read "
            "it; try again in a moment."
        )


def _unchanged(
    before: tuple[bool, int, int, int] | None, after: tuple[bool, int, int, int] | None
) -> bool:
    """Whether a read can be trusted: a WAL file was there throughout (SQLite's own locking
    then kept the read consistent), or the database file did not change at all."""
    if before is None or after is None:
        return True
    return (before[0] and after[0]) or before == after


def _translate(store: SqlStore, error: Exception) -> FlowdeckError | None:
    """The typed error for a driver or file failure; None for anything else (a bug)."""
    if isinstance(error, driver_errors()):
        return translate_error(error, store._uri)
    if isinstance(error, OSError):
        return os_error(error, store.display_name)
    return None


def _check_view(view: str) -> None:
    if view not in VIEWS:
        raise InvalidFilter(f"Unknown run view '{view}': use one of {', '.join(VIEWS)}.")


def _overrides(store: Store, method: str) -> bool:
    """True when a mixin implements ``method`` (instead of the base class's Unsupported)."""
    return getattr(type(store), method) is not getattr(Store, method)


guard_reads(SqlStore, _translate)
