"""The linear LIKE matcher agrees with SQLite, MLflow's FileStore and a DP reference."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flowdeck.core.errors import InvalidFilter
from flowdeck.core.like_match import (
    FILES,
    MYSQL,
    PLAIN,
    POSTGRES,
    SQLITE,
    compile_like,
    fold_case,
    like_match,
)

# Letters whose case folding differs between SQLite, Python's re and plain lower case.
ALPHABET = "abAB%_\\\nñÑſsSKkİiıß"
texts = st.text(alphabet=ALPHABET, max_size=12)
patterns = st.text(alphabet=ALPHABET, max_size=8)


def dp_like(text: str, pattern: str, escape: str | None = None, ignore_case: bool = False) -> bool:
    """Textbook dynamic-programming LIKE: the reference for the plain and PostgreSQL rules."""
    tokens: list[tuple[str, str]] = []  # ("%", ""), ("_", ""), ("lit", char)
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if escape and char == escape:
            tokens.append(("lit", pattern[index + 1]))
            index += 2
            continue
        tokens.append((char, "") if char in "%_" else ("lit", char))
        index += 1
    if ignore_case:
        text = fold_case(text, "unicode" if escape else "regex")
        tokens = [(kind, fold_case(c, "unicode" if escape else "regex")) for kind, c in tokens]
    reach = [True] + [False] * len(text)  # reach[j]: tokens so far match text[:j]
    for kind, char in tokens:
        if kind == "%":
            reach = [any(reach[: j + 1]) for j in range(len(text) + 1)]
        else:
            reach = [False] + [
                reach[j] and (kind == "_" or text[j] == char) for j in range(len(text))
            ]
    return reach[-1]


@pytest.fixture(scope="module")
def sqlite() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    connection.execute("PRAGMA case_sensitive_like = true")  # as MLflow's SQL store sets it
    yield connection
    connection.close()


@settings(max_examples=1500, deadline=None)
@given(text=texts, pattern=patterns)
@example(text="a\nb", pattern="a%b")
@example(text="abc", pattern="a%%c")
def test_plain_rules_agree_with_dynamic_programming(text: str, pattern: str) -> None:
    assert like_match(text, pattern, rules=PLAIN) is dp_like(text, pattern)
    assert like_match(text, pattern, True, PLAIN) is dp_like(text, pattern, ignore_case=True)


@settings(max_examples=1500, deadline=None)
@given(text=texts, pattern=patterns)
@example(text="ñ", pattern="%Ñ%")
@example(text="100%", pattern="100\\%")
def test_sqlite_rules_agree_with_sqlite(
    sqlite: sqlite3.Connection, text: str, pattern: str
) -> None:
    like, ilike = sqlite.execute(
        "SELECT ? LIKE ?, lower(?) LIKE lower(?)", (text, pattern, text, pattern)
    ).fetchone()
    assert like_match(text, pattern, rules=SQLITE) is bool(like)
    assert like_match(text, pattern, True, SQLITE) is bool(ilike)


@settings(max_examples=1500, deadline=None)
@given(text=texts, pattern=patterns)
@example(text="ab\n", pattern="ab")
@example(text="a\nb", pattern="a%")
@example(text="a\nb", pattern="%b")
@example(text="K", pattern="k")
def test_file_rules_agree_with_mlflow_file_store(text: str, pattern: str) -> None:
    from mlflow.utils.search_utils import _ilike, _like

    assert like_match(text, pattern, rules=FILES) is _like(text, pattern)
    assert like_match(text, pattern, True, FILES) is _ilike(text, pattern)


@settings(max_examples=1000, deadline=None)
@given(text=texts, pattern=patterns)
def test_postgres_rules_treat_backslash_as_escape(text: str, pattern: str) -> None:
    if pattern.replace("\\\\", "").endswith("\\"):
        with pytest.raises(InvalidFilter, match="escape"):
            compile_like(pattern, POSTGRES)
        return
    assert like_match(text, pattern, rules=POSTGRES) is dp_like(text, pattern, "\\")
    assert like_match(text, pattern, True, POSTGRES) is dp_like(text, pattern, "\\", True)


def test_ilike_folds_non_ascii_only_where_the_backend_does() -> None:
    assert not like_match("señor", "%Ñ%", True, SQLITE)
    assert like_match("SEÑOR", "%ñ%", False, SQLITE) is False
    assert like_match("señor", "%Ñ%", True, POSTGRES)
    assert like_match("señor", "%Ñ%", True, FILES)
    assert like_match("Señor", "señor", True, SQLITE)


# (pattern, a long text it does not match, the same text made to match)
ADVERSARIAL = [
    ("%a%a%b", "a" * 10_000, "a" * 10_000 + "b"),
    ("%a%a%a%a%a%b", "a" * 12_000, "a" * 12_000 + "b"),
    ("%,%,%,%x", '{"a": 1, ' * 1_500 + "}", '{"a": 1, ' * 1_500 + "x"),
    ("%a_a_a%a_a_b", "a" * 20_000, "a" * 20_000 + "b"),
    ("%_%_%_%_%_%b", "a" * 20_000, "a" * 20_000 + "b"),
    ("a%" * 30 + "b", "a" * 15_000, "a" * 15_000 + "b"),
]


@pytest.mark.parametrize(("pattern", "miss", "hit"), ADVERSARIAL)
@pytest.mark.parametrize("rules", [PLAIN, SQLITE, FILES, POSTGRES, MYSQL], ids=lambda r: r.name)
def test_adversarial_patterns_over_long_texts_complete(pattern, miss, hit, rules) -> None:
    # A backtracking matcher needs minutes to hours for each of these; this one is linear.
    assert not like_match(miss, pattern, rules=rules)
    assert not like_match(miss, pattern.upper(), True, rules)
    assert like_match(hit, pattern, rules=rules)
    assert like_match(hit, pattern.upper(), True, rules)


def test_line_breaks_stop_wildcards_only_in_the_file_store() -> None:
    text = ("a" * 50 + "\n") * 400 + "b"
    assert like_match(text, "%a\n%a%b", rules=SQLITE)
    assert not like_match(text, "%a\n%a%b", rules=FILES)  # MLflow's regex: . stops at \n


def test_cancelled_evaluation_stops_between_texts() -> None:
    import numpy as np

    from flowdeck.core.errors import Cancelled
    from flowdeck.core.run_filter import FilterScope, match_text
    from flowdeck.core.task_state import TaskState

    state = TaskState()
    values = np.array(["a" * 6_000] * 10_000, dtype=object)
    state.cancel()
    with pytest.raises(Cancelled):
        match_text(values, "LIKE", "%a%a%b", FilterScope(SQLITE, state))
