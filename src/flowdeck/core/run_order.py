"""MLflow's run ``order_by``: parsed by MLflow's parser, sorted like its SQL store does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flowdeck.core.errors import InvalidFilter
from flowdeck.core.run_filter import (
    ATTRIBUTE,
    METRIC,
    NUMERIC_ATTRIBUTES,
    PARAM,
    TAG,
    IndexedRuns,
    readable_mlflow_error,
)


@dataclass(frozen=True)
class SortKey:
    """One ``order_by`` entry: ``kind`` is metric/parameter/tag/attribute."""

    kind: str
    key: str
    ascending: bool


def parse_order_by(order_by: Sequence[str]) -> list[SortKey]:
    """Parse ``order_by`` entries exactly as MLflow's SQL store does (aliases, duplicates)."""
    if not order_by:
        return []
    from mlflow.exceptions import MlflowException
    from mlflow.utils.search_utils import SearchUtils

    keys: list[SortKey] = []
    try:
        for entry in order_by:
            kind, key, ascending = SearchUtils.parse_order_by_for_search_runs(entry)
            key = SearchUtils.translate_key_alias(key)
            if kind not in (METRIC, PARAM, TAG, ATTRIBUTE):
                raise MlflowException(f"Invalid identifier type '{kind}'")
            if any(k.kind == kind and k.key == key for k in keys):
                raise MlflowException(f"`order_by` contains duplicate fields: {list(order_by)}")
            keys.append(SortKey(kind, key, bool(ascending)))
    except MlflowException as exc:
        raise InvalidFilter(
            f"Invalid order_by: {readable_mlflow_error(exc)}", detail=repr(list(order_by))
        ) from exc
    return keys


def _sort_columns(indexed: IndexedRuns, sort_key: SortKey, subset: np.ndarray) -> list[np.ndarray]:
    """The lexsort keys, most significant first, of one ``order_by`` entry over ``subset``."""
    sign = 1 if sort_key.ascending else -1
    if sort_key.kind == METRIC:
        values, present = indexed.metric_of(sort_key.key)
        values, present = values[subset], present[subset]
        is_nan = present & np.isnan(values)
        # MLflow's SQL store: real values first, then NaN, then runs without the metric.
        group = np.where(is_nan, 1, np.where(present, 0, 2))
        return [group, sign * np.where(present & ~is_nan, values, 0.0)]
    if sort_key.kind == ATTRIBUTE and sort_key.key in NUMERIC_ATTRIBUTES:
        column = indexed.runs[sort_key.key]
        missing = np.asarray(column.isna(), dtype=bool)[subset]
        numbers = np.asarray(column.astype("Float64").fillna(0.0), dtype=np.float64)[subset]
        return [missing.astype(np.int8), sign * numbers]
    if sort_key.kind == ATTRIBUTE:
        text = indexed.attribute_text(sort_key.key).take(subset)
    else:
        text = indexed.text_of(sort_key.kind, sort_key.key).take(subset)
    # NULL (or absent) sorts last in either direction, as MLflow's CASE clause does.
    return [(text.codes < 0).astype(np.int8), sign * text.ranks()]


def order_runs(indexed: IndexedRuns, sort_keys: list[SortKey], subset: np.ndarray) -> np.ndarray:
    """Run positions of ``subset`` in MLflow's order: the keys, then start_time DESC, run_id."""
    columns: list[np.ndarray] = []
    for sort_key in sort_keys:
        columns.extend(_sort_columns(indexed, sort_key, subset))
    if not any(k.kind == ATTRIBUTE and k.key == "start_time" for k in sort_keys):
        # A plain DESC in SQLite puts NULL start times last.
        columns.extend(_sort_columns(indexed, SortKey(ATTRIBUTE, "start_time", False), subset))
    columns.append(indexed.attribute_text("run_id").take(subset).ranks())
    order = np.lexsort(columns[::-1])
    return subset[order]
