"""Store contract, part 2: metric histories, summaries and run detail on every backend."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from tests.helpers.contract import canonical, canonical_array, same_float

from flowdeck.core.entities import RunDetail
from flowdeck.store.base import HISTORY_DTYPE, SUMMARY_COLUMNS


def _without_repeated_points(array: np.ndarray) -> np.ndarray:
    """Drop exact repeats of a point.

    MLflow 3's ``log_model`` re-logs a run's step-0 points for the new model: a SQL store
    collapses the repeat (primary key) while ``mlruns/`` files keep a second identical line.
    """
    if len(array) < 2:
        return array
    keep = np.ones(len(array), dtype=bool)
    same = (array["step"][1:] == array["step"][:-1]) & (
        array["timestamp"][1:] == array["timestamp"][:-1]
    )
    values = array["value"]
    same &= (values[1:] == values[:-1]) | (np.isnan(values[1:]) & np.isnan(values[:-1]))
    keep[1:] = ~same
    return array[keep]


def test_metric_history_arrays_are_exact(scenario_store):
    store, scenario = scenario_store
    pairs = [
        (name, key) for (name, key) in scenario.histories if name in scenario.run_names(view="all")
    ]
    run_ids = sorted({scenario.run_id(name) for name, _ in pairs})
    keys = sorted({key for _, key in pairs})
    result = store.metric_history(run_ids, keys)
    for name, key in pairs:
        expected = scenario.histories[(name, key)]
        array = result[(scenario.run_id(name), key)]
        assert isinstance(array, np.ndarray)
        assert array.dtype == HISTORY_DTYPE, f"{name}/{key}: dtype {array.dtype}"
        array = _without_repeated_points(array)
        assert array["step"].tolist() == [p[0] for p in expected], f"{name}/{key} steps"
        assert array["timestamp"].tolist() == [p[1] for p in expected], f"{name}/{key} timestamps"
        np.testing.assert_array_equal(
            canonical_array(array["value"]),
            np.array([canonical(p[2]) for p in expected]),
            err_msg=f"{name}/{key} values",
        )


def test_metric_history_gives_empty_arrays_for_absent_pairs(scenario_store):
    store, scenario = scenario_store
    run_id = scenario.run_id("single-point")
    result = store.metric_history([run_id], ["final_score", "loss", "no-such-metric"])
    assert set(result) == {(run_id, "final_score"), (run_id, "loss"), (run_id, "no-such-metric")}
    for key in ("loss", "no-such-metric"):
        assert result[(run_id, key)].dtype == HISTORY_DTYPE
        assert len(result[(run_id, key)]) == 0
    assert result[(run_id, "final_score")].tolist() == [
        (7, scenario.histories[("single-point", "final_score")][0][1], 42.5)
    ]


def test_metric_history_keeps_nan_and_inf_and_sorts_repeated_steps(scenario_store):
    store, scenario = scenario_store
    grad = store.metric_history([scenario.run_id("inf-values")], ["grad"])
    values = canonical_array(grad[(scenario.run_id("inf-values"), "grad")]["value"])
    assert (
        values[0] == 0.5 and values[1] == math.inf and math.isnan(values[2]) and values[3] == 0.25
    )
    repeated = store.metric_history([scenario.run_id("repeated-steps")], ["val_loss"])
    array = repeated[(scenario.run_id("repeated-steps"), "val_loss")]
    assert array["step"].tolist() == [0, 1, 1, 1]
    assert array["value"].tolist() == [1.2, 0.95, 0.92, 0.9]
    curve = store.metric_history([scenario.run_id("curve")], ["loss"])[
        (scenario.run_id("curve"), "loss")
    ]
    assert len(curve) == 500 and curve["step"].tolist() == list(range(500))


def _expected_summary(points):
    values = [canonical(p[2]) for p in points]
    finite_or_inf = [(p[0], v) for p, v in zip(points, values, strict=True) if not math.isnan(v)]
    latest = max(points, key=lambda p: (p[0], p[1]))
    low = min(v for _, v in finite_or_inf)
    high = max(v for _, v in finite_or_inf)
    return {
        "last": canonical(latest[2]),
        "min": low,
        "max": high,
        "min_step": min(step for step, v in finite_or_inf if v == low),
        "max_step": min(step for step, v in finite_or_inf if v == high),
        "count": len(finite_or_inf),  # pandas' meaning: values that are not NaN
    }


def test_metric_summaries_match_the_logged_points(scenario_store):
    store, scenario = scenario_store
    names = ["curve", "nan-latest", "inf-values", "out-of-order", "repeated-steps", "single-point"]
    frame = store.metric_summaries([scenario.run_id(n) for n in names])
    assert list(frame.columns) == SUMMARY_COLUMNS
    rows = {(r.run_id, r.key): r for r in frame.itertuples(index=False)}
    expected_pairs = {(scenario.run_id(n), k) for n in names for k in scenario.specs[n].metrics}
    assert set(rows) == expected_pairs
    for name in names:
        for key, points in scenario.specs[name].metrics.items():
            row = rows[(scenario.run_id(name), key)]
            for field, value in _expected_summary(points).items():
                assert same_float(getattr(row, field), value), (
                    f"{name}/{key}.{field}: {getattr(row, field)} != {value}"
                )


def test_metric_summaries_can_be_limited_to_keys(scenario_store):
    store, scenario = scenario_store
    frame = store.metric_summaries([scenario.run_id("curve"), scenario.run_id("parent")], ["acc"])
    assert set(frame["key"]) == {"acc"} and len(frame) == 2


def test_run_detail_of_a_nested_run(scenario_store):
    store, scenario = scenario_store
    detail = store.run(scenario.run_id("grandchild-a1"))
    assert isinstance(detail, RunDetail)
    assert detail.info.run_id == scenario.run_id("grandchild-a1")
    assert detail.info.run_name == "grandchild-a1"
    assert detail.info.status == "FINISHED"
    assert detail.info.lifecycle_stage == "active"
    assert (
        detail.info.experiment_id
        == scenario.experiment_ids[scenario.specs["grandchild-a1"].experiment]
    )
    assert detail.info.start_time == scenario.start_times["grandchild-a1"]
    assert detail.parent_run_id == scenario.run_id("child-a")
    assert detail.params == scenario.specs["grandchild-a1"].params
    assert detail.tags["team"] == "vision"
    assert detail.tags["mlflow.runName"] == "grandchild-a1"
    loss = detail.metrics["loss"]
    assert (loss.step, loss.value) == (1, 0.45)


def test_run_detail_latest_metrics_and_special_params(scenario_store):
    store, scenario = scenario_store
    nan_run = store.run(scenario.run_id("nan-latest"))
    assert math.isnan(nan_run.metrics["loss"].value) and nan_run.metrics["loss"].step == 2
    ooo = store.run(scenario.run_id("out-of-order")).metrics["loss"]
    assert (ooo.step, ooo.timestamp, ooo.value) == scenario.histories[("out-of-order", "loss")][-1]
    special = store.run(scenario.run_id("special-params"))
    assert special.params == scenario.specs["special-params"].params
    deleted = store.run(scenario.run_id("deleted-one"))
    assert deleted.info.lifecycle_stage == "deleted"


def test_run_detail_lists_the_dataset_input(scenario_store):
    store, scenario = scenario_store
    detail = store.run(scenario.run_id(scenario.dataset_run))
    assert len(detail.inputs) == 1
    dataset = detail.inputs[0]
    assert dataset.name == scenario.dataset_name
    assert dataset.context == scenario.dataset_context
    assert dataset.digest
    assert dataset.source_type
    assert "sepal_length" in (dataset.schema or "")


def test_run_detail_lists_the_logged_model_output(scenario_store):
    store, scenario = scenario_store
    if scenario.logged_model_id is None:
        import pytest

        pytest.skip(scenario.unsupported.get("logged_models", "no logged model"))
    detail = store.run(scenario.run_id(scenario.artifact_run))
    assert [output.model_id for output in detail.outputs] == [scenario.logged_model_id]


def test_runs_frame_and_run_detail_agree(scenario_store):
    store, scenario = scenario_store
    frame = store.runs([scenario.experiment_ids[scenario.specs["curve"].experiment]])
    row = frame[frame["run_id"] == scenario.run_id("curve")].iloc[0]
    detail = store.run(scenario.run_id("curve"))
    assert row["metrics.loss"] == detail.metrics["loss"].value
    assert row["params.lr"] == detail.params["lr"]
    assert pd.Timestamp(row["start_time"]).value // 1_000_000 == detail.info.start_time
