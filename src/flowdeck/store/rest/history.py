"""Metric histories fetched in parallel from a tracking server, and summaries computed from them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from flowdeck.core.task_state import TaskState
from flowdeck.store.base import HISTORY_DTYPE, SUMMARY_COLUMNS
from flowdeck.store.progress import Progress
from flowdeck.store.rest.client import RestClient, _items, _token
from flowdeck.store.rest.fields import Fields, MalformedAnswer
from flowdeck.store.rest.offset_pages import NotOffsets, offset_of, offset_pages

ENDPOINT = "metrics/get-history"
HISTORY_THREADS = 4
PARALLEL_PAGES = 4
# Points per answer of a history read (MLflow's server pages get-history by max_results).
PAGE_POINTS = 25_000
# Points per later page when the first page came within QUICK_FIRST_PAGE_S (fewer pages:
# MLflow's server sorts the whole history for each one).
LATER_PAGE_POINTS = 50_000
QUICK_FIRST_PAGE_S = 4.0
PROGRESS_TEXT = "Reading metric histories…"
# MLflow's SQL store keeps +-inf as +-DBL_MAX and the server returns that number.
STORED_INFINITY = 1.7976931348623157e308


def fetch_history(
    client: RestClient,
    run_id: str,
    key: str,
    state: TaskState | None = None,
    on_page: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Every point of one metric, sorted by step then timestamp (NaN and +-inf kept).

    Asked for in pages of ``PAGE_POINTS``, so a history of millions of points never has to
    arrive in one answer within the request timeout; ``state`` is checked between pages, and
    ``on_page`` is told the size of each page as it arrives. When the server's page tokens are
    MLflow's offsets, later pages are asked for ``PARALLEL_PAGES`` at a time, each answer
    checked against the offset it should follow.
    """
    counted = on_page or (lambda _points: None)
    payload, first, first_seconds = _first_page(client, run_id, key)
    pages = [_items(first, ENDPOINT, "metrics")]
    counted(len(pages[0]))
    token = _token(first, ENDPOINT)
    if token and offset_of(token) == PAGE_POINTS:
        try:
            arrived = []
            for offset, items in _window_pages(client, payload, state, first_seconds):
                counted(len(items))
                arrived.append((offset, items))
            arrived.sort(key=_offset)
            return points_to_history([*pages, *(items for _, items in arrived)])
        except NotOffsets:
            pass
    if token:
        request = {**payload, "page_token": token}
        for items in client.iter_pages("GET", ENDPOINT, request, "metrics", state=state):
            counted(len(items))
            pages.append(items)
    return points_to_history(pages)


class _PointCount:
    """Points received so far by a task's history reads, said on its progress (any thread)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.points = 0
        self._lock = threading.Lock()

    def add(self, points: int) -> None:
        if not points:
            return
        with self._lock:
            self.points += points
            self.progress.say(f"{PROGRESS_TEXT} {self.points:,} points so far")


def history_chunks(
    client: RestClient, run_id: str, key: str, state: TaskState | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The pages of one metric's history as they arrive, in no particular order.

    For callers that ignore repeated points (the mirror's primary key): should a page token
    turn out not to be an offset, the whole history follows again, read page after page.
    """
    payload, first, first_seconds = _first_page(client, run_id, key)
    yield _items(first, ENDPOINT, "metrics")
    token = _token(first, ENDPOINT)
    if token and offset_of(token) == PAGE_POINTS:
        try:
            for _, items in _window_pages(client, payload, state, first_seconds):
                yield items
            return
        except NotOffsets:
            pass
    if token:
        yield from client.iter_pages(
            "GET", ENDPOINT, {**payload, "page_token": token}, "metrics", state=state
        )


def _first_page(
    client: RestClient, run_id: str, key: str
) -> tuple[dict[str, Any], dict[str, Any], float]:
    """The request payload, the first answer, and how long it took."""
    payload = {"run_id": run_id, "metric_key": key, "max_results": PAGE_POINTS}
    started = time.perf_counter()
    first = client.get(ENDPOINT, payload)
    return payload, first, time.perf_counter() - started


def _offset(page: tuple[int, list[dict[str, Any]]]) -> int:
    return page[0]


