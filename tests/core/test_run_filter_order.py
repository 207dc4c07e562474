"""Unit tests of the run filter, order_by and frame pivot on hand-made run tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from flowdeck.core.errors import InvalidFilter
from flowdeck.core.like_match import SQLITE, like_match
from flowdeck.core.run_filter import parse_run_filter
from flowdeck.core.run_order import parse_order_by
from flowdeck.core.run_tables import RunTables
from flowdeck.core.runs_frame import BASE_COLUMNS, build_runs_frame

MAX = 1.7976931348623157e308


def make_tables() -> RunTables:
    runs = pd.DataFrame(
        {
            "run_id": ["a", "b", "c", "d"],
            "experiment_id": ["1"] * 4,
            "run_name": ["alpha", "beta", "gamma", None],
            "status": ["FINISHED", "FAILED", "RUNNING", "FINISHED"],
            "user_id": ["u", "u", None, "v"],
            "artifact_uri": ["s3://x/a", "s3://x/b", "s3://x/c", "s3://x/d"],
            "start_time": pd.array([3000, 1000, 2000, 2000], dtype="Int64"),
            "end_time": pd.array([3500, 1500, None, 2500], dtype="Int64"),
            "lifecycle_stage": ["active"] * 4,
        }
    )
    metrics = pd.DataFrame(
        {
            "run_id": ["a", "b", "c", "x-outside"],
            "key": ["loss", "loss", "loss", "loss"],
            "value": [0.5, math.nan, MAX, 1.0],
            "step": 0,
            "timestamp": 0,
        }
    )
    params = pd.DataFrame(
        {"run_id": ["a", "b", "c"], "key": ["lr", "lr", "opt"], "value": ["0.1", "0.01", "Adam"]}
    )
    tags = pd.DataFrame(
        {
            "run_id": ["a", "b", "c", "d"],
            "key": ["mlflow.runName"] * 4,
            "value": ["alpha", "beta", "gamma", "delta"],
        }
    )
    return RunTables(runs, metrics, params, tags)


def run_ids(filter_string: str = "", order_by=()) -> list[str]:
    return list(build_runs_frame(make_tables(), filter_string, order_by)["run_id"])


@pytest.mark.parametrize(
    "bad",
    [
        "metrics.loss LIKE 1",
        "metrics.loss = 'x'",
        "params.lr > '1'",
        "status IS NULL",
        "foo.bar = 1",
        "params.lr = '1' OR params.lr = '2'",
        "run_name IN ('a')",
        "attributes.nonsense = 'x'",
        "params.lr = 1",
    ],
)
def test_bad_filters_raise_invalid_filter_like_mlflow(bad):
    from mlflow.exceptions import MlflowException
    from mlflow.utils.search_utils import SearchUtils

    with pytest.raises(InvalidFilter) as caught:
        build_runs_frame(make_tables(), bad)
    assert caught.value.message.startswith("Invalid filter: ")
    assert "INVALID_PARAMETER_VALUE" not in caught.value.message
    assert caught.value.detail == bad
    with pytest.raises(MlflowException):  # MLflow rejects it too (parse or SQL-store check)
        for clause in SearchUtils.parse_search_filter(bad):
            SearchUtils.is_metric(clause["type"], clause["comparator"].upper())
            SearchUtils.is_param(clause["type"], clause["comparator"].upper())
            SearchUtils.is_tag(clause["type"], clause["comparator"].upper())


@pytest.mark.parametrize(
    "bad",
    [
        ["metrics.loss SIDEWAYS"],
        ["datasets.name"],
        ["metrics.a", "metrics.a DESC"],
        ["created", "start_time"],
    ],
)
def test_bad_order_by_raises_invalid_filter(bad):
    with pytest.raises(InvalidFilter, match="Invalid order_by"):
        parse_order_by(bad)


def test_aliases_and_comparators_are_normalised():
    clauses = parse_run_filter("created > 5 and `Run name` like 'x%' AND metrics.m != 2")
    assert [(c.kind, c.key, c.comparator, c.value) for c in clauses] == [
        ("attribute", "start_time", ">", 5),
        ("attribute", "run_name", "LIKE", "x%"),
        ("metric", "m", "!=", 2.0),
    ]


def test_like_wildcards_are_sql_ones():
    def like(pattern: str, text: str, ignore_case: bool = False) -> bool:
        return like_match(text, pattern, ignore_case, SQLITE)

    assert like("a%c", "abbbc")
    assert like("a_c", "a\nc")  # '_' is any one character, newline too
    assert not like("a_c", "abbc")
    assert not like("A%", "abc")  # LIKE is case-sensitive
    assert like("a.c", "a.c") and not like("a.c", "abc")
    assert like("%", "", ignore_case=True)


def test_nan_metric_matches_only_not_equal():
    assert run_ids("metrics.loss != 0.5") == ["c", "b"]
    assert run_ids("metrics.loss < 100") == ["a"]
    assert run_ids("metrics.loss >= 0") == ["a", "c"]


def test_missing_values_never_match_comparisons():
    assert run_ids("params.lr != '0.1'") == ["b"]
    assert run_ids("attributes.end_time != 0") == ["a", "d", "b"]
    assert run_ids("attributes.user_id != 'u'") == ["d"]
    assert run_ids("params.lr IS NULL") == ["c", "d"]
    assert run_ids("params.opt ILIKE 'adam'") == ["c"]
    assert run_ids("params.opt LIKE 'adam'") == []


def test_run_name_filters_on_the_run_name_tag():
    assert run_ids("run_name = 'delta'") == ["d"]


def test_default_order_is_start_time_desc_then_run_id():
    assert run_ids() == ["a", "c", "d", "b"]


def test_metric_order_puts_nan_then_missing_last_both_ways():
    assert run_ids(order_by=["metrics.loss"]) == ["a", "c", "b", "d"]
    assert run_ids(order_by=["metrics.loss DESC"]) == ["c", "a", "b", "d"]


def test_text_order_puts_missing_last_both_ways():
    assert run_ids(order_by=["params.lr"]) == ["b", "a", "c", "d"]
    assert run_ids(order_by=["params.lr DESC"]) == ["a", "b", "c", "d"]
    assert run_ids(order_by=["attributes.run_name DESC"]) == ["c", "b", "a", "d"]


def test_frame_columns_dtypes_and_missing_values():
    frame = build_runs_frame(make_tables())
    assert list(frame.columns) == BASE_COLUMNS + [
        "metrics.loss",
        "params.lr",
        "params.opt",  # first seen on the second row
        "tags.mlflow.runName",
    ]
    assert str(frame["start_time"].dtype) == "datetime64[us, UTC]"
    assert frame["end_time"].isna().tolist() == [False, True, False, False]
    assert frame["metrics.loss"].dtype == np.float64
    assert frame["params.lr"].isna().tolist() == [False, True, True, False]
    assert frame["params.lr"].dtype == pd.Series(["x"]).dtype


def test_empty_result_has_only_the_base_columns():
    frame = build_runs_frame(make_tables(), "params.lr = 'nope'")
    assert list(frame.columns) == BASE_COLUMNS and len(frame) == 0
    assert set(frame.dtypes) == {np.dtype("float64")}  # what search_runs returns


def test_all_missing_end_times_are_naive_nat_like_search_runs():
    frame = build_runs_frame(make_tables(), "status = 'RUNNING'")
    assert frame["end_time"].dtype == np.dtype("datetime64[s]") and frame["end_time"].isna().all()


def test_max_results_truncates_after_ordering():
    assert list(build_runs_frame(make_tables(), "", ["metrics.loss"], 2)["run_id"]) == ["a", "c"]
