"""Full metric histories and per-metric summaries read from run metric files."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from flowdeck.core.task_state import TaskState
from flowdeck.store.base import HISTORY_DTYPE, SUMMARY_COLUMNS
from flowdeck.store.files.fsread import NotRegularFile, parallel_map, read_bytes
from flowdeck.store.files.metrics import latest_points, parse_metric_files
from flowdeck.store.progress import Progress

PROGRESS_TEXT = "Reading metric histories…"
# Pairs summarised between two looks at the cancel flag.
PAIRS_PER_CHECK = 1000


def metric_file(run_folder: str, key: str) -> str | None:
    """The metric file of ``key`` in a run folder; None for keys that would leave it."""
    parts = key.split("/")
    if not key or any(part in ("", ".", "..") for part in parts) or "\\" in key:
        return None
    return os.path.join(run_folder, "metrics", *parts)


def _read_or_empty(path: str | None) -> bytes:
    if path is None:
        return b""
    try:
        return read_bytes(path)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, NotRegularFile):
        return b""  # a FIFO or device is no metric file (runs() notes it as a problem)


def read_histories(
    requests: Sequence[tuple[str, str, str]], workers: int, state: TaskState | None = None
) -> tuple[dict[tuple[str, str], np.ndarray], dict[tuple[str, str], int]]:
    """For (run_id, key, run_folder) triples: HISTORY_DTYPE arrays, and bad-line counts.

    ``state`` is checked between groups of files read; progress counts the files.
    """
    progress = Progress(state, len(requests), PROGRESS_TEXT)
    contents = parallel_map(
        lambda request: _read_or_empty(metric_file(request[2], request[1])),
        requests,
        workers,
        state,
        progress.advance,
    )
    parsed = parse_metric_files(contents)
    order = np.lexsort((parsed.timestamp, parsed.step, parsed.owner))
    owners = parsed.owner[order]
    bounds = np.searchsorted(owners, np.arange(len(requests) + 1))
    histories: dict[tuple[str, str], np.ndarray] = {}
    for index, (run_id, key, _folder) in enumerate(requests):
        chosen = order[bounds[index] : bounds[index + 1]]
        array = np.empty(len(chosen), dtype=HISTORY_DTYPE)
        array["step"] = parsed.step[chosen]
        array["timestamp"] = parsed.timestamp[chosen]
        array["value"] = parsed.value[chosen]
        histories[(run_id, key)] = array
    bad = {(requests[i][0], requests[i][1]): count for i, count in parsed.bad_lines.items()}
    return histories, bad


def summaries_from_histories(
    histories: dict[tuple[str, str], np.ndarray], state: TaskState | None = None
) -> pd.DataFrame:
    """SUMMARY_COLUMNS rows for every pair with points: latest by MLflow's rule, NaN ignored."""
    rows = []
    for index, ((run_id, key), points) in enumerate(histories.items()):
        if state is not None and index % PAIRS_PER_CHECK == 0:
            state.check()
        if len(points) == 0:
            continue
        values = points["value"]
        last_index = _latest_index(points)
        finite_mask = ~np.isnan(values)
        if finite_mask.any():
            kept = points[
                finite_mask
            ]  # already sorted by step: the first match has the lowest step
            low, high = np.min(kept["value"]), np.max(kept["value"])
            min_step = int(kept["step"][np.argmax(kept["value"] == low)])
            max_step = int(kept["step"][np.argmax(kept["value"] == high)])
        else:
            low = high = np.nan
            min_step = max_step = None
        rows.append(
            (
                run_id,
                key,
                float(values[last_index]),
                float(low),
                float(high),
                min_step,
                max_step,
                int(finite_mask.sum()),
            )
        )
    frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    frame["run_id"] = frame["run_id"].astype(object)
    frame["key"] = frame["key"].astype(object)
    for name in ("last", "min", "max"):
        frame[name] = frame[name].astype(np.float64)
    for name in ("min_step", "max_step"):
        frame[name] = pd.array(frame[name].tolist(), dtype="Int64")
    frame["count"] = frame["count"].astype(np.int64)
    return frame


def _latest_index(points: np.ndarray) -> int:
    from flowdeck.store.files.metrics import ParsedMetrics

    parsed = ParsedMetrics(
        owner=np.zeros(len(points), dtype=np.int64),
        timestamp=points["timestamp"],
        value=points["value"],
        step=points["step"],
        bad_lines={},
    )
    return int(latest_points(parsed, 1)[0])
