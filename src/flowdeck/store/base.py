"""The store contract: one documented base class that every backend implements."""

from __future__ import annotations

import contextlib
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowdeck.core.entities import (
    ArtifactEntry,
    Experiment,
    LoggedModel,
    ModelVersion,
    Page,
    RegisteredModel,
    RunDetail,
    Trace,
    TraceInfo,
)
from flowdeck.core.errors import ReadOnlyStore, Unsupported

if TYPE_CHECKING:  # numpy and pandas load with the first data, not with the window
    import numpy as np
    import pandas as pd

    from flowdeck.core.task_state import TaskState
    from flowdeck.store.writer import StoreWriter

VIEWS = ("active", "deleted", "all")


def __getattr__(name: str) -> Any:
    """``HISTORY_DTYPE``: the structured dtype of every ``metric_history()`` array (step int64,
    timestamp int64 ms, value float64), made when first asked for so numpy loads on first use."""
    if name == "HISTORY_DTYPE":
        import numpy as np

        dtype = np.dtype([("step", np.int64), ("timestamp", np.int64), ("value", np.float64)])
        globals()["HISTORY_DTYPE"] = dtype
        return dtype
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Columns of metric_summaries(): one row per (run_id, key).
SUMMARY_COLUMNS = ["run_id", "key", "last", "min", "max", "min_step", "max_step", "count"]

# Columns of experiments(): one row per experiment; ``tags`` holds a dict.
EXPERIMENT_COLUMNS = [
    "experiment_id",
    "name",
    "artifact_location",
    "lifecycle_stage",
    "creation_time",
    "last_update_time",
    "tags",
]

# Capability names advertised in ``Store.capabilities``.
CAP_WRITE = "write"
CAP_REGISTRY = "registry"
CAP_TRACES = "traces"
CAP_LOGGED_MODELS = "logged_models"
CAP_ARTIFACTS = "artifacts"

# Page size of the registry listings that default implementations walk through.
REGISTRY_PAGE_SIZE = 1000


