"""MLflow run filters: parsed by MLflow's own parser, evaluated vectorised over run tables."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from flowdeck.core.errors import InvalidFilter
from flowdeck.core.like_match import SQLITE, LikeRules, compile_like
from flowdeck.core.task_state import TaskState

METRIC = "metric"
PARAM = "parameter"
TAG = "tag"
ATTRIBUTE = "attribute"
DATASET = "dataset"

RUN_NAME_TAG = "mlflow.runName"
NUMERIC_ATTRIBUTES = frozenset({"start_time", "end_time"})


@dataclass(frozen=True)
class Clause:
    """One AND-ed comparison: ``kind`` is metric/parameter/tag/attribute/dataset."""

    kind: str
    key: str
    comparator: str  # upper case: = != > >= < <= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL
    value: Any  # float for metrics, int/float for numeric attributes, str, tuple, or None


@dataclass(frozen=True)
class FilterScope:
    """Where a filter runs: the backend's LIKE rules and the task's cancel token."""

    rules: LikeRules = SQLITE
    state: TaskState | None = None


@dataclass
class TextCodes:
    """Text values as codes into ``uniques`` (-1 is NULL); cheap to match and to pivot.

    ``uniques`` may repeat values: codes can simply be row numbers into a text column.
    """

    codes: np.ndarray
    uniques: pd.Index

    @classmethod
    def of(cls, values: pd.Series | np.ndarray) -> TextCodes:
        codes, uniques = pd.factorize(values)
        return cls(np.asarray(codes, dtype=np.intp), pd.Index(uniques))

    def take(self, rows: np.ndarray) -> TextCodes:
        return TextCodes(self.codes[rows], self.uniques)

    def per_code(self, compute: Callable[[np.ndarray], np.ndarray], null: Any) -> np.ndarray:
        """Apply ``compute`` to the distinct non-null values used, spread back to every row."""
        used = np.unique(self.codes[self.codes >= 0])
        results = np.asarray(compute(np.asarray(self.uniques.take(used), dtype=object)))
        lookup = np.full(
            len(self.uniques) + 1, null, dtype=results.dtype if len(results) else object
        )
        lookup[used] = results
        return lookup[self.codes]  # code -1 picks the trailing ``null``

    def matches(self, comparator: str, value: Any, scope: FilterScope | None = None) -> np.ndarray:
        """SQL comparison per row; NULL never matches."""
        scope = scope or FilterScope()
        return self.per_code(
            lambda texts: match_text(texts, comparator, value, scope), False
        ).astype(bool)

    def ranks(self) -> np.ndarray:
        """Code-point order rank per row, equal texts equal ranks (NULL rows get 0)."""
        used = np.unique(self.codes[self.codes >= 0])
        lookup = np.zeros(len(self.uniques) + 1, dtype=np.int64)
        # Arrow and Python both sort text by code point (UTF-8 byte order), as SQLite does.
        lookup[used] = pd.factorize(self.uniques.take(used), sort=True)[0]
        return lookup[self.codes]


class KeyedTable:
    """A long (run, key, value) table indexed by run position and by key code."""

    def __init__(self, frame: pd.DataFrame, run_index: pd.Index, numeric: bool) -> None:
        run_codes, run_ids = pd.factorize(frame["run_id"])
        positions = run_index.get_indexer(run_ids)[run_codes] if len(frame) else np.array([], int)
        inside = np.flatnonzero(positions >= 0)
        self.pos = np.asarray(positions[inside], dtype=np.intp)
        key_codes, self.keys = pd.factorize(frame["key"].iloc[inside])
        self.codes = np.asarray(key_codes, dtype=np.intp)
        self.numeric = numeric
        if numeric:
            self.values = np.asarray(frame["value"], dtype=np.float64)[inside]
        else:
            # Codes are row numbers into the value column itself: no hashing of values needed.
            values = frame["value"]
            codes = np.where(np.asarray(values.isna(), dtype=bool)[inside], -1, inside)
            self.text = TextCodes(np.asarray(codes, dtype=np.intp), pd.Index(values))

    def rows_of(self, key: str) -> np.ndarray:
        """Row indices of ``key`` (at most one per run)."""
        if key not in self.keys:
            return np.array([], dtype=np.intp)
        return np.flatnonzero(self.codes == self.keys.get_loc(key))


@dataclass
class IndexedRuns:
    """Run rows plus their keyed tables, all addressed by run position."""

    runs: pd.DataFrame
    metrics: KeyedTable
    params: KeyedTable
    tags: KeyedTable
    datasets: pd.DataFrame  # run_id, name, digest, context
    dataset_pos: np.ndarray

    @property
    def size(self) -> int:
        return len(self.runs)

    def keyed(self, kind: str) -> KeyedTable:
        return {METRIC: self.metrics, PARAM: self.params, TAG: self.tags}[kind]

    def metric_of(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(latest value, present) per run of one metric."""
        rows = self.metrics.rows_of(key)
        values, present = np.full(self.size, np.nan), np.zeros(self.size, dtype=bool)
        values[self.metrics.pos[rows]] = self.metrics.values[rows]
        present[self.metrics.pos[rows]] = True
        return values, present

    def text_of(self, kind: str, key: str) -> TextCodes:
        """Per-run codes of one param or tag (-1 where the run lacks it)."""
        table = self.keyed(kind)
        rows = table.rows_of(key)
        codes = np.full(self.size, -1, dtype=np.intp)
        codes[table.pos[rows]] = table.text.codes[rows]
        return TextCodes(codes, table.text.uniques)

    def attribute_text(self, key: str) -> TextCodes:
        return TextCodes.of(self.runs[key])


