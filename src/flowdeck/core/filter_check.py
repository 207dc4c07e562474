"""Plain-language checks of MLflow run filters and the key context under a text cursor."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from flowdeck.core.errors import InvalidFilter
from flowdeck.core.run_filter import parse_run_filter

METRICS = "metrics"
PARAMS = "params"
TAGS = "tags"
ATTRIBUTES = "attributes"
DATASETS = "datasets"
CLAUSE_START = "clause"  # the start of a clause: a prefix or an unprefixed attribute name

PREFIX_ALIASES: dict[str, str] = {
    "metric": METRICS,
    "metrics": METRICS,
    "parameter": PARAMS,
    "parameters": PARAMS,
    "param": PARAMS,
    "params": PARAMS,
    "tag": TAGS,
    "tags": TAGS,
    "attribute": ATTRIBUTES,
    "attributes": ATTRIBUTES,
    "attr": ATTRIBUTES,
    "run": ATTRIBUTES,
    "dataset": DATASETS,
    "datasets": DATASETS,
}
PREFIXES = ("metrics.", "params.", "tags.", "attributes.", "datasets.")
ATTRIBUTE_NAMES = (
    "run_name",
    "status",
    "start_time",
    "end_time",
    "user_id",
    "run_id",
    "artifact_uri",
)
DATASET_FIELDS = ("name", "digest", "context")

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_QUOTED = re.compile(r"'([^']*)'")


@dataclass(frozen=True)
class FilterProblem:
    """Why a filter is invalid, in plain words; ``position`` is a character index or None."""

    message: str
    position: int | None = None


class CursorContext(NamedTuple):
    """What kind of name the cursor is typing (a ``*`` constant above, or None) and its text."""

    kind: str | None
    partial: str


def quote_key(key: str) -> str:
    """The key as it must appear in a filter: backticks unless it is a plain identifier."""
    if _PLAIN_KEY.fullmatch(key) or "`" in key:
        return key
    return f"`{key}`"


def check_run_filter(text: str) -> FilterProblem | None:
    """None when MLflow accepts ``text``; otherwise what is wrong and where. Never raises."""
    try:
        return _unbalanced_quote(text) or _parse_problem(text)
    except Exception as exc:  # a parser bug must not take the filter box down
        return FilterProblem(f"This filter cannot be read ({exc}).")


def _parse_problem(text: str) -> FilterProblem | None:
    try:
        parse_run_filter(text)
    except InvalidFilter as exc:
        return _explain(text, exc.message.removeprefix("Invalid filter: "))
    return None


def _unbalanced_quote(text: str) -> FilterProblem | None:
    open_quote: str | None = None
    opened_at = 0
    for index, char in enumerate(text):
        if open_quote is None and char in "'\"`":
            open_quote, opened_at = char, index
        elif char == open_quote:
            open_quote = None
    if open_quote is None:
        return None
    what = "key" if open_quote == "`" else "value"
    return FilterProblem(f"A quoted {what} is not closed: add the closing {open_quote}.", opened_at)


def _explain(text: str, message: str) -> FilterProblem:
    fragments = [m.group(1) for m in _QUOTED.finditer(message)]
    first = fragments[0] if fragments else ""

    if message.startswith("Invalid clause(s)"):
        lowered = [f.lower() for f in fragments]
        if "or" in lowered:
            return FilterProblem(
                "OR is not supported: conditions can only be joined with AND.",
                _find_word(text, "or"),
            )
        if any(f.startswith("(") for f in fragments):
            return FilterProblem(
                "Parentheses are not supported: write conditions joined with AND.",
                text.find("("),
            )
        shown = " ".join(fragments)
        return FilterProblem(
            f"Incomplete or unrecognised condition near “{shown}”. "
            "Write conditions like metrics.loss < 0.5 or params.lr = '0.01'.",
            _find_last_token(text, first),
        )
    if message.startswith("Invalid entity type"):
        return FilterProblem(
            f"Unknown prefix “{first}.”: use metrics., params., tags., attributes. or datasets.",
            _find(text, first + "."),
        )
    if message.startswith("Invalid attribute key"):
        return FilterProblem(
            f"Unknown run attribute “{first}”: use one of {', '.join(ATTRIBUTE_NAMES)}, "
            "or a prefix such as params.",
            _find(text, first),
        )
    if message.startswith("Invalid dataset key"):
        return FilterProblem(
            f"Unknown dataset field “{first}”: use one of {', '.join(DATASET_FIELDS)}.",
            _find(text, first),
        )
    if message.startswith("Invalid comparator"):
        allowed = sorted(set(re.findall(r"'([A-Z!=<>]+(?: [A-Z]+)*)'", message)) - {first})
        return FilterProblem(
            f"“{first}” cannot be used here; use one of: {', '.join(allowed)}.",
            _find(text, first),
        )
    if message.startswith("Expected numeric value"):
        match = re.search(r"Found '(.*)'$", message)
        found = match.group(1) if match else first
        subject = "Metric" if "metric" in message else "This attribute's"
        return FilterProblem(
            f"{subject} values must be numbers without quotes (found “{found}”).",
            _find(text, found),
        )
    if message.startswith("Expected a quoted string value"):
        found = message.rsplit("Got value ", 1)[-1]
        if found.startswith("("):
            return FilterProblem(
                "IN (...) lists only work for attributes.run_id and datasets fields; "
                "params and tags compare with one quoted value.",
                _find_word(text, "in"),
            )
        return FilterProblem(
            f"Values of params and tags must be quoted text, e.g. params.lr = '0.01' "
            f"(found {found}).",
            _find(text, found),
        )
    if message.startswith("Invalid comparison clause"):
        return FilterProblem(
            "Keys with spaces or special characters need backticks, e.g. metrics.`val-loss` < 1.",
            _find(text, fragments[-1]) if fragments else None,
        )
    if message.startswith("IS NULL"):
        return FilterProblem(
            "IS NULL / IS NOT NULL only works for params and tags.", _find_word(text, "is")
        )
    return FilterProblem(message[:1].upper() + message[1:], _find(text, first) if first else None)


def _find(text: str, fragment: str) -> int | None:
    if not fragment:
        return None
    index = text.find(fragment)
    return index if index >= 0 else None


def _find_last_token(text: str, token: str) -> int | None:
    """Where the last whitespace-delimited occurrence of ``token`` starts."""
    matches = list(re.finditer(rf"(?<!\S){re.escape(token)}(?!\S)", text)) if token else []
    return matches[-1].start() if matches else _find(text, token)


def _find_word(text: str, word: str) -> int | None:
    match = re.search(rf"(?<![\w.`'\"]){re.escape(word)}(?![\w.`'\"])", text, re.IGNORECASE)
    return match.start() if match else None


def identifier_at(text: str, cursor: int) -> CursorContext:
    """The kind of name being typed before ``cursor`` and the typed part of it.

    After ``metrics.`` the kind is METRICS (likewise PARAMS, TAGS, ATTRIBUTES, DATASETS) and the
    partial is what follows the dot, including an opening backtick; where a clause begins it is
    CLAUSE_START; inside a value or after a comparator it is None.
    """
    before = text[: max(0, min(cursor, len(text)))]
    if _inside_value(before):
        return CursorContext(None, "")
    if before.count("`") % 2 == 1:
        tick = before.rindex("`")
        prefix = re.search(r"([A-Za-z]+)\.$", before[:tick])
        if prefix and _starts_clause(before[: prefix.start()]):
            kind = PREFIX_ALIASES.get(prefix.group(1).lower())
            return CursorContext(kind, before[tick:] if kind else "")
        return CursorContext(None, "")
    dotted = re.search(r"([A-Za-z]+)\.([\w.]*)$", before)
    if dotted and _starts_clause(before[: dotted.start()]):
        kind = PREFIX_ALIASES.get(dotted.group(1).lower())
        if kind:
            return CursorContext(kind, dotted.group(2))
    word = re.search(r"[\w.]*$", before)
    assert word is not None  # matches the empty string at least
    if _starts_clause(before[: word.start()]):
        return CursorContext(CLAUSE_START, word.group(0))
    return CursorContext(None, "")


def _inside_value(before: str) -> bool:
    open_quote: str | None = None
    for char in before:
        if open_quote is None and char in "'\"":
            open_quote = char
        elif char == open_quote:
            open_quote = None
    return open_quote is not None


def _starts_clause(head: str) -> bool:
    """True when the text ``head`` ends where a new clause may begin."""
    if not head.strip():
        return True
    if not head[-1].isspace():
        return False
    return re.search(r"(^|\s)and$", head.rstrip(), re.IGNORECASE) is not None


def completions_for(
    kind: str | None, metrics: list[str], params: list[str], tags: list[str]
) -> list[str]:
    """What to offer for a cursor context: quoted keys, prefixes or attribute names."""
    if kind == METRICS:
        return [quote_key(k) for k in metrics]
    if kind == PARAMS:
        return [quote_key(k) for k in params]
    if kind == TAGS:
        return [quote_key(k) for k in tags]
    if kind == ATTRIBUTES:
        return list(ATTRIBUTE_NAMES)
    if kind == DATASETS:
        return list(DATASET_FIELDS)
    if kind == CLAUSE_START:
        return [*PREFIXES, *ATTRIBUTE_NAMES]
    return []