def _window_pages(
    client: RestClient, payload: dict[str, Any], state: TaskState | None, first_seconds: float
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """(offset, page) from offset ``PAGE_POINTS`` on, as they arrive, ``PARALLEL_PAGES`` at a
    time (``offset_pages``). Later pages are larger when the first came quickly: the server
    sorts the whole history for each page."""
    size = LATER_PAGE_POINTS if first_seconds < QUICK_FIRST_PAGE_S else PAGE_POINTS
    request = {**payload, "max_results": size}

    def page(token: str) -> tuple[list[dict[str, Any]], str | None]:
        if state is not None:
            state.check()
        answer = client.get(ENDPOINT, {**request, "page_token": token})
        return _items(answer, ENDPOINT, "metrics"), _token(answer, ENDPOINT)

    return offset_pages(page, PAGE_POINTS, size, PARALLEL_PAGES)


def points_to_history(pages: Iterable[list[dict[str, Any]]]) -> np.ndarray:
    """A ``HISTORY_DTYPE`` array, sorted, from pages of the server's metric objects."""
    steps: list[int] = []
    stamps: list[int] = []
    values: list[float] = []
    for page in pages:
        try:
            for point in page:
                steps.append(int(point.get("step", 0) or 0))
                stamps.append(int(point.get("timestamp", 0) or 0))
                raw = point.get("value")
                values.append(float(raw) if raw is not None else np.nan)
        except (TypeError, ValueError, AttributeError, OverflowError):
            raise _malformed_point(page) from None
    history = np.empty(len(steps), dtype=HISTORY_DTYPE)
    history["step"] = steps
    history["timestamp"] = stamps
    value_array = np.asarray(values, dtype=np.float64)
    value_array[value_array >= STORED_INFINITY] = np.inf
    value_array[value_array <= -STORED_INFINITY] = -np.inf
    history["value"] = value_array
    return history[np.lexsort((history["timestamp"], history["step"]))]


def _malformed_point(page: list[dict[str, Any]]) -> MalformedAnswer:
    """The error naming the first point of ``page`` that the fast loop could not read."""
    for index, raw in enumerate(page):
        point = Fields(raw, ENDPOINT, f"metrics[{index}]")
        point.integer("step")
        point.integer("timestamp")
        point.number("value")
    return MalformedAnswer(ENDPOINT, "metrics", "holds a point that is not a number")


def fetch_histories(
    client: RestClient, pairs: list[tuple[str, str]], state: TaskState | None = None
) -> dict[tuple[str, str], np.ndarray]:
    """Histories of many (run_id, key) pairs, four requests at a time.

    ``state`` is checked before each request; progress counts the pairs fetched.
    """
    if state is not None:
        return _fetch_checked(client, pairs, state)
    if len(pairs) <= 1:
        return {pair: fetch_history(client, *pair) for pair in pairs}
    with ThreadPoolExecutor(
        max_workers=HISTORY_THREADS, thread_name_prefix="flowdeck-rest"
    ) as pool:
        arrays = list(pool.map(lambda pair: fetch_history(client, *pair), pairs))
    return dict(zip(pairs, arrays, strict=True))


def _fetch_checked(
    client: RestClient, pairs: list[tuple[str, str]], state: TaskState
) -> dict[tuple[str, str], np.ndarray]:
    progress = Progress(state, len(pairs), PROGRESS_TEXT)
    progress.check()
    count = _PointCount(progress)
    found: dict[tuple[str, str], np.ndarray] = {}
    if len(pairs) <= 1:
        for pair in pairs:
            found[pair] = fetch_history(client, *pair, state, count.add)
            progress.advance()
        return found
    with ThreadPoolExecutor(
        max_workers=HISTORY_THREADS, thread_name_prefix="flowdeck-rest"
    ) as pool:
        futures = [pool.submit(fetch_history, client, *pair, state, count.add) for pair in pairs]
        try:
            for pair, future in zip(pairs, futures, strict=True):
                found[pair] = future.result()
                progress.advance()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return found


def summarise(
    histories: dict[tuple[str, str], np.ndarray], run_order: Iterable[str]
) -> pd.DataFrame:
    """``SUMMARY_COLUMNS`` per (run, key) with points, in run order then key order."""
    rows = []
    for (run_id, key), history in histories.items():
        if len(history):
            rows.append((run_id, key, *_summary(history)))
    frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    position = {run_id: index for index, run_id in enumerate(run_order)}
    frame["_order"] = frame["run_id"].map(position)
    frame = frame.sort_values(["_order", "key"], kind="stable").drop(columns="_order")
    frame = frame.astype(
        {
            "run_id": object,
            "key": object,
            "last": np.float64,
            "min": np.float64,
            "max": np.float64,
            "min_step": "Int64",
            "max_step": "Int64",
            "count": np.int64,
        }
    )
    return frame.reset_index(drop=True)


def _summary(history: np.ndarray) -> tuple[float, float, float, int | None, int | None, int]:
    """last (highest step, newest timestamp, largest value), NaN-free min/max and count."""
    values = history["value"]
    latest = np.lexsort((values, history["timestamp"], history["step"]))[-1]
    finite = ~np.isnan(values)
    if not finite.any():
        return float(values[latest]), np.nan, np.nan, None, None, 0
    # ``history`` is sorted by step, so the first hit of the extreme has the lowest step.
    kept = np.flatnonzero(finite)
    low_at = int(kept[np.argmin(values[kept])])
    high_at = int(kept[np.argmax(values[kept])])
    return (
        float(values[latest]),
        float(values[low_at]),
        float(values[high_at]),
        int(history["step"][low_at]),
        int(history["step"][high_at]),
        int(finite.sum()),
    )


SAMPLED_ENDPOINT = "ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"
SAMPLED_MAX_RUNS = 100


def fetch_sampled(
    client: RestClient,
    run_ids: list[str],
    keys: list[str],
    points_per_run: int = 1000,
    state: TaskState | None = None,
) -> dict[tuple[str, str], np.ndarray]:
    """The server's own sample of each history (``get-history-bulk-interval``): at most
    ``points_per_run`` points spread over the steps, first and last included, in one request
    per key and 100 runs. What a chart can draw within seconds while the full history loads.
    """
    found: dict[tuple[str, str], np.ndarray] = {}
    url = f"{client.base_url}/{SAMPLED_ENDPOINT}"
    for key in keys:
        for start in range(0, len(run_ids), SAMPLED_MAX_RUNS):
            if state is not None:
                state.check()
            batch = run_ids[start : start + SAMPLED_MAX_RUNS]
            params = {"run_ids": batch, "metric_key": key, "max_results": points_per_run}
            points = list(
                client._json(client.request("GET", url, params=params)).get("metrics") or []
            )
            by_run: dict[str, list[dict[str, Any]]] = {run_id: [] for run_id in batch}
            for point in points:
                by_run.setdefault(str(point.get("run_id")), []).append(point)
            for run_id in batch:
                found[(run_id, key)] = points_to_history([by_run.get(run_id, [])])
    return found
