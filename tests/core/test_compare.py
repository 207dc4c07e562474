"""Comparing runs written by MLflow: value rows, differences, best values, filters, text diffs."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from flowdeck.core.compare import (
    ADDED,
    CHANGED,
    CONTEXT,
    HEADER,
    HUNK,
    LATEST,
    MAX,
    METRICS,
    MIN,
    PARAMS,
    REMOVED,
    TAGS,
    CompareRow,
    RowFilter,
    as_tsv,
    best_columns,
    better_is_lower,
    compare_runs,
    run_colours,
    shown_rows,
    side_by_side,
    text_diff,
    unified_lines,
)
from flowdeck.core.entities import RunDetail
from flowdeck.core.runs_table import RunsTable
from flowdeck.core.runs_table_format import DEFAULT_PALETTE
from flowdeck.store import open_store


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[RunDetail], dict, pd.DataFrame]:
    """Three runs: equal and different params, a loss and an accuracy with histories, tags."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    folder = tmp_path_factory.mktemp("compare-core")
    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    experiment = client.create_experiment("cmp", artifact_location=str(folder / "art"))
    run_ids = []
    for number, (lr, losses, accuracy) in enumerate(
        [("0.01", [0.9, 0.2, 0.4], 0.8), ("0.02", [0.8, 0.3, 0.3], 0.9), ("0.03", [0.7], 0.7)]
    ):
        run_id = client.create_run(experiment, run_name=f"run-{number}").info.run_id
        client.log_param(run_id, "optimizer", "adam")
        client.log_param(run_id, "lr", lr)
        if number < 2:
            client.log_param(run_id, "batch", "32")
        metrics = [Metric("val_loss", v, 0, step) for step, v in enumerate(losses)]
        metrics.append(Metric("accuracy", accuracy, 0, 0))
        client.log_batch(run_id, metrics=metrics, synchronous=True)
        client.set_tag(run_id, "team", "vision")
        client.set_tag(run_id, "stage", "dev" if number else "prod")
        client.set_terminated(run_id)
        run_ids.append(run_id)
    store = open_store(Path(folder / "mlflow.db"))
    try:
        details = [store.run(run_id) for run_id in run_ids]
        frame = store.metric_summaries(run_ids)
        extremes = {
            (r, k): (lo, hi)
            for r, k, lo, hi in zip(
                frame["run_id"], frame["key"], frame["min"], frame["max"], strict=True
            )
        }
        frame = store.runs([experiment])
    finally:
        store.close()
    return details, extremes, frame


def row(rows: list[CompareRow], section: str, key: str, stat: str = "") -> CompareRow:
    return next(r for r in rows if r.section == section and r.key == key and r.stat == stat)


def test_rows_put_each_key_across_the_runs(runs) -> None:
    details, extremes, _ = runs
    rows = compare_runs(details, extremes)

    params = [r.key for r in rows if r.section == PARAMS]
    assert params == ["batch", "lr", "optimizer"]
    assert row(rows, PARAMS, "optimizer", "").values == ("adam", "adam", "adam")
    assert not row(rows, PARAMS, "optimizer").differs
    assert row(rows, PARAMS, "lr").values == ("0.01", "0.02", "0.03")
    assert row(rows, PARAMS, "lr").differs
    batch = row(rows, PARAMS, "batch")
    assert batch.values == ("32", "32", None) and batch.differs  # missing differs
    assert row(rows, TAGS, "team").values == ("vision",) * 3
    assert not row(rows, TAGS, "team").differs
    assert row(rows, TAGS, "stage").differs
    assert row(rows, TAGS, "mlflow.runName").system
    assert not row(rows, TAGS, "team").system


def test_metrics_show_latest_min_max_and_the_best_value(runs) -> None:
    details, extremes, _ = runs
    rows = compare_runs(details, extremes)

    latest = row(rows, METRICS, "val_loss", LATEST)
    assert latest.values == ("0.4", "0.3", "0.7")
    assert latest.best == (1,)  # a loss: lowest is best
    low = row(rows, METRICS, "val_loss", MIN)
    assert low.numbers == (0.2, 0.3, 0.7) and low.best == (0,) and low.label == "val_loss (min)"
    high = row(rows, METRICS, "val_loss", MAX)
    assert high.numbers == (0.9, 0.8, 0.7) and high.best == ()  # a loss's max is never best
    accuracy = row(rows, METRICS, "accuracy", LATEST)
    assert accuracy.best == (1,)  # anything else: highest is best
    assert row(rows, METRICS, "accuracy", MAX).best == (1,)
    assert row(rows, METRICS, "accuracy", MIN).best == ()
    assert [r.stat for r in rows if r.key == "accuracy"] == [LATEST, MIN, MAX]
    without = compare_runs(details)
    assert [r.stat for r in without if r.key == "val_loss"] == [LATEST]


