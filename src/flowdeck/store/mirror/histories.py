"""Full metric histories read from a source store in bulk, run batch by run batch."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.store.rest.history import fetch_history, history_chunks, points_to_history

Pair = tuple[str, str]
# MLflow's server answers get-history-bulk with at most this many points for at most 100 runs.
BULK_ENDPOINT = "ajax-api/2.0/mlflow/metrics/get-history-bulk"
BULK_MAX_POINTS = 25_000
BULK_MAX_RUNS = 100
REST_THREADS = 6
LONG_THREADS = 2  # long histories read beside the bulk requests (each pages 4 at a time)
_DONE = object()  # what a worker puts on the queue when its work is over


def read_histories(
    store: Store,
    pairs: Sequence[Pair],
    state: TaskState | None = None,
    long_pairs: frozenset[Pair] = frozenset(),
) -> Iterator[tuple[Pair, np.ndarray]]:
    """Every point of each (run, key) pair, in no particular order; a pair's points may come
    in several parts, and (from a server whose page tokens are not offsets) more than once.

    ``long_pairs`` are known to hold more points than one bulk answer: a server is asked for
    them page by page straight away.
    """
    if not pairs:
        return
    if store.kind == "rest":
        yield from _rest_histories(store, pairs, state, long_pairs)
        return
    by_run: dict[str, list[str]] = {}
    for run_id, key in pairs:
        by_run.setdefault(run_id, []).append(key)
    keys = sorted({key for _, key in pairs})
    wanted = set(pairs)
    histories = store.metric_history(list(by_run), keys, state=state)
    for pair, history in histories.items():
        if pair in wanted:
            yield pair, history


def _rest_histories(
    store: Store, pairs: Sequence[Pair], state: TaskState | None, long_pairs: frozenset[Pair]
) -> Iterator[tuple[Pair, np.ndarray]]:
    """Bulk requests of up to 100 runs per key (a batch the server cut short is split), and
    long histories page by page beside them; each answer is given as soon as it arrives, a
    long history in several parts."""
    client = store.client  # type: ignore[attr-defined]
    by_key: dict[str, list[str]] = {}
    long = [pair for pair in pairs if pair in long_pairs]
    for run_id, key in pairs:
        if (run_id, key) not in long_pairs:
            by_key.setdefault(key, []).append(run_id)
    batches = [
        (key, run_ids[start : start + BULK_MAX_RUNS])
        for key, run_ids in by_key.items()
        for start in range(0, len(run_ids), BULK_MAX_RUNS)
    ]
    arrived: queue.Queue[Any] = queue.Queue()
    stopping = threading.Event()

    def deliver(work: Callable[[], Iterable[tuple[Pair, np.ndarray]]]) -> None:
        try:
            for found in work():
                if stopping.is_set():
                    return
                arrived.put(found)
        except BaseException as error:  # noqa: BLE001 - raised again by the reader
            arrived.put(error)
        finally:
            arrived.put(_DONE)

    def bulk(key: str, run_ids: list[str]) -> Iterable[tuple[Pair, np.ndarray]]:
        if state is not None:
            state.check()
        return _bulk_or_split(client, key, run_ids, state).items()

    def pages(pair: Pair) -> Iterator[tuple[Pair, np.ndarray]]:
        for page in history_chunks(client, pair[0], pair[1], state):
            yield pair, points_to_history([page])

    long_pool = ThreadPoolExecutor(LONG_THREADS, thread_name_prefix="flowdeck-mirror-long")
    pool = ThreadPoolExecutor(REST_THREADS, thread_name_prefix="flowdeck-mirror-bulk")
    try:
        for pair in long:
            long_pool.submit(deliver, lambda pair=pair: pages(pair))
        for key, run_ids in batches:
            pool.submit(deliver, lambda key=key, run_ids=run_ids: bulk(key, run_ids))
        remaining = len(long) + len(batches)
        while remaining:
            item = arrived.get()
            if item is _DONE:
                remaining -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        stopping.set()
        pool.shutdown(wait=True, cancel_futures=True)
        long_pool.shutdown(wait=True, cancel_futures=True)


def _bulk_or_split(
    client: Any, key: str, run_ids: list[str], state: TaskState | None
) -> dict[Pair, np.ndarray]:
    if len(run_ids) == 1:
        points = _bulk(client, key, run_ids)
        if len(points) < BULK_MAX_POINTS:
            return {(run_ids[0], key): points_to_history([points])}
        return {(run_ids[0], key): fetch_history(client, run_ids[0], key, state)}
    points = _bulk(client, key, run_ids)
    if len(points) >= BULK_MAX_POINTS:  # the answer may be cut: ask for halves
        middle = len(run_ids) // 2
        found = _bulk_or_split(client, key, run_ids[:middle], state)
        found.update(_bulk_or_split(client, key, run_ids[middle:], state))
        return found
    grouped: dict[str, list[dict[str, Any]]] = {run_id: [] for run_id in run_ids}
    for point in points:
        grouped.setdefault(str(point.get("run_id")), []).append(point)
    return {(run_id, key): points_to_history([grouped.get(run_id, [])]) for run_id in run_ids}


def _bulk(client: Any, key: str, run_ids: list[str]) -> list[dict[str, Any]]:
    url = f"{client.base_url}/{BULK_ENDPOINT}"
    params = {"run_id": run_ids, "metric_key": key, "max_results": BULK_MAX_POINTS}
    response = client.request("GET", url, params=params)
    return list(client._json(response).get("metrics") or [])