def readable_mlflow_error(exc: Exception) -> str:
    """MLflow's exception message without its error-code prefix."""
    message = getattr(exc, "message", None) or str(exc)
    return re.sub(r"^[A-Z_]+: ", "", str(message))


def parse_run_filter(filter_string: str) -> list[Clause]:
    """Parse and validate ``filter_string`` exactly as MLflow's SQL store does.

    Raises ``InvalidFilter`` with a plain message for every filter MLflow refuses, whatever
    error its parser raised. Parses are cached: stores check a filter before reading.
    """
    if not filter_string or not filter_string.strip():
        return []
    return list(_parse_run_filter(filter_string))


@lru_cache(maxsize=256)
def _parse_run_filter(filter_string: str) -> tuple[Clause, ...]:
    from mlflow.utils.search_utils import SearchUtils

    try:
        return tuple(
            _validated_clause(SearchUtils, p)
            for p in SearchUtils.parse_search_filter(filter_string)
        )
    except InvalidFilter:
        raise
    except Exception as exc:  # MlflowException, and the parser's raw ValueError/SyntaxError…
        raise InvalidFilter(
            f"Invalid filter: {_plain_parser_error(exc)}", detail=filter_string
        ) from exc


def _plain_parser_error(exc: Exception) -> str:
    """MLflow's message, or a plain one where its parser failed with a Python error."""
    from mlflow.exceptions import MlflowException

    if isinstance(exc, MlflowException):
        return readable_mlflow_error(exc)
    if isinstance(exc, ValueError) and "malformed node" in str(exc):
        return "values in a list must be quoted strings, e.g. IN ('a', 'b')."
    return f"the filter could not be parsed ({type(exc).__name__}: {exc})."


def _validated_clause(search_utils: Any, parsed: dict[str, Any]) -> Clause:
    kind, value = parsed["type"], parsed["value"]
    comparator = parsed["comparator"].upper()
    key = search_utils.translate_key_alias(parsed["key"])
    # Same validation order (and so the same error for a bad comparator) as the SQL store.
    if search_utils.is_string_attribute(kind, key, comparator) or search_utils.is_numeric_attribute(
        kind, key, comparator
    ):
        return Clause(
            ATTRIBUTE, key, comparator, tuple(value) if isinstance(value, list) else value
        )
    if search_utils.is_metric(kind, comparator):
        return Clause(METRIC, key, comparator, float(value))
    if search_utils.is_param(kind, comparator) or search_utils.is_tag(kind, comparator):
        return Clause(kind, key, comparator, value)
    if search_utils.is_dataset(kind, comparator):
        return Clause(DATASET, key, comparator, tuple(value) if isinstance(value, list) else value)
    from mlflow.exceptions import MlflowException

    raise MlflowException(f"Invalid search expression type '{kind}'")


def text_matcher(comparator: str, value: Any, rules: LikeRules = SQLITE) -> Callable[[str], bool]:
    """A predicate for one non-null text value, with SQL semantics (case-sensitive LIKE)."""
    if comparator == "=":
        return lambda text: text == value
    if comparator == "!=":
        return lambda text: text != value
    if comparator == "IN":
        members = frozenset(value)
        return lambda text: text in members
    if comparator == "NOT IN":
        members = frozenset(value)
        return lambda text: text not in members
    if comparator in ("LIKE", "ILIKE"):
        return compile_like(value, rules, ignore_case=comparator == "ILIKE").matches
    raise InvalidFilter(f"Invalid filter: comparator '{comparator}' is not supported for text")


