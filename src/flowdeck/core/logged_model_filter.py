"""MLflow's logged-model search grammar: parsed by MLflow, evaluated and sorted here."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from flowdeck.core.entities import LoggedModel, LoggedModelMetric
from flowdeck.core.errors import InvalidFilter
from flowdeck.core.like_match import like_match  # re-exported: the shared linear matcher
from flowdeck.core.sort_keys import Descending

#: Filter/order attribute names -> ``LoggedModel`` fields (MLflow's names and aliases).
ATTRIBUTE_FIELDS = {
    "name": "name",
    "model_id": "model_id",
    "model_type": "model_type",
    "status": "status",
    "source_run_id": "source_run_id",
    "creation_timestamp": "creation_time",
    "creation_time": "creation_time",
    "last_updated_timestamp": "last_updated_time",
    "last_updated_time": "last_updated_time",
}
NUMERIC_FIELDS = frozenset({"creation_time", "last_updated_time"})
NUMERIC_OPS = ("<", "<=", ">", ">=", "=", "!=")
STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
#: The field names MLflow's stores all understand in an ``order_by`` sent to a server.
SERVER_ORDER_NAMES = {
    "creation_time": "creation_timestamp",
    "last_updated_time": "last_updated_timestamp",
}
_KINDS = {"attribute": "attribute", "metric": "metric", "parameter": "param", "tag": "tag"}


@dataclass(frozen=True)
class ModelClause:
    """One ``<entity> <comparator> <value>`` clause; ``kind`` is attribute, metric, param or tag.

    For attributes ``key`` is the ``LoggedModel`` field name (aliases resolved).
    """

    kind: str
    key: str
    comparator: str
    value: Any


@dataclass(frozen=True)
class ModelOrder:
    """One sort key: an attribute field or a metric (optionally on one dataset)."""

    kind: str  # "attribute" or "metric"
    key: str
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


@cache
def _utils() -> Any:
    from mlflow.utils.search_utils import SearchLoggedModelsUtils  # slow import: keep it lazy

    return SearchLoggedModelsUtils


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc)


# --- parsing ----------------------------------------------------------------------------------


@lru_cache(maxsize=128)
def parse_logged_model_filter(filter_string: str) -> tuple[ModelClause, ...]:
    """Parse with MLflow's own parser, then check comparators as MLflow's SQL store does."""
    if not filter_string or not filter_string.strip():
        return ()
    try:
        parsed = _utils().parse_search_filter(filter_string)
    except Exception as exc:  # MlflowException and sqlparse errors alike
        raise InvalidFilter(f"Invalid logged model filter: {_message(exc)}") from exc
    return tuple(_clause(item) for item in parsed)


def _clause(item: dict[str, Any]) -> ModelClause:
    kind = _KINDS.get(item["type"])
    key, comparator, value = item["key"], item["comparator"].upper(), item["value"]
    if kind is None:
        raise InvalidFilter(f"Invalid logged model filter: '{item['type']}' cannot be searched.")
    if kind == "attribute":
        if key not in ATTRIBUTE_FIELDS:
            raise InvalidFilter(f"Invalid logged model search key '{key}'.")
        key = ATTRIBUTE_FIELDS[key]
    numeric = kind == "metric" or (kind == "attribute" and key in NUMERIC_FIELDS)
    allowed = NUMERIC_OPS if numeric else STRING_OPS
    if comparator not in allowed:
        raise InvalidFilter(
            f"Invalid comparison operator for {kind} '{key}': {comparator!r}. "
            f"Expected one of {', '.join(allowed)}."
        )
    if numeric:
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InvalidFilter(
                f"Invalid logged model filter: expected a number for {kind} '{key}', got {value!r}."
            ) from None
    return ModelClause(kind, key, comparator, value)


def _order_dict(item: str | Mapping[str, Any]) -> dict[str, Any]:
    """MLflow's ``{field_name, ascending, ...}`` form of a ``"field [ASC|DESC]"`` string."""
    if isinstance(item, Mapping):
        return dict(item)
    text = str(item).strip()
    ascending = True
    words = text.rsplit(None, 1)
    if len(words) == 2 and words[1].upper() in ("ASC", "DESC"):
        text, ascending = words[0].strip(), words[1].upper() == "ASC"
    if text.startswith("metrics."):
        key = text[len("metrics.") :].strip()
        if len(key) > 1 and key[0] == key[-1] and key[0] in "`\"'":
            key = key[1:-1]
        text = f"metrics.{key}"
    return {"field_name": text, "ascending": ascending}


def parse_logged_model_order_by(
    order_by: Sequence[str | Mapping[str, Any]] = (),
) -> list[ModelOrder]:
    """Sort keys, checked with MLflow's own rules, plus MLflow's tie-breakers.

    Each item is ``"field [ASC|DESC]"`` (``field`` an attribute or ``metrics.<key>``) or
    MLflow's ``{"field_name", "ascending", "dataset_name", "dataset_digest"}`` dict.
    """
    orders: list[ModelOrder] = []
    for item in order_by or ():
        try:
            parsed = _utils().parse_order_by_for_logged_models(_order_dict(item))
        except Exception as exc:
            raise InvalidFilter(f"Invalid logged model order_by {item!r}: {_message(exc)}") from exc
        name = parsed.field_name
        if name.startswith("metrics."):
            kind, key = "metric", name[len("metrics.") :]
        else:
            kind, key = "attribute", ATTRIBUTE_FIELDS[name]
        orders.append(
            ModelOrder(kind, key, parsed.ascending, parsed.dataset_name, parsed.dataset_digest)
        )
    fields = {(order.kind, order.key) for order in orders}
    if ("attribute", "creation_time") not in fields:
        orders.append(ModelOrder("attribute", "creation_time", False))
    if ("attribute", "model_id") not in fields:
        orders.append(ModelOrder("attribute", "model_id", True))
    return orders