class Store(ABC):
    """A read interface over one MLflow tracking store, plus a guarded writer.

    Connecting is lazy: the first call that needs the backend connects and raises a
    ``FlowdeckError`` subclass with a user-readable message if it cannot. Reads never modify
    the store and never take write locks.
    """

    #: "sql", "files" or "rest"
    kind: str = ""

    def __init__(self, location: str) -> None:
        self.location = location

    # --- identity and capabilities -------------------------------------------------------

    @property
    def display_name(self) -> str:
        """A short label for the store (path or host), never holding a secret."""
        from flowdeck.core.redact import redact_location

        return redact_location(self.location)

    @property
    def capabilities(self) -> frozenset[str]:
        """Which optional features this store offers (``CAP_*`` names)."""
        return frozenset({CAP_ARTIFACTS})

    @property
    def read_only_reason(self) -> str | None:
        """Why the store cannot be edited, in plain words; None when it is writable."""
        return "This kind of store is read-only in Flowdeck."

    @property
    def tracking_uri(self) -> str:
        """The URI MLflow's own client would use for this store."""
        return self.location

    @property
    def problems(self) -> list[str]:
        """Plain-language notes on what was skipped while reading (a broken run, a bad line)."""
        return []

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections and thread pools."""

    # --- experiments and runs (fixed by DESIGN.md §2) -------------------------------------

    @abstractmethod
    def experiments(self, view: str = "active") -> pd.DataFrame:
        """Experiments as a frame with ``EXPERIMENT_COLUMNS``, ordered by experiment id."""

    def experiment_records(self, view: str = "active") -> list[dict[str, Any]]:
        """The same experiments as plain dicts (for callers that must not wait for pandas)."""
        frame = self.experiments(view)
        return [
            {name: (None if _missing(value) else value) for name, value in row.items()}
            for row in frame.to_dict("records")
        ]

    def experiment(self, experiment_id: str) -> Experiment:
        """One experiment, active or deleted; raises ``NotFound``."""
        from flowdeck.core.errors import NotFound

        frame = self.experiments(view="all")
        rows = frame[frame["experiment_id"] == str(experiment_id)]
        if rows.empty:
            raise NotFound(f"Experiment {experiment_id} does not exist.")
        row = rows.iloc[0]
        return Experiment(
            experiment_id=row["experiment_id"],
            name=row["name"],
            artifact_location=row["artifact_location"],
            lifecycle_stage=row["lifecycle_stage"],
            creation_time=_int_or_none(row["creation_time"]),
            last_update_time=_int_or_none(row["last_update_time"]),
            tags=dict(row["tags"] or {}),
        )

    @abstractmethod
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
        """The same rows, order and columns as ``mlflow.search_runs()`` on this store.

        ``state`` is checked between chunks; raises Cancelled. Progress counts runs, queries
        or pages read.
        """

    @abstractmethod
    def metric_history(
        self,
        run_ids: Iterable[str],
        keys: Iterable[str],
        *,
        state: TaskState | None = None,
    ) -> dict[tuple[str, str], np.ndarray]:
        """Full histories as ``HISTORY_DTYPE`` arrays sorted by step then timestamp.

        Pairs with no points are present with an empty array. ``state`` is checked between
        chunks; raises Cancelled.
        """

    def sampled_history(
        self,
        run_ids: Sequence[str],
        keys: Sequence[str],
        *,
        state: TaskState | None = None,
    ) -> dict[tuple[str, str], np.ndarray] | None:
        """A quick sample of each history for a first picture while ``metric_history`` loads
        every point, or None when the store reads full histories fast anyway (local stores)."""
        return None

    @abstractmethod
    def run(self, run_id: str) -> RunDetail:
        """Params, latest metrics, tags, dataset inputs and model outputs of one run."""

    @abstractmethod
    def metric_summaries(
        self,
        run_ids: Iterable[str],
        keys: Iterable[str] | None = None,
        *,
        state: TaskState | None = None,
    ) -> pd.DataFrame:
        """Per (run, key): last, min, max, step of min and max, count (``SUMMARY_COLUMNS``).

        ``last`` follows MLflow's latest rule; min/max ignore NaN; the step of the first
        occurrence (lowest step) wins ties. ``state`` is checked between chunks; raises
        Cancelled.
        """

    # --- artifacts ----------------------------------------------------------------------------

    @abstractmethod
    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactEntry]:
        """The direct children of ``path`` in the run's artifact tree (paths relative to root)."""

    @abstractmethod
    def fetch_artifact(self, run_id: str, path: str, *, state: TaskState | None = None) -> Path:
        """A local file or folder with the artifact's content.

        Local artifacts are returned in place (never modified); remote ones are downloaded
        into Flowdeck's cache folder and nowhere else, reused until the run changes (see
        ``flowdeck.store.artifact_fetch``). ``state`` gets progress and is checked between
        files and chunks; raises ``Cancelled``.
        """

    # --- registry -----------------------------------------------------------------------------

    def registered_models(
        self, filter_string: str = "", page_token: str | None = None, max_results: int = 1000
    ) -> Page[RegisteredModel]:
        """Registered models (prompts included; see ``RegisteredModel.is_prompt``)."""
        raise Unsupported("This store has no model registry.")

    def model_versions(self, name: str) -> list[ModelVersion]:
        """Every live version of one model, newest first, with tags and aliases."""
        raise Unsupported("This store has no model registry.")

    def all_model_versions(
        self, *, state: TaskState | None = None
    ) -> dict[str, list[ModelVersion]]:
        """Every registered model's (prompts included) live versions, keyed by model name.

        Each list equals ``model_versions(name)``: newest first, with tags and aliases; a model
        with no live version maps to ``[]``. This default reads model by model; backends
        override it with a few bulk reads. ``state`` gets progress (models read) and is checked
        between models; raises Cancelled.
        """
        from flowdeck.core.errors import NotFound
        from flowdeck.store.progress import Progress

        names: list[str] = []
        token: str | None = None
        while True:
            if state is not None:
                state.check()
            page = self.registered_models("", token, REGISTRY_PAGE_SIZE)
            names.extend(model.name for model in page.items)
            token = page.next_token
            if not token or not page.items:
                break
        progress = Progress(state, len(names), "Reading model versions")
        found: dict[str, list[ModelVersion]] = {}
        for name in names:
            progress.check()
            with contextlib.suppress(NotFound):  # deleted since the listing
                found[name] = self.model_versions(name)
            progress.advance()
        return found

    # --- traces ---------------------------------------------------------------------------------

    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
        *,
        state: TaskState | None = None,
    ) -> Page[TraceInfo]:
        """Trace infos matching MLflow's trace filter grammar.

        ``state`` is checked between chunks; raises Cancelled.
        """
        raise Unsupported("This store has no traces.")

    def trace(self, trace_id: str) -> Trace:
        """One trace with all its spans and assessments."""
        raise Unsupported("This store has no traces.")

    # --- logged models --------------------------------------------------------------------------

    def logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] = (),
        *,
        state: TaskState | None = None,
    ) -> list[LoggedModel]:
        """Active logged models (MLflow 3) of the experiments, as
        ``MlflowClient.search_logged_models`` finds and orders them (all pages).

        ``filter_string`` is MLflow's logged-model grammar (attributes, ``metrics.<k>``,
        ``params.<k>``, ``tags.<k>``); ``order_by`` items are ``"field [ASC|DESC]"`` strings
        (an attribute or ``metrics.<k>``) or MLflow's ``{"field_name", "ascending",
        "dataset_name", "dataset_digest"}`` dicts. Bad ones raise ``InvalidFilter``. Each model
        carries its params, tags and metrics (``LoggedModelMetric``, with dataset and run).
        ``state`` is checked between chunks or pages; raises Cancelled.
        """
        raise Unsupported("This store has no logged models.")

    def logged_model(self, model_id: str) -> LoggedModel:
        """One active logged model with its params, tags and metrics; raises ``NotFound``."""
        raise Unsupported("This store has no logged models.")

    def list_logged_model_artifacts(self, model_id: str, path: str = "") -> list[ArtifactEntry]:
        """The direct children of ``path`` in a logged model's artifacts (paths relative to
        the model's artifact root), folders first."""
        raise Unsupported("This store has no logged models.")

    def fetch_logged_model_artifact(
        self, model_id: str, path: str, *, state: TaskState | None = None
    ) -> Path:
        """A local file or folder with a logged model's artifact (``path`` "" for all of
        them): local artifacts in place, remote ones downloaded into Flowdeck's cache as
        ``fetch_artifact`` does (see ``flowdeck.store.logged_model_artifacts``)."""
        raise Unsupported("This store has no logged models.")

    # --- writes ------------------------------------------------------------------------------------

    def writer(self) -> StoreWriter:
        """The guarded writer; raises ``ReadOnlyStore`` with the reason when not writable."""
        reason = self.read_only_reason
        if reason:
            raise ReadOnlyStore(reason)
        from flowdeck.store.writer import StoreWriter

        return StoreWriter(self)


def _missing(value: object) -> bool:
    """Whether ``value`` is a frame's missing marker (None, NaN or ``pandas.NA``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return type(value).__name__ == "NAType"


def _int_or_none(value: object) -> int | None:
    return None if _missing(value) else int(value)  # type: ignore[arg-type]
