"""Runs of several stores in one frame: a ``store`` column and row keys unique across stores."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from flowdeck.core.runs_table import SOURCE_RUN_ID
from flowdeck.core.runs_table import STORE as STORE_COLUMN
from flowdeck.core.store_keys import by_store, key_of, split_key

__all__ = ["StoreFailure", "StorePart", "by_store", "combine_runs", "key_of", "split_key"]
PARENT_TAG_COLUMN = "tags.mlflow.parentRunId"
_LEADING = ("run_id", STORE_COLUMN, SOURCE_RUN_ID, "experiment_id", "status", "artifact_uri",
            "start_time", "end_time")  # fmt: skip


@dataclass(frozen=True)
class StorePart:
    """One store's share of a combined read: its number (1-based), label and runs frame."""

    number: int
    label: str
    frame: pd.DataFrame


@dataclass(frozen=True)
class StoreFailure:
    """A store that could not answer (a filter it rejects, a lost connection), and why."""

    label: str
    message: str

    def __str__(self) -> str:
        return f"{self.label}: {self.message}"


def unique_labels(labels: Sequence[str]) -> list[str]:
    """Store labels told apart: a label shown twice gets its store number, ``name (2)``."""
    seen = {label: labels.count(label) for label in labels}
    return [
        label if seen[label] == 1 else f"{label} ({number})"
        for number, label in enumerate(labels, start=1)
    ]


def combine_runs(parts: Sequence[StorePart]) -> pd.DataFrame:
    """One runs frame of every part, in part order: ``run_id`` becomes ``<number>:<run_id>``
    (a mirror and its source hold the same run ids), ``source_run_id`` keeps the run's own id,
    ``store`` names its store, and parent links point at the parent's key in the same store."""
    frames = [_keyed(part) for part in parts]
    filled = [frame for frame in frames if len(frame)]
    if not filled:
        combined = frames[0] if frames else pd.DataFrame(columns=list(_LEADING))
    elif len(filled) == 1:
        combined = filled[0]
    else:
        combined = pd.concat(filled, ignore_index=True, sort=False)
    return combined[_ordered_columns(combined.columns)].reset_index(drop=True)


def _keyed(part: StorePart) -> pd.DataFrame:
    frame = part.frame.reset_index(drop=True).copy()
    run_ids = frame["run_id"].astype(str) if "run_id" in frame else pd.Series([], dtype=object)
    frame["run_id"] = [key_of(part.number, run_id) for run_id in run_ids]
    frame[SOURCE_RUN_ID] = run_ids.to_numpy(dtype=object)
    frame[STORE_COLUMN] = np.full(len(frame), part.label, dtype=object)
    if PARENT_TAG_COLUMN in frame:
        frame[PARENT_TAG_COLUMN] = [
            key_of(part.number, str(parent)) if isinstance(parent, str) and parent else None
            for parent in frame[PARENT_TAG_COLUMN]
        ]
    return frame


def _ordered_columns(columns: Iterable[str]) -> list[str]:
    """MLflow's order: the fixed columns, then metrics, params and tags as first seen."""
    names = list(columns)
    leading = [name for name in _LEADING if name in names]
    groups: dict[str, list[str]] = {"metrics.": [], "params.": [], "tags.": []}
    others = []
    for name in names:
        if name in leading:
            continue
        prefix = next((p for p in groups if name.startswith(p)), None)
        (groups[prefix] if prefix else others).append(name)
    return [*leading, *others, *groups["metrics."], *groups["params."], *groups["tags."]]


def keyed_histories(
    number: int, histories: Mapping[tuple[str, str], np.ndarray]
) -> dict[tuple[str, str], np.ndarray]:
    """One store's ``metric_history`` answer with its run ids turned into keys."""
    return {(key_of(number, run_id), key): array for (run_id, key), array in histories.items()}


def keyed_column(number: int, frame: pd.DataFrame, column: str = "run_id") -> pd.DataFrame:
    """``frame`` with the ids in ``column`` turned into keys of store ``number``."""
    frame = frame.copy()
    frame[column] = [key_of(number, str(value)) for value in frame[column]]
    return frame


def failures_text(failures: Sequence[StoreFailure]) -> str:
    """One line per store that could not answer (empty when every store answered)."""
    return "\n".join(f"{failure.label} could not answer: {failure.message}" for failure in failures)


def suggested_keys(
    experiments: Sequence[Sequence[tuple[str, str]]], selected: Sequence[str]
) -> list[str]:
    """What to offer side by side: the ``selected`` keys, and when they all come from one store,
    the experiments of the same names in the other stores (a mirror beside its server).

    ``experiments`` holds each store's ``(experiment id, name)`` pairs, store 1 first.
    """
    chosen = list(dict.fromkeys(selected))
    numbers = {split_key(key)[0] for key in chosen}
    if len(numbers) != 1:
        return chosen
    (number,) = numbers
    names_of = dict(experiments[number - 1]) if number <= len(experiments) else {}
    names = {names_of.get(split_key(key)[1]) for key in chosen} - {None}
    for other, pairs in enumerate(experiments, start=1):
        if other != number:
            chosen += [key_of(other, eid) for eid, name in pairs if name in names]
    return chosen
