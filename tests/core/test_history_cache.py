"""The history cache: hits, misses, eviction by points, and forgetting running runs."""

from __future__ import annotations

import numpy as np

from flowdeck.core.history_cache import HistoryCache
from flowdeck.store.base import HISTORY_DTYPE


def history(points: int) -> np.ndarray:
    out = np.zeros(points, dtype=HISTORY_DTYPE)
    out["step"] = np.arange(points)
    return out


def test_missing_lists_only_pairs_not_yet_loaded():
    cache = HistoryCache()
    cache.put("db", {("r1", "loss"): history(3)})
    assert cache.missing("db", ["r1", "r2"], ["loss", "acc"]) == [
        ("r1", "acc"),
        ("r2", "loss"),
        ("r2", "acc"),
    ]
    assert cache.missing("other-store", ["r1"], ["loss"]) == [("r1", "loss")]
    assert len(cache.get("db", "r1", "loss")) == 3


def test_least_recently_used_histories_go_first_past_the_budget():
    cache = HistoryCache(budget_points=10)
    cache.put("db", {("a", "m"): history(4), ("b", "m"): history(4)})
    cache.get("db", "a", "m")  # a is now the most recent
    cache.put("db", {("c", "m"): history(4)})
    assert cache.get("db", "b", "m") is None
    assert cache.get("db", "a", "m") is not None and cache.get("db", "c", "m") is not None
    assert cache.points == 8


def test_replacing_and_forgetting_keep_the_point_count_right():
    cache = HistoryCache()
    cache.put("db", {("a", "m"): history(5), ("a", "n"): history(2), ("b", "m"): history(1)})
    cache.put("db", {("a", "m"): history(7)})
    assert cache.points == 10
    cache.forget_runs("db", ["a"])
    assert cache.points == 1 and len(cache) == 1
    assert cache.missing("db", ["a"], ["m"]) == [("a", "m")]