def server_order_by(order_by: Sequence[str | Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """``order_by`` as the ``logged-models/search`` REST body wants it (checked first)."""
    parse_logged_model_order_by(order_by)
    payload = []
    for item in order_by or ():
        entry = _order_dict(item)
        name = str(entry["field_name"]).strip()
        entry["field_name"] = SERVER_ORDER_NAMES.get(name, name)
        entry.setdefault("ascending", True)
        payload.append({key: value for key, value in entry.items() if value is not None})
    return payload


# --- evaluation -------------------------------------------------------------------------------

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def compare(lhs: Any, comparator: str, rhs: Any) -> bool:
    """SQL semantics: a missing (None) or NaN left side never matches."""
    if lhs is None or (isinstance(lhs, float) and math.isnan(lhs)):
        return False
    if comparator == "LIKE":
        return like_match(str(lhs), str(rhs))
    if comparator == "ILIKE":
        return like_match(str(lhs), str(rhs), ignore_case=True)  # PLAIN rules
    if comparator == "IN":
        return lhs in rhs
    if comparator == "NOT IN":
        return lhs not in rhs
    return _ORDERING[comparator](lhs, rhs)


def model_matches(
    model: LoggedModel, clauses: Iterable[ModelClause], first_metric: bool = False
) -> bool:
    """All clauses hold. A metric clause holds when any value of that metric satisfies it
    (any step, run or dataset), as in MLflow's SQL store; with ``first_metric`` only the
    model's first value of that metric counts, as in MLflow's FileStore."""
    for clause in clauses:
        if clause.kind == "metric":
            values = [metric.value for metric in model.metrics if metric.key == clause.key]
            if first_metric:
                values = values[:1]
            ok = any(compare(value, clause.comparator, clause.value) for value in values)
        elif clause.kind == "param":
            ok = compare(model.params.get(clause.key), clause.comparator, clause.value)
        elif clause.kind == "tag":
            ok = compare(model.tags.get(clause.key), clause.comparator, clause.value)
        else:
            ok = compare(getattr(model, clause.key), clause.comparator, clause.value)
        if not ok:
            return False
    return True


def latest_metric(model: LoggedModel, order: ModelOrder) -> float | None:
    """The value MLflow sorts by: the metric's newest value (timestamp, then step) on the
    order's dataset, None when absent or NaN."""
    candidates = [
        metric
        for metric in model.metrics
        if metric.key == order.key
        and (not order.dataset_name or metric.dataset_name == order.dataset_name)
        and (not order.dataset_digest or metric.dataset_digest == order.dataset_digest)
    ]
    if not candidates:
        return None
    best = min(candidates, key=_newest_first)
    return None if best.value is None or math.isnan(best.value) else best.value


def metric_sort_key(metric: LoggedModelMetric) -> tuple[Any, ...]:
    """How stores list a model's metrics: by key, step, timestamp, dataset and run."""
    return (
        metric.key,
        metric.step,
        metric.timestamp or 0,
        metric.dataset_name or "",
        metric.dataset_digest or "",
        metric.run_id or "",
    )


def _newest_first(metric: LoggedModelMetric) -> tuple[Any, ...]:
    return (-(metric.timestamp or 0), -metric.step, metric.run_id or "")


def sort_logged_models(
    models: Iterable[LoggedModel], order_by: Sequence[str | Mapping[str, Any]] = ()
) -> list[LoggedModel]:
    """Sorted as MLflow's SQL store sorts: each key NULLs last, then creation time (newest
    first) and model id unless already named."""
    orders = parse_logged_model_order_by(order_by)

    def sort_key(model: LoggedModel) -> tuple[Any, ...]:
        parts: list[Any] = []
        for order in orders:
            if order.kind == "metric":
                value = latest_metric(model, order)
            else:
                value = getattr(model, order.key)
            parts.append(value is None)
            parts.append(0 if value is None else value if order.ascending else Descending(value))
        return tuple(parts)

    return sorted(models, key=sort_key)


def search_logged_models(
    models: Iterable[LoggedModel],
    filter_string: str = "",
    order_by: Sequence[str | Mapping[str, Any]] = (),
    *,
    first_metric: bool = False,
) -> list[LoggedModel]:
    """The active models matching ``filter_string``, in ``order_by`` order (MLflow's rules;
    ``first_metric`` as in ``model_matches``).

    The filter and order are checked before anything else, so bad ones fail on no models.
    """
    clauses = parse_logged_model_filter(filter_string or "")
    parse_logged_model_order_by(order_by)
    matching = [
        model
        for model in models
        if model.lifecycle_stage != "deleted" and model_matches(model, clauses, first_metric)
    ]
    return sort_logged_models(matching, order_by)
