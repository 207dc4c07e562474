"""Store contract, part 1: experiments and run tables, identical on every backend."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from tests.helpers.contract import (
    canonical_metric_columns,
    mlflow_search_runs,
    same_float,
)
from tests.helpers.scenario_runs import EXP_DOOMED, EXP_MAIN, EXP_SIDE
from tests.scenario import EXPERIMENT_DESCRIPTION, EXPERIMENT_TAGS, RUN_DURATION_MS

from flowdeck.store.base import EXPERIMENT_COLUMNS

LIVE = (EXP_MAIN, EXP_SIDE)


def _ids(scenario, names=LIVE) -> list[str]:
    return [scenario.experiment_ids[name] for name in names]


def _names_by_id(scenario) -> dict[str, str]:
    return {run_id: name for name, run_id in scenario.run_ids.items()}


def _frame_names(frame: pd.DataFrame, scenario) -> set[str]:
    names = _names_by_id(scenario)
    return {names.get(run_id, run_id) for run_id in frame["run_id"]}


def _row(frame: pd.DataFrame, run_id: str) -> pd.Series:
    rows = frame[frame["run_id"] == run_id]
    assert len(rows) == 1, f"run {run_id} appears {len(rows)} times"
    return rows.iloc[0]


# --- experiments ---------------------------------------------------------------------------


def test_experiments_have_the_contract_columns_and_ids(scenario_store):
    store, scenario = scenario_store
    frame = store.experiments()
    assert list(frame.columns) == EXPERIMENT_COLUMNS
    by_name = dict(zip(frame["name"], frame["experiment_id"], strict=True))
    for name in LIVE:
        assert by_name[name] == scenario.experiment_ids[name]
        assert isinstance(by_name[name], str)
    ids = list(frame["experiment_id"])
    assert ids == sorted(ids, key=lambda i: (len(i), i)), "experiments must be ordered by id"


@pytest.mark.parametrize(
    ("view", "present", "absent"),
    [
        ("active", {EXP_MAIN, EXP_SIDE, "Default"}, {EXP_DOOMED}),
        ("deleted", {EXP_DOOMED}, {EXP_MAIN, EXP_SIDE, "Default"}),
        ("all", {EXP_MAIN, EXP_SIDE, EXP_DOOMED, "Default"}, set()),
    ],
)
def test_experiment_views_follow_lifecycle(scenario_store, view, present, absent):
    store, _ = scenario_store
    frame = store.experiments(view=view)
    names = set(frame["name"])
    assert present <= names
    assert not (absent & names)
    stages = dict(zip(frame["name"], frame["lifecycle_stage"], strict=True))
    for name in present:
        assert stages[name] == ("deleted" if name == EXP_DOOMED else "active")


@pytest.mark.parametrize("view", ["active", "deleted", "all"])
def test_experiment_records_are_the_frame_as_plain_values(scenario_store, view):
    """What the sidebar lists before pandas loads equals the experiments frame, row by row."""
    store, scenario = scenario_store
    records = store.experiment_records(view=view)
    frame = store.experiments(view=view)
    assert [r["experiment_id"] for r in records] == list(frame["experiment_id"])
    for record, row in zip(records, frame.to_dict("records"), strict=True):
        assert list(record) == EXPERIMENT_COLUMNS
        for name in ("name", "artifact_location", "lifecycle_stage", "tags"):
            assert record[name] == row[name]
        for name in ("creation_time", "last_update_time"):
            assert record[name] is None or isinstance(record[name], int)
            assert record[name] == (None if pd.isna(row[name]) else row[name])
    if view != "deleted":
        main = next(r for r in records if r["name"] == EXP_MAIN)
        assert main["experiment_id"] == scenario.experiment_ids[EXP_MAIN]
        assert main["tags"]["mlflow.note.content"] == EXPERIMENT_DESCRIPTION


def test_experiment_detail_has_tags_and_description(scenario_store):
    store, scenario = scenario_store
    experiment = store.experiment(scenario.experiment_ids[EXP_MAIN])
    assert experiment.name == EXP_MAIN
    assert experiment.lifecycle_stage == "active"
    for key, value in EXPERIMENT_TAGS.items():
        assert experiment.tags.get(key) == value
    assert experiment.description == EXPERIMENT_DESCRIPTION
    assert experiment.artifact_location
    assert experiment.creation_time and experiment.creation_time > 1_600_000_000_000
    doomed = store.experiment(scenario.experiment_ids[EXP_DOOMED])
    assert doomed.lifecycle_stage == "deleted"


# --- runs() rows ---------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["active", "deleted", "all"])
def test_runs_view_returns_exactly_the_runs_of_that_lifecycle(scenario_store, view):
    store, scenario = scenario_store
    frame = store.runs(_ids(scenario), view=view)
    assert _frame_names(frame, scenario) == scenario.run_names(view=view)
    assert frame["run_id"].is_unique


def test_runs_rows_carry_status_times_and_experiment(scenario_store):
    store, scenario = scenario_store
    frame = store.runs(_ids(scenario), view="all")
    for name in scenario.run_names(view="all"):
        spec = scenario.specs[name]
        row = _row(frame, scenario.run_id(name))
        assert row["status"] == spec.status, name
        assert row["experiment_id"] == scenario.experiment_ids[spec.experiment]
        assert pd.Timestamp(row["start_time"]).value // 1_000_000 == scenario.start_times[name]
        if spec.status == "RUNNING":
            assert pd.isna(row["end_time"]), name
        else:
            end_ms = pd.Timestamp(row["end_time"]).value // 1_000_000
            assert end_ms == scenario.start_times[name] + RUN_DURATION_MS, name


def test_runs_latest_metrics_follow_mlflow_rule(scenario_store):
    store, scenario = scenario_store
    frame = store.runs(_ids(scenario), view="all")
    checked = 0
    for name in scenario.run_names(view="all"):
        row = _row(frame, scenario.run_id(name))
        for key, expected in scenario.latest_metrics[name].items():
            actual = row[f"metrics.{key}"]
            assert same_float(actual, expected), f"{name} metrics.{key}: {actual} != {expected}"
            checked += 1
        for key in {"loss", "acc", "peak"} - set(scenario.latest_metrics[name]):
            assert math.isnan(row[f"metrics.{key}"]), f"{name} has no {key}"
    assert checked > 30


def test_runs_nan_and_infinite_latest_values(scenario_store):
    store, scenario = scenario_store
    frame = store.runs(_ids(scenario))
    assert math.isnan(_row(frame, scenario.run_id("nan-latest"))["metrics.loss"])
    inf_row = _row(frame, scenario.run_id("inf-values"))
    assert same_float(inf_row["metrics.peak"], math.inf)
    assert same_float(inf_row["metrics.floor"], -math.inf)
    assert inf_row["metrics.grad"] == 0.25
    assert _row(frame, scenario.run_id("out-of-order"))["metrics.loss"] == 0.2
    assert _row(frame, scenario.run_id("repeated-steps"))["metrics.val_loss"] == 0.9


def test_runs_params_and_tags_columns(scenario_store):
    store, scenario = scenario_store
    frame = store.runs(_ids(scenario))
    special = _row(frame, scenario.run_id("special-params"))
    assert special["params.ünïcødé"] == "välüe ✓ ünïcødé"
    assert special["params.quotes"] == 'it\'s "quoted"'
    assert special["params.opt/lr"] == "0.001"
    assert special["params.batch size"] == "32"
    assert special["tags.owner"] == "zoë"
    assert special["tags.quote tag"] == 'say "hi"'
    child = _row(frame, scenario.run_id("grandchild-a1"))
    assert child["tags.mlflow.parentRunId"] == scenario.run_id("child-a")
    assert child["tags.mlflow.runName"] == "grandchild-a1"
    assert child["params.optimizer"] == "adam"
    assert pd.isna(_row(frame, scenario.run_id("single-point"))["params.optimizer"])


FILTERS = [
    ("params.optimizer = 'adam'", lambda s, n: s.specs[n].params.get("optimizer") == "adam"),
    ("metrics.acc > 0.5", lambda s, n: s.latest_metrics[n].get("acc", math.nan) > 0.5),
    ("attributes.status = 'FAILED'", lambda s, n: s.specs[n].status == "FAILED"),
    ("tags.team = 'vision'", lambda s, n: s.specs[n].tags.get("team") == "vision"),
    ("params.`batch size` = '32'", lambda s, n: s.specs[n].params.get("batch size") == "32"),
    (
        "metrics.loss < 1 AND params.optimizer != 'adam'",
        lambda s, n: (
            s.latest_metrics[n].get("loss", math.nan) < 1
            and s.specs[n].params.get("optimizer") not in (None, "adam")
        ),
    ),
    ("attributes.run_name LIKE 'grand%'", lambda s, n: n.startswith("grand")),
]


@pytest.mark.parametrize(("filter_string", "expected"), FILTERS, ids=[f for f, _ in FILTERS])
def test_runs_filters_select_the_expected_runs(scenario_store, filter_string, expected):
    store, scenario = scenario_store
    frame = store.runs(_ids(scenario), filter_string=filter_string)
    wanted = {name for name in scenario.run_names() if expected(scenario, name)}
    assert wanted, "the scenario must give this filter something to find"
    assert _frame_names(frame, scenario) == wanted


def test_runs_filter_by_parent_finds_the_children(scenario_store):
    store, scenario = scenario_store
    parent_id = scenario.run_id("parent")
    frame = store.runs(_ids(scenario), filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'")
    assert _frame_names(frame, scenario) == {"child-a", "child-b"}


def test_runs_default_order_is_newest_start_first(scenario_store):
    store, scenario = scenario_store
    frame = store.runs(_ids(scenario))
    starts = [scenario.start_times[_names_by_id(scenario)[i]] for i in frame["run_id"]]
    assert starts == sorted(starts, reverse=True)


# --- parity with mlflow.search_runs on the same location ------------------------------------

PARITY_CASES = [
    {"view": "active"},
    {"view": "deleted"},
    {"view": "all"},
    {"view": "active", "filter_string": "metrics.acc > 0.5", "order_by": ["metrics.acc DESC"]},
    {"view": "active", "order_by": ["params.lr ASC", "attributes.run_name"]},
    {"view": "all", "order_by": ["metrics.loss"], "max_results": 5},
    {"view": "active", "filter_string": "params.optimizer = 'sgd'"},
]


def _column_groups(columns) -> list[str]:
    """The column layout that is fixed: base columns, then metrics, params, tags blocks."""
    groups: list[str] = []
    for column in columns:
        group = column.split(".", 1)[0] if "." in column else column
        if not groups or groups[-1] != group:
            groups.append(group)
    return groups


@pytest.mark.parametrize(
    "case", PARITY_CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items())
)
def test_runs_frame_equals_mlflow_search_runs(scenario_store, case):
    store, scenario = scenario_store
    ids = _ids(scenario)
    ours = store.runs(ids, **case)
    theirs = mlflow_search_runs(scenario.tracking_uri, ids, **case)
    # Within a block MLflow orders keys as its store happens to return them: compare as sets.
    assert _column_groups(ours.columns) == _column_groups(theirs.columns)
    assert set(ours.columns) == set(theirs.columns)
    assert list(ours["run_id"]) == list(theirs["run_id"])
    pd.testing.assert_frame_equal(
        canonical_metric_columns(ours[list(theirs.columns)]).reset_index(drop=True),
        canonical_metric_columns(theirs).reset_index(drop=True),
    )
