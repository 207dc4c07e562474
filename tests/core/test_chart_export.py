"""Chart export: one long-form row per point, raw values, CSV readable by any tool."""

from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

from flowdeck.core.chart_export import ChartCurve, chart_frame, write_chart_csv


def curve(run_id, metric, x, y, x_label="step", run_name=None):
    return ChartCurve(
        run_id=run_id,
        run_name=run_name or f"name-{run_id}",
        metric=metric,
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        x_label=x_label,
    )


def test_frame_has_one_row_per_point_in_curve_order():
    curves = [curve("r1", "loss", [0, 1, 2], [3.0, 2.0, 1.0]), curve("r2", "loss", [5], [9.0])]
    frame = chart_frame(curves)
    assert list(frame.columns) == ["run_id", "run_name", "metric", "step", "value"]
    assert frame["run_id"].tolist() == ["r1", "r1", "r1", "r2"]
    assert frame["run_name"].tolist() == ["name-r1"] * 3 + ["name-r2"]
    assert frame["step"].tolist() == [0, 1, 2, 5]
    assert frame["value"].tolist() == [3.0, 2.0, 1.0, 9.0]


def test_fractional_x_keeps_its_fraction():
    frame = chart_frame([curve("r1", "loss", [0.0, 1.5], [1.0, 2.0], x_label="relative (s)")])
    assert frame["relative (s)"].tolist() == [0.0, 1.5]


def test_csv_writes_nan_as_empty_and_infinities_as_inf(tmp_path):
    path = tmp_path / "chart.csv"
    curves = [curve("r1", "loss", [0, 1, 2, 3], [0.1, np.nan, np.inf, -np.inf], run_name="a, b")]
    write_chart_csv(path, curves)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["run_id", "run_name", "metric", "step", "value"]
    assert [row[1] for row in rows[1:]] == ["a, b"] * 4
    assert [row[3] for row in rows[1:]] == ["0", "1", "2", "3"]
    assert [row[4] for row in rows[1:]] == ["0.1", "", "inf", "-inf"]


def test_csv_round_trips_values_exactly(tmp_path):
    path = tmp_path / "chart.csv"
    values = np.random.default_rng(5).normal(size=50) * 1e-7
    write_chart_csv(path, [curve("r1", "grad", np.arange(50), values)])
    with path.open(newline="", encoding="utf-8") as handle:
        written = [float(row["value"]) for row in csv.DictReader(handle)]
    assert written == values.tolist()


def test_mixed_x_labels_each_get_a_column():
    frame = chart_frame([curve("r1", "loss", [1], [1.0]), curve("r2", "loss", [2.5], [2.0], "lr")])
    assert list(frame.columns) == ["run_id", "run_name", "metric", "step", "lr", "value"]
    assert frame["step"].tolist()[0] == 1 and np.isnan(frame["step"].tolist()[1])
    assert np.isnan(frame["lr"].tolist()[0]) and frame["lr"].tolist()[1] == 2.5


def test_x_label_named_like_a_fixed_column_does_not_overwrite_it():
    frame = chart_frame([curve("r1", "loss", [0.5], [1.0], x_label="value")])
    assert frame["value"].tolist() == [1.0]
    assert frame["value (x)"].tolist() == [0.5]


def test_no_curves_give_an_empty_table():
    frame = chart_frame([])
    assert len(frame) == 0
    assert list(frame.columns) == ["run_id", "run_name", "metric", "value"]


def test_curves_are_immutable_and_reject_mismatched_lengths():
    loss = curve("r1", "loss", [0, 1], [1.0, 2.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        loss.metric = "acc"  # type: ignore[misc]
    with pytest.raises(ValueError):
        chart_frame([curve("r1", "loss", [0, 1], [1.0])])
