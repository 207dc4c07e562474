"""Parse MLflow metric files (``ts value step`` lines) in bulk into numpy arrays."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from flowdeck.store.base import HISTORY_DTYPE


@dataclass
class ParsedMetrics:
    """Points of many metric files, concatenated; ``owner[i]`` is the file index of point i."""

    owner: np.ndarray  # int64
    timestamp: np.ndarray  # int64
    value: np.ndarray  # float64
    step: np.ndarray  # int64
    bad_lines: dict[int, int]  # file index -> number of lines that could not be read


def parse_metric_files(contents: Sequence[bytes]) -> ParsedMetrics:
    """Parse every file's lines; garbage lines are dropped and counted in ``bad_lines``.

    Files made only of clean 3-field lines (nearly all) are parsed together by pandas' C
    reader; others (2- or 5-field lines, blank or garbage lines) line by line.
    """
    fast_indices: list[int] = []
    fast_chunks: list[bytes] = []
    fast_counts: list[int] = []
    slow: list[tuple[int, list[tuple[int, float, int]]]] = []
    bad_lines: dict[int, int] = {}
    for index, content in enumerate(contents):
        if content and not content.endswith(b"\n"):
            content += b"\n"
        lines = content.count(b"\n")
        if _looks_clean(content, lines):
            fast_indices.append(index)
            fast_chunks.append(content)
            fast_counts.append(lines)
        else:
            points, bad = _parse_slow(content)
            slow.append((index, points))
            if bad:
                bad_lines[index] = bad
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    if fast_chunks:
        frame = _read_clean(b"".join(fast_chunks))
        if frame is not None and len(frame[0]) == sum(fast_counts):
            owner = np.repeat(np.asarray(fast_indices, dtype=np.int64), fast_counts)
            parts.append((owner, frame[0], frame[1], frame[2]))
        else:  # a line that looked clean was not: fall back file by file
            for index, content in zip(fast_indices, fast_chunks, strict=True):
                points, bad = _parse_slow(content)
                slow.append((index, points))
                if bad:
                    bad_lines[index] = bad
    for index, points in slow:
        if points:
            ts, values, steps = zip(*points, strict=True)
            parts.append(
                (
                    np.full(len(points), index, dtype=np.int64),
                    np.asarray(ts, dtype=np.int64),
                    np.asarray(values, dtype=np.float64),
                    np.asarray(steps, dtype=np.int64),
                )
            )
    if not parts:
        empty_i = np.empty(0, dtype=np.int64)
        return ParsedMetrics(empty_i, empty_i, np.empty(0, dtype=np.float64), empty_i, bad_lines)
    return ParsedMetrics(
        owner=np.concatenate([p[0] for p in parts]),
        timestamp=np.concatenate([p[1] for p in parts]),
        value=np.concatenate([p[2] for p in parts]),
        step=np.concatenate([p[3] for p in parts]),
        bad_lines=bad_lines,
    )


def _looks_clean(content: bytes, lines: int) -> bool:
    return (
        lines > 0
        and content.count(b" ") == 2 * lines
        and b"\n\n" not in content
        and b"  " not in content
        and not content.startswith((b"\n", b" "))
        and b" \n" not in content
        and b"\r" not in content
    )


def _read_clean(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=" ",
            header=None,
            names=["timestamp", "value", "step"],
            dtype={"timestamp": np.int64, "value": np.float64, "step": np.int64},
            engine="c",
            na_filter=True,
            keep_default_na=False,
            na_values=["nan", "NaN"],
        )
    except (ValueError, TypeError, OverflowError, pd.errors.ParserError):
        return None
    return (
        frame["timestamp"].to_numpy(np.int64),
        frame["value"].to_numpy(np.float64),
        frame["step"].to_numpy(np.int64),
    )


def _parse_slow(content: bytes) -> tuple[list[tuple[int, float, int]], int]:
    """Parse line by line as MLflow does (2, 3 or 5 fields); return points and bad-line count."""
    points: list[tuple[int, float, int]] = []
    bad = 0
    for raw in content.decode("utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line:
            continue
        fields = line.split(" ")
        if len(fields) not in (2, 3, 5):
            bad += 1
            continue
        try:
            point = (
                int(fields[0]),
                float(fields[1]),
                int(fields[2]) if len(fields) == 3 else 0,
            )
        except ValueError:
            bad += 1
            continue
        points.append(point)
    return points, bad


def latest_points(parsed: ParsedMetrics, n_files: int) -> np.ndarray:
    """Index (into the parsed arrays) of each file's latest point by MLflow's rule, -1 if none.

    MLflow's FileStore takes ``max`` of ``(step, timestamp, value)`` over the lines in file
    order: highest step, then newest timestamp, then largest value. Nothing compares greater
    than NaN, so among the points of that step and timestamp a NaN that comes first in the
    file wins, while a later NaN never replaces a number.
    """
    result = np.full(n_files, -1, dtype=np.int64)
    n_points = len(parsed.owner)
    if n_points == 0:
        return result
    owner = parsed.owner
    order = None
    if n_points > 1 and np.any(owner[1:] < owner[:-1]):
        order = np.argsort(owner, kind="stable")
        owner = owner[order]
    step, stamp, value = parsed.step, parsed.timestamp, parsed.value
    if order is not None:
        step, stamp, value = step[order], stamp[order], value[order]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    counts = np.diff(np.r_[starts, n_points])
    candidate = step == np.repeat(np.maximum.reduceat(step, starts), counts)
    masked_stamp = np.where(candidate, stamp, np.iinfo(np.int64).min)
    candidate &= masked_stamp == np.repeat(np.maximum.reduceat(masked_stamp, starts), counts)
    masked_value = np.where(candidate & ~np.isnan(value), value, -np.inf)
    best_value = np.repeat(np.maximum.reduceat(masked_value, starts), counts)
    best = candidate & (masked_value == best_value) & ~np.isnan(value)
    best |= candidate & ~np.repeat(np.logical_or.reduceat(best, starts), counts)
    chosen = np.flatnonzero(best)
    first = np.r_[True, owner[chosen][1:] != owner[chosen][:-1]]
    picked = chosen[first]
    candidates = np.flatnonzero(candidate)
    first_candidates = candidates[np.r_[True, owner[candidates][1:] != owner[candidates][:-1]]]
    nan_first = np.isnan(value[first_candidates])  # the running max sticks to a leading NaN
    picked[nan_first] = first_candidates[nan_first]
    result[owner[picked]] = picked if order is None else order[picked]
    return result


def history_of(parsed: ParsedMetrics, file_index: int) -> np.ndarray:
    """One file's points as a ``HISTORY_DTYPE`` array sorted by step, then timestamp."""
    mask = parsed.owner == file_index
    return history_array(parsed.step[mask], parsed.timestamp[mask], parsed.value[mask])


def history_array(step: np.ndarray, timestamp: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Points as a ``HISTORY_DTYPE`` array sorted by step, then timestamp (stable)."""
    order = np.lexsort((timestamp, step))
    out = np.empty(len(order), dtype=HISTORY_DTYPE)
    out["step"] = step[order]
    out["timestamp"] = timestamp[order]
    out["value"] = value[order]
    return out
