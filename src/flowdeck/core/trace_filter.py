"""MLflow's trace filter and order_by grammar: parsed by MLflow, evaluated here over TraceInfos."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from flowdeck.core.entities import Assessment, TraceInfo
from flowdeck.core.errors import InvalidFilter
from flowdeck.core.like_match import PLAIN, compile_like
from flowdeck.core.sort_keys import Descending

TRACE_NAME_TAG = "mlflow.traceName"
SOURCE_RUN_KEY = "mlflow.sourceRun"
LINKED_PROMPTS_TAG = "mlflow.linkedPrompts"
_NUMERIC_KEYS = ("timestamp_ms", "execution_time_ms", "end_time_ms")


@dataclass(frozen=True)
class TraceClause:
    """One ``<identifier> <comparator> <value>`` clause after MLflow's key mapping.

    ``kind`` is attribute, tag, metadata, span, feedback, expectation or issue.
    """

    kind: str
    key: str
    comparator: str
    value: Any


@dataclass(frozen=True)
class SpanRow:
    """What span filters look at: name, type, status and the raw span JSON text."""

    name: str
    span_type: str
    status: str
    content: str


@dataclass(frozen=True)
class TraceExtras:
    """Per-trace data beyond TraceInfo that some clauses need, keyed by trace id."""

    spans: Mapping[str, Sequence[SpanRow]] = field(default_factory=dict)
    assessments: Mapping[str, Sequence[Assessment]] = field(default_factory=dict)
    linked_runs: Mapping[str, frozenset[str]] = field(default_factory=dict)
    linked_prompts: Mapping[str, frozenset[str]] | None = None


@cache
def _search_trace_utils() -> Any:
    from mlflow.utils.search_utils import SearchTraceUtils  # slow import: keep it lazy

    return SearchTraceUtils


_KIND_BY_TYPE = {"attribute": "attribute", "tag": "tag", "request_metadata": "metadata"}


@lru_cache(maxsize=128)
def parse_trace_filter(filter_string: str) -> tuple[TraceClause, ...]:
    """Parse with MLflow's own parser; raises ``InvalidFilter`` in MLflow's words."""
    if not filter_string or not filter_string.strip():
        return ()
    utils = _search_trace_utils()
    try:
        parsed = utils.parse_search_filter_for_search_traces(filter_string)
        clauses = []
        for item in parsed:
            kind = _KIND_BY_TYPE.get(item["type"], item["type"])
            comparator = item["comparator"].upper()
            # Validate comparators the way MLflow's SQL store does before querying.
            utils.is_span(item["type"], item["key"], comparator)
            utils.is_assessment(item["type"], item["key"], comparator)
            utils.is_issue(item["type"], item["key"], comparator)
            utils.is_request_metadata(item["type"], comparator)
            clauses.append(TraceClause(kind, item["key"], comparator, item["value"]))
    except Exception as exc:  # MlflowException and sqlparse errors alike
        message = getattr(exc, "message", None) or str(exc)
        raise InvalidFilter(f"Invalid trace filter: {message}") from exc
    return tuple(clauses)


@lru_cache(maxsize=128)
def _parse_one_order_by(clause: str) -> tuple[str, str, bool]:
    utils = _search_trace_utils()
    try:
        key_type, key, ascending = utils.parse_order_by_for_search_traces(clause)
    except Exception as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise InvalidFilter(f"Invalid trace order_by {clause!r}: {message}") from exc
    return _KIND_BY_TYPE.get(key_type, key_type), key, ascending


def parse_trace_order_by(order_by: Sequence[str]) -> list[tuple[str, str, bool]]:
    """(kind, key, ascending) per clause, plus MLflow's tie-breakers."""
    parsed = [_parse_one_order_by(clause) for clause in order_by or ()]
    seen = {(kind, key) for kind, key, _ in parsed}
    if len(seen) != len(parsed):
        raise InvalidFilter(f"`order_by` contains duplicate fields: {list(order_by)}")
    if ("attribute", "timestamp_ms") not in seen:
        parsed.append(("attribute", "timestamp_ms", False))
    if ("attribute", "request_id") not in seen:
        parsed.append(("attribute", "request_id", True))
    return parsed


# --- comparisons ------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _rlike_regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InvalidFilter(f"Invalid regular expression {pattern!r}: {exc}") from exc


def _to_number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def compare(lhs: Any, comparator: str, rhs: Any) -> bool:
    """SQL-like comparison: a missing (None) left side never matches."""
    if lhs is None:
        return False
    if comparator in ("LIKE", "ILIKE"):
        return compile_like(str(rhs), PLAIN, comparator == "ILIKE").matches(str(lhs))
    if comparator == "RLIKE":
        return _rlike_regex(str(rhs)).search(str(lhs)) is not None
    if comparator == "IN":
        return lhs in rhs
    if comparator == "NOT IN":
        return lhs not in rhs
    if isinstance(lhs, int | float) and not isinstance(rhs, int | float):
        rhs = _to_number(rhs)
        if rhs is None:
            return False
    return _ORDERING[comparator](lhs, rhs)


_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


# --- evaluation -------------------------------------------------------------------------------


def attribute_value(info: TraceInfo, key: str) -> Any:
    """A trace attribute as MLflow's SQL store sees it (``end_time_ms`` derived)."""
    if key == "request_id":
        return info.trace_id
    if key == "end_time_ms":
        return info.timestamp_ms + (info.execution_time_ms or 0)
    if key == "experiment_id":
        return int(info.experiment_id) if str(info.experiment_id).isdigit() else info.experiment_id
    return getattr(info, key, None)