# Texts matched between two looks at the cancel flag: a cheap check every few milliseconds.
CHECK_EVERY_CHARS = 2_000_000
CHECK_EVERY_VALUES = 4_096


def match_text(
    values: np.ndarray, comparator: str, value: Any, scope: FilterScope | None = None
) -> np.ndarray:
    """Vectorised text comparison; missing (None) values never match, as in SQL.

    LIKE patterns match in time linear in each text; ``scope.state`` is checked as texts go.
    """
    scope = scope or FilterScope()
    not_null = np.array([v is not None for v in values], dtype=bool)
    result = np.zeros(len(values), dtype=bool)
    if comparator in ("=", "!="):
        equal = values[not_null] == value
        result[not_null] = equal if comparator == "=" else ~np.asarray(equal, dtype=bool)
        return result
    matches = text_matcher(comparator, value, scope.rules)
    if scope.state is None or comparator not in ("LIKE", "ILIKE"):
        result[not_null] = [matches(v) for v in values[not_null]]
        return result
    state, hits, budget = scope.state, [], CHECK_EVERY_CHARS
    for count, text in enumerate(values[not_null], 1):
        hits.append(matches(text))
        budget -= len(text)
        if budget < 0 or count % CHECK_EVERY_VALUES == 0:
            state.check()
            budget = CHECK_EVERY_CHARS
    result[not_null] = hits
    return result


NUMERIC_COMPARE: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "=": np.equal,
    "!=": np.not_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
}


def clause_mask(
    indexed: IndexedRuns, clause: Clause, scope: FilterScope | None = None
) -> np.ndarray:
    """Which runs satisfy one clause (boolean per run position)."""
    scope = scope or FilterScope()
    if clause.kind == ATTRIBUTE:
        return _attribute_mask(indexed, clause, scope)
    if clause.kind == DATASET:
        return _dataset_mask(indexed, clause, scope)
    table = indexed.keyed(clause.kind)
    rows = table.rows_of(clause.key)
    mask = np.zeros(indexed.size, dtype=bool)
    if clause.comparator in ("IS NULL", "IS NOT NULL"):
        mask[table.pos[rows]] = True
        return ~mask if clause.comparator == "IS NULL" else mask
    if clause.kind == METRIC:
        # NumPy's NaN rules equal MLflow's SQL ones: NaN satisfies only "!=".
        hit = NUMERIC_COMPARE[clause.comparator](table.values[rows], clause.value)
    else:
        hit = table.text.take(rows).matches(clause.comparator, clause.value, scope)
    mask[table.pos[rows[hit]]] = True
    return mask


def _attribute_mask(indexed: IndexedRuns, clause: Clause, scope: FilterScope) -> np.ndarray:
    if clause.key == "run_name":
        # MLflow's SQL store filters run names on the mlflow.runName tag, not runs.name.
        tag = Clause(TAG, RUN_NAME_TAG, clause.comparator, clause.value)
        return clause_mask(indexed, tag, scope)
    if clause.key in NUMERIC_ATTRIBUTES:
        column = indexed.runs[clause.key]
        present = ~np.asarray(column.isna(), dtype=bool)
        numbers = np.asarray(column.astype("Float64").fillna(0.0), dtype=np.float64)
        return present & NUMERIC_COMPARE[clause.comparator](numbers, clause.value)
    return indexed.attribute_text(clause.key).matches(clause.comparator, clause.value, scope)


def _dataset_mask(indexed: IndexedRuns, clause: Clause, scope: FilterScope) -> np.ndarray:
    mask = np.zeros(indexed.size, dtype=bool)
    if not len(indexed.dataset_pos):
        return mask
    hit = TextCodes.of(indexed.datasets[clause.key]).matches(clause.comparator, clause.value, scope)
    mask[indexed.dataset_pos[hit]] = True
    return mask


def filter_mask(
    indexed: IndexedRuns, clauses: list[Clause], scope: FilterScope | None = None
) -> np.ndarray:
    """Which runs satisfy every clause (``scope.state`` is checked between clauses too)."""
    scope = scope or FilterScope()
    mask = np.ones(indexed.size, dtype=bool)
    for clause in clauses:
        if scope.state is not None:
            scope.state.check()
        mask &= clause_mask(indexed, clause, scope)
    return mask
