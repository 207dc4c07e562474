"""Plain-language filter problems with positions, and the completion context under the cursor."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdeck.core.filter_check import (
    ATTRIBUTES,
    CLAUSE_START,
    METRICS,
    PARAMS,
    TAGS,
    check_run_filter,
    completions_for,
    identifier_at,
    quote_key,
)
from flowdeck.core.run_filter import parse_run_filter


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "metrics.loss < 0.5 and params.lr = '0.01'",
        "metrics.`val loss` >= 1e-3",
        "tags.team LIKE 'vision%' AND attributes.status = 'FINISHED'",
        "run_name = 'x'",
        "params.x IS NULL",
    ],
)
def test_filters_mlflow_accepts_have_no_problem(text: str) -> None:
    assert check_run_filter(text) is None


@pytest.mark.parametrize(
    ("text", "words", "points_at"),
    [
        ("metrics.loss < 0.5 or params.x = '1'", "OR is not supported", "or params"),
        ("params.lr = 0.01", "quoted text", "0.01"),
        ("metrics.loss < 'a'", "must be numbers", "a'"),
        ("params.lr = '0.01", "not closed", "'0.01"),
        ("tags.`a b = 'x'", "not closed", "`a b"),
        ("foo.bar = 1", "Unknown prefix", "foo.bar"),
        ("attributes.colour = 'x'", "Unknown run attribute", "colour"),
        ("params.lr > '1'", "cannot be used here", "> '1'"),
        ("metrics.loss < 1 and metrics", "Incomplete", "metrics"),
        ("(metrics.loss < 1)", "Parentheses", "(metrics"),
        ("metrics.val-loss < 1", "backticks", "metrics.val-loss"),
        ("metrics.loss IS NULL", "params and tags", "IS NULL"),
    ],
)
def test_bad_filters_explained_with_position(text: str, words: str, points_at: str) -> None:
    problem = check_run_filter(text)
    assert problem is not None
    assert words in problem.message
    assert problem.position is not None
    assert text[problem.position :].startswith(points_at)


def test_comparator_problem_lists_the_allowed_ones() -> None:
    problem = check_run_filter("params.lr > '1'")
    assert problem is not None
    assert "LIKE" in problem.message and "!=" in problem.message


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="metrics.params`'\"<>=! andor()%_0123456789", max_size=40))
def test_check_never_raises_and_agrees_with_the_parser(text: str) -> None:
    problem = check_run_filter(text)
    try:
        parse_run_filter(text)
        accepted = True
    except Exception:
        accepted = False
    if problem is not None and problem.position is not None:
        assert 0 <= problem.position < len(text)
    # Quote checks may only reject what MLflow rejects too.
    assert (problem is None) == accepted


@pytest.mark.parametrize(
    ("text", "kind", "partial"),
    [
        ("", CLAUSE_START, ""),
        ("me", CLAUSE_START, "me"),
        ("metrics.", METRICS, ""),
        ("metrics.lo", METRICS, "lo"),
        ("metric.lo", METRICS, "lo"),
        ("metrics.`val l", METRICS, "`val l"),
        ("metrics.loss < 1 and pa", CLAUSE_START, "pa"),
        ("metrics.loss < 1 AND params.l", PARAMS, "l"),
        ("metrics.loss < 1 and tags.`a", TAGS, "`a"),
        ("attr.st", ATTRIBUTES, "st"),
        ("metrics.loss < ", None, ""),
        ("metrics.loss <", None, ""),
        ("params.x = 'metrics.", None, ""),
        ("params.x = 'a' ", None, ""),
    ],
)
def test_identifier_at_end(text: str, kind: str | None, partial: str) -> None:
    assert identifier_at(text, len(text)) == (kind, partial)


def test_identifier_at_uses_the_cursor_not_the_end() -> None:
    text = "metrics.lo < 1 and params.lr = '1'"
    assert identifier_at(text, len("metrics.lo")) == (METRICS, "lo")
    assert identifier_at(text, 10_000) == (None, "")


def test_quote_key_backticks_only_what_needs_it() -> None:
    assert quote_key("loss") == "loss"
    assert quote_key("train.loss") == "train.loss"
    assert quote_key("val loss") == "`val loss`"
    assert quote_key("val-loss") == "`val-loss`"
    assert quote_key("<b>x</b>") == "`<b>x</b>`"
    # Every quoted key round-trips through MLflow's parser.
    for key in ("val loss", "val-loss", "a/b", "x.1", "<b>x</b>", "loss"):
        clauses = parse_run_filter(f"metrics.{quote_key(key)} < 1")
        assert clauses[0].key == key


def test_completions_for_each_context() -> None:
    metrics, params, tags = ["loss", "val loss"], ["lr"], ["team"]
    assert completions_for(METRICS, metrics, params, tags) == ["loss", "`val loss`"]
    assert completions_for(PARAMS, metrics, params, tags) == ["lr"]
    assert completions_for(TAGS, metrics, params, tags) == ["team"]
    start = completions_for(CLAUSE_START, metrics, params, tags)
    assert {"metrics.", "params.", "tags.", "attributes.", "status", "run_name"} <= set(start)
    assert completions_for(None, metrics, params, tags) == []
