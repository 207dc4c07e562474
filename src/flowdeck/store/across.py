"""A read-only view over several open stores: their runs in one frame, keyed ``<n>:<id>``.

Experiment and run ids of this view are keys (``flowdeck.core.across_stores.key_of``): the
store's number (1-based, in the window's order) and the id in that store. Each call is passed
to the stores it names; a store that fails (a filter it rejects) is left out and noted in
``failures``, unless every store fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from flowdeck.core.across_stores import (
    StoreFailure,
    StorePart,
    by_store,
    combine_runs,
    failures_text,
    key_of,
    keyed_column,
    keyed_histories,
    split_key,
    unique_labels,
)
from flowdeck.core.entities import ArtifactEntry, RunDetail
from flowdeck.core.errors import Cancelled, FlowdeckError, InvalidFilter, NotFound
from flowdeck.core.redact import redact_location
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store

KIND = "across"


class AcrossStores(Store):
    """Stores numbered 1, 2, …; reads combine their answers, writes are not offered."""

    kind = KIND

    def __init__(self, stores: dict[int, Store]) -> None:
        self.stores = dict(sorted(stores.items()))
        locations = "|".join(redact_location(s.location) for s in self.stores.values())
        super().__init__(f"{KIND}:{locations}")
        self.labels = dict(
            zip(
                self.stores,
                unique_labels([s.display_name for s in self.stores.values()]),
                strict=True,
            )
        )
        self.failures: list[StoreFailure] = []  # of the last ``runs`` call

    @property
    def display_name(self) -> str:
        return f"{len(self.stores)} stores"

    @property
    def read_only_reason(self) -> str | None:
        return "Runs of several stores are edited in their own store's pages."

    def store_of(self, key: str) -> tuple[Store, str]:
        """The store a key names and the id in it; ``NotFound`` for a store not in the view."""
        number, item_id = split_key(key)
        if number not in self.stores:
            raise NotFound(f"Store {number} is not part of this view.")
        return self.stores[number], item_id

    # --- combined reads ----------------------------------------------------------------------

    def experiments(self, view: str = "active") -> pd.DataFrame:
        frames = []
        for number, store in self.stores.items():
            frame = keyed_column(number, store.experiments(view=view), "experiment_id")
            frame["store"] = self.labels[number]
            frames.append(frame)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

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
        parts: list[StorePart] = []
        failures: list[StoreFailure] = []
        errors: list[FlowdeckError] = []
        for number, ids in by_store(experiment_ids).items():
            store, label = self.stores.get(number), self.labels.get(number, str(number))
            if store is None:
                failures.append(StoreFailure(label, f"store {number} is not open."))
                continue
            try:
                frame = store.runs(ids, filter_string, order_by, view, max_results, state=state)
            except Cancelled:
                raise
            except FlowdeckError as error:
                failures.append(StoreFailure(label, error.message))
                errors.append(error)
                continue
            parts.append(StorePart(number, label, frame))
        self.failures = failures
        if not parts and failures:
            text = failures_text(failures)
            if errors and all(isinstance(e, InvalidFilter) for e in errors):
                raise InvalidFilter(text)
            raise FlowdeckError(text)
        return combine_runs(parts)

    def metric_history(
        self,
        run_ids: Iterable[str],
        keys: Iterable[str],
        *,
        state: TaskState | None = None,
    ) -> dict[tuple[str, str], np.ndarray]:
        wanted = list(keys)
        found: dict[tuple[str, str], np.ndarray] = {}
        for number, ids in by_store(run_ids).items():
            store, _id = self.store_of(key_of(number, ids[0]))
            found.update(keyed_histories(number, store.metric_history(ids, wanted, state=state)))
        return found

    def metric_summaries(
        self,
        run_ids: Iterable[str],
        keys: Iterable[str] | None = None,
        *,
        state: TaskState | None = None,
    ) -> pd.DataFrame:
        wanted = None if keys is None else list(keys)
        frames = []
        for number, ids in by_store(run_ids).items():
            store, _id = self.store_of(key_of(number, ids[0]))
            frames.append(keyed_column(number, store.metric_summaries(ids, wanted, state=state)))
        filled = [frame for frame in frames if len(frame)]
        if len(filled) > 1:
            return pd.concat(filled, ignore_index=True)
        return filled[0] if filled else (frames[0] if frames else pd.DataFrame())

    # --- one run: passed to its store ---------------------------------------------------------

    def run(self, run_id: str) -> RunDetail:
        store, own_id = self.store_of(run_id)
        return store.run(own_id)

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactEntry]:
        store, own_id = self.store_of(run_id)
        return store.list_artifacts(own_id, path)

    def fetch_artifact(self, run_id: str, path: str, *, state: TaskState | None = None) -> Path:
        store, own_id = self.store_of(run_id)
        return store.fetch_artifact(own_id, path, state=state)