def _map_clause(info: TraceInfo, clause: TraceClause, extras: TraceExtras) -> bool:
    kind, key, op, value = clause.kind, clause.key, clause.comparator, clause.value
    if kind == "attribute":
        return compare(attribute_value(info, key), op, value)
    source = info.tags if kind == "tag" else info.metadata
    if op == "IS NULL":
        return key not in source
    if op == "IS NOT NULL":
        return key in source
    if kind == "tag" and key == LINKED_PROMPTS_TAG:
        return value in _linked_prompts(info, extras)
    if kind == "metadata" and key == SOURCE_RUN_KEY and op == "=":
        return source.get(key) == value or value in extras.linked_runs.get(info.trace_id, ())
    return compare(source.get(key), op, value)


def _linked_prompts(info: TraceInfo, extras: TraceExtras) -> frozenset[str]:
    if extras.linked_prompts is not None:
        return extras.linked_prompts.get(info.trace_id, frozenset())
    try:
        items = json.loads(info.tags.get(LINKED_PROMPTS_TAG, "[]"))
        return frozenset(f"{item['name']}/{item['version']}" for item in items)
    except (ValueError, TypeError, KeyError):
        return frozenset()


def _span_matches(span: SpanRow, clause: TraceClause) -> bool:
    key, op, value = clause.key, clause.comparator, clause.value
    if key == "content":
        return compare(span.content, op, value)
    if key.startswith("attributes."):
        attr = key[len("attributes.") :].strip("`")
        if op == "RLIKE":
            prefix, body, suffix = '"\\\\".*', value, ""
            if body.startswith("^"):
                prefix, body = '"\\\\"', body[1:]
            if body.endswith("$"):
                suffix, body = '\\\\"', body[:-1]
            return compare(span.content, op, f'"{attr}": {prefix}{body}{suffix}')
        return compare(span.content, op, f'%"{attr}"{value}%')
    column = {"name": span.name, "type": span.span_type, "status": span.status}[key]
    return compare(column, op, value)


def _assessment_matches(assessment: Assessment, op: str, value: Any) -> bool:
    if op in (">", ">=", "<", "<="):
        raw = assessment.value
        numeric = isinstance(raw, int | float) and not isinstance(raw, bool)
        if not numeric or not math.isfinite(float(raw)):
            return False
        number = _to_number(value)
        return number is not None and _ORDERING[op](float(raw), number)
    text = json.dumps(assessment.value)
    if op in ("=", "!="):
        equal = text == value or text == json.dumps(value)
        return equal if op == "=" else not equal
    return compare(text, op, value)


def _assessment_clause(info: TraceInfo, clause: TraceClause, extras: TraceExtras) -> bool:
    assessments = extras.assessments.get(info.trace_id, ())
    if clause.kind == "issue":
        return any(a.kind == "issue" and a.name == clause.value for a in assessments)
    relevant = [
        a for a in assessments if a.kind == clause.kind and a.name == clause.key and a.valid
    ]
    if clause.comparator == "IS NULL":
        return not relevant
    if clause.comparator == "IS NOT NULL":
        return bool(relevant)
    return any(_assessment_matches(a, clause.comparator, clause.value) for a in relevant)


def needs_spans(clauses: Sequence[TraceClause]) -> bool:
    return any(c.kind == "span" for c in clauses)


def needs_assessments(clauses: Sequence[TraceClause]) -> bool:
    return any(c.kind in ("feedback", "expectation", "issue") for c in clauses)


def trace_matches(info: TraceInfo, clauses: Sequence[TraceClause], extras: TraceExtras) -> bool:
    """All clauses hold; span clauses must all hold on one and the same span (as in MLflow)."""
    span_clauses = []
    for clause in clauses:
        if clause.kind == "span":
            span_clauses.append(clause)
        elif clause.kind in ("feedback", "expectation", "issue"):
            if not _assessment_clause(info, clause, extras):
                return False
        elif not _map_clause(info, clause, extras):
            return False
    if span_clauses:
        spans = extras.spans.get(info.trace_id, ())
        return any(all(_span_matches(s, c) for c in span_clauses) for s in spans)
    return True


def filter_traces(
    infos: Sequence[TraceInfo], filter_string: str, extras: TraceExtras | None = None
) -> list[TraceInfo]:
    """The trace infos matching ``filter_string`` (MLflow's grammar)."""
    clauses = parse_trace_filter(filter_string)
    if not clauses:
        return list(infos)
    extras = extras or TraceExtras()
    return [info for info in infos if trace_matches(info, clauses, extras)]


def _sort_value(info: TraceInfo, kind: str, key: str) -> Any:
    if kind == "attribute":
        return attribute_value(info, key)
    return (info.tags if kind == "tag" else info.metadata).get(key)


def sort_traces(infos: Sequence[TraceInfo], order_by: Sequence[str] = ()) -> list[TraceInfo]:
    """Sorted as MLflow's SQL store sorts: NULLs last, then timestamp DESC, request_id."""
    keys = parse_trace_order_by(order_by)

    def sort_key(info: TraceInfo) -> tuple[Any, ...]:
        parts: list[Any] = []
        for kind, key, ascending in keys:
            value = _sort_value(info, kind, key)
            parts.append(value is None)
            parts.append(0 if value is None else (value if ascending else Descending(value)))
        return tuple(parts)

    return sorted(infos, key=sort_key)
