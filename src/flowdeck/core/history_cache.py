"""Metric histories kept in memory per (store, run, key), bounded by the points they hold."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

import numpy as np

DEFAULT_BUDGET_POINTS = 40_000_000  # ~960 MB of HISTORY_DTYPE at most

CacheKey = tuple[str, str, str]  # store location, run id, metric key


class HistoryCache:
    """Least-recently-used cache of history arrays; evicts whole histories past the budget."""

    def __init__(self, budget_points: int = DEFAULT_BUDGET_POINTS) -> None:
        self.budget_points = budget_points
        self._items: OrderedDict[CacheKey, np.ndarray] = OrderedDict()
        self._points = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def points(self) -> int:
        return self._points

    def get(self, store: str, run_id: str, key: str) -> np.ndarray | None:
        item = self._items.get((store, run_id, key))
        if item is not None:
            self._items.move_to_end((store, run_id, key))
        return item

    def missing(
        self, store: str, run_ids: Iterable[str], keys: Iterable[str]
    ) -> list[tuple[str, str]]:
        """The (run id, key) pairs not cached yet, in run then key order."""
        wanted = list(keys)
        return [
            (run_id, key)
            for run_id in run_ids
            for key in wanted
            if (store, run_id, key) not in self._items
        ]

    def put(self, store: str, histories: dict[tuple[str, str], np.ndarray]) -> None:
        for (run_id, key), history in histories.items():
            self._drop((store, run_id, key))
            self._items[(store, run_id, key)] = history
            self._points += len(history)
        while self._points > self.budget_points and len(self._items) > 1:
            _key, oldest = self._items.popitem(last=False)
            self._points -= len(oldest)

    def forget_runs(self, store: str, run_ids: Iterable[str]) -> None:
        """Drop every history of these runs (e.g. RUNNING runs before a refresh)."""
        doomed = set(run_ids)
        for cache_key in [k for k in self._items if k[0] == store and k[1] in doomed]:
            self._drop(cache_key)

    def _drop(self, cache_key: CacheKey) -> None:
        old = self._items.pop(cache_key, None)
        if old is not None:
            self._points -= len(old)