@pytest.mark.parametrize(
    ("key", "lower"),
    [
        ("loss", True),
        ("val/Loss", True),
        ("mean_squared_error", True),
        ("train_err", True),
        ("MAE", True),
        ("eval_rmse", True),
        ("mse", True),
        ("perplexity", True),
        ("accuracy", False),
        ("f1", False),
        ("auc", False),
        ("lr", False),
    ],
)
def test_direction_rule(key: str, lower: bool) -> None:
    assert better_is_lower(key) is lower


def test_best_needs_two_different_finite_values() -> None:
    assert best_columns([0.5, 0.2, 0.2], lower=True) == (1, 2)
    assert best_columns([0.5, 0.2, 0.2], lower=False) == (0,)
    assert best_columns([math.nan, 0.2, None, 0.3], lower=True) == (1,)
    assert best_columns([0.2, None], lower=True) == ()
    assert best_columns([0.2, 0.2], lower=True) == ()
    assert best_columns([math.inf, 1.0], lower=False) == ()
    assert not CompareRow(METRICS, "x", ("NaN", "NaN"), (math.nan, math.nan)).differs


def test_the_filter_hides_what_the_user_turned_off(runs) -> None:
    details, extremes, _ = runs
    rows = compare_runs(details, extremes)

    default = shown_rows(rows, RowFilter())
    assert not any(r.system for r in default)
    assert not any(r.stat in (MIN, MAX) for r in default)
    different = shown_rows(rows, RowFilter(differences_only=True))
    assert {r.key for r in different if r.section == PARAMS} == {"lr", "batch"}
    assert "team" not in {r.key for r in different}
    everything = shown_rows(rows, RowFilter(min_max=True, system_tags=True))
    assert len(everything) == len(rows)
    assert [r.label for r in shown_rows(rows, RowFilter(search="LOSS", min_max=True))] == [
        "val_loss",
        "val_loss (min)",
        "val_loss (max)",
    ]


def test_tsv_has_a_header_and_empty_cells_for_missing_values(runs) -> None:
    details, _, _ = runs
    rows = [
        row(compare_runs(details), PARAMS, "batch"),
        CompareRow(TAGS, "note", ("a\tb", "x\ny", None)),
    ]
    text = as_tsv(["one", "two", "three"], rows)
    assert text.splitlines() == [
        "Section\tKey\tone\ttwo\tthree",
        "Params\tbatch\t32\t32\t",
        "Tags\tnote\ta b\tx y\t",
    ]


@pytest.mark.parametrize("palette", [DEFAULT_PALETTE, ["#111111", "#222222", "#333333"]])
def test_run_colours_are_the_runs_table_colours(runs, palette: list[str]) -> None:
    details, _, frame = runs
    table = RunsTable.build(frame, colours=palette)
    run_ids = [d.info.run_id for d in details]
    expected = [table.colours[table.row_of(run_id)] for run_id in run_ids]
    assert run_colours(run_ids, palette) == expected
    assert run_colours(run_ids[::-1], palette) == expected[::-1]  # by run id, not by position


def test_unified_diff_lines() -> None:
    old = "name: a\nlr: 0.01\nepochs: 3\n"
    new = "name: a\nlr: 0.02\nepochs: 3\nextra: yes\n"
    lines = unified_lines(old, new, "left", "right")
    assert [(line.kind, line.text) for line in lines] == [
        (HEADER, "--- left"),
        (HEADER, "+++ right"),
        (HUNK, "@@ -1,3 +1,4 @@"),
        (CONTEXT, " name: a"),
        (REMOVED, "-lr: 0.01"),
        (ADDED, "+lr: 0.02"),
        (CONTEXT, " epochs: 3"),
        (ADDED, "+extra: yes"),
    ]
    assert unified_lines(old, old) == []


def test_side_by_side_rows_face_changed_lines() -> None:
    rows = side_by_side("a\nb\nc\nd\n", "a\nB\nc\nx\ny\n")
    assert [(r.kind, r.left, r.right) for r in rows] == [
        (CONTEXT, "a", "a"),
        (CHANGED, "b", "B"),
        (CONTEXT, "c", "c"),
        (CHANGED, "d", "x"),
        (ADDED, None, "y"),
    ]
    removed = side_by_side("a\nb\n", "a\n")
    assert [(r.kind, r.left, r.right) for r in removed] == [
        (CONTEXT, "a", "a"),
        (REMOVED, "b", None),
    ]
    assert text_diff("same\n", "same\n").identical
    assert not text_diff("same\n", "other\n").identical
