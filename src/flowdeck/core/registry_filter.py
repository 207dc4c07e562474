"""MLflow's registered-model filter grammar: parsed by MLflow, evaluated here over RegisteredModels."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flowdeck.core.entities import Page, RegisteredModel
from flowdeck.core.errors import InvalidFilter
from flowdeck.core.paging import decode_offset_token, offset_page

PROMPT_TAG = "mlflow.prompt.is_prompt"
PROMPT_FILTER = f"tags.`{PROMPT_TAG}` = 'true'"


def parse_model_filter(filter_string: str) -> list[dict[str, Any]]:
    """MLflow's parsed clauses (comparators upper-cased); ``InvalidFilter`` for bad text."""
    if not filter_string or not filter_string.strip():
        return []
    from mlflow.utils.search_utils import SearchModelUtils  # slow import: keep it lazy

    try:
        parsed = SearchModelUtils.parse_search_filter(filter_string)
    except Exception as exc:
        raise InvalidFilter(f"Invalid model filter: {getattr(exc, 'message', exc)}") from exc
    for clause in parsed:
        clause["comparator"] = clause["comparator"].upper()
        allowed = ("=", "!=", "LIKE", "ILIKE") + (
            ("IN", "NOT IN") if clause["type"] != "tag" else ()
        )
        if clause["type"] == "attribute" and clause["key"] != "name":
            raise InvalidFilter(f"Invalid attribute name: {clause['key']}")
        if clause["type"] not in ("attribute", "tag") or clause["comparator"] not in allowed:
            raise InvalidFilter(f"Invalid comparator for {clause['type']}: {clause['comparator']}")
    return parsed


def model_matches(model: RegisteredModel, clauses: list[dict[str, Any]]) -> bool:
    """True when the model satisfies every clause of ``parse_model_filter``."""
    from flowdeck.core.trace_filter import compare

    for clause in clauses:
        lhs = model.name if clause["type"] == "attribute" else model.tags.get(clause["key"])
        if not compare(lhs, clause["comparator"], clause["value"]):
            return False
    return True


def mentions_prompt_tag(clauses: list[dict[str, Any]]) -> bool:
    """True when a clause looks at the ``mlflow.prompt.is_prompt`` tag."""
    return any(clause["type"] == "tag" and clause["key"] == PROMPT_TAG for clause in clauses)


def filter_models(
    models: Iterable[RegisteredModel], filter_string: str, page_token: str | None, max_results: int
) -> Page[RegisteredModel]:
    """One page of the models matching the filter, ordered by name (MLflow's offset tokens).

    The filter and token are checked before anything else, so bad ones fail even when there
    are no models.
    """
    clauses = parse_model_filter(filter_string)
    offset = decode_offset_token(page_token)
    matching = sorted(
        (model for model in models if model_matches(model, clauses)), key=lambda m: m.name
    )
    return offset_page(matching, offset, max_results)
