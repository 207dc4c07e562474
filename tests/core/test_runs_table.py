"""RunsTable: formatting, sorting with missing values last, nesting, grouping, filters, CSV."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flowdeck.core.runs_table import RunsTable
from flowdeck.core.runs_table_format import (
    colour_indices,
    format_duration,
    format_number,
)

MAX = np.finfo(np.float64).max
T0 = pd.Timestamp("2024-03-01 12:00:00", tz="UTC")


def _frame(rows: list[dict]) -> pd.DataFrame:
    """A frame shaped like mlflow.search_runs(): base columns, then metrics/params/tags."""
    records = []
    for n, row in enumerate(rows):
        start = row.get("start", T0 + timedelta(minutes=n))
        record = {
            "run_id": row.get("run_id", f"run{n:03d}"),
            "experiment_id": "1",
            "status": row.get("status", "FINISHED"),
            "artifact_uri": f"file:///tmp/{n}",
            "start_time": start,
            "end_time": row.get(
                "end", start + timedelta(seconds=90) if start is not None else None
            ),
        }
        record.update({f"metrics.{k}": v for k, v in row.get("metrics", {}).items()})
        record.update({f"params.{k}": v for k, v in row.get("params", {}).items()})
        record.update({f"tags.{k}": v for k, v in row.get("tags", {}).items()})
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    for column in ("start_time", "end_time"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    for column in frame.columns:
        if column.startswith(("params.", "tags.")):
            frame[column] = frame[column].astype("str")
    return frame


def _display(table: RunsTable, column: str) -> list[str]:
    return list(table.column(column).display)


def test_numbers_are_formatted_with_six_digits_nan_and_infinities() -> None:
    values = [0.123456789, 1234567.0, float("nan"), float("inf"), -float("inf"), MAX, -MAX, 2.0]
    table = RunsTable.build(_frame([{"metrics": {"m": v}} for v in values]))
    # without summaries a NaN cannot be told from a metric the run never logged
    assert _display(table, "metrics.m") == [
        "0.123457",
        "1.23457e+06",
        "",
        "∞",
        "-∞",
        "∞",
        "-∞",
        "2",
    ]
    assert table.column("metrics.m").full_text(0) == "0.123456789"
    assert table.column("metrics.m").full_text(5) == "∞"


def test_summaries_show_a_logged_nan_and_add_min_max_step_columns() -> None:
    frame = _frame([{"run_id": "a", "metrics": {"m": np.nan}}, {"run_id": "b"}])
    frame["metrics.m"] = [np.nan, np.nan]
    summaries = pd.DataFrame(
        {
            "run_id": ["a"],
            "key": ["m"],
            "last": [np.nan],
            "min": [0.5],
            "max": [MAX],
            "min_step": pd.array([3], dtype="Int64"),
            "max_step": pd.array([7], dtype="Int64"),
            "count": [9],
        }
    )
    table = RunsTable.build(frame, summaries)
    assert _display(table, "metrics.m") == ["NaN", ""]
    assert _display(table, "metrics.m#min") == ["0.5", ""]
    assert _display(table, "metrics.m#max") == ["∞", ""]
    assert _display(table, "metrics.m#min_step") == ["3", ""]
    assert _display(table, "metrics.m#max_step") == ["7", ""]
    kinds = {spec.id: spec.kind for spec in table.specs()}
    assert kinds["metrics.m#min"] == "metric_min"
    assert kinds["metrics.m#max_step"] == "metric_max_step"
    assert not table.column("metrics.m#min").spec.default_visible


def test_fixed_columns() -> None:
    tags = {
        "mlflow.runName": "<b>bold</b> & <script>x</script>",
        "mlflow.user": "ada",
        "mlflow.source.name": "/home/ada/project/train.py",
        "mlflow.source.git.commit": "0123456789abcdef0123",
    }
    frame = _frame(
        [
            {"tags": tags},
            {"run_id": "nameless", "status": "RUNNING", "end": None},
            {"status": "FAILED", "end": T0 + timedelta(hours=1, minutes=2, seconds=5)},
        ]
    )
    now = (T0 + timedelta(minutes=1, seconds=3.4)).timestamp()
    table = RunsTable.build(frame, tz=timezone(timedelta(hours=2)), now=now)
    assert _display(table, "name") == [tags["mlflow.runName"], "nameless", "run002"]
    assert _display(table, "start_time")[0] == "2024-03-01 14:00:00"
    assert _display(table, "duration") == ["1m 30s", "3.4 s", "1h 00m"]
    assert _display(table, "user") == ["ada", "", ""]
    assert _display(table, "source") == ["train.py", "", ""]
    assert table.column("source").full_text(0) == "/home/ada/project/train.py"
    assert _display(table, "git_commit") == ["01234567", "", ""]
    assert _display(table, "status") == ["FINISHED", "RUNNING", "FAILED"]
    ids = [spec.id for spec in table.specs()]
    assert ids[:8] == [
        "swatch",
        "name",
        "status",
        "start_time",
        "duration",
        "user",
        "source",
        "git_commit",
    ]


def test_swatch_colours_are_stable_per_run_id() -> None:
    palette = ["#111111", "#222222", "#333333"]
    first = RunsTable.build(_frame([{"run_id": "a"}, {"run_id": "b"}]), colours=palette)
    second = RunsTable.build(_frame([{"run_id": "b"}, {"run_id": "a"}]), colours=palette)
    assert first.colours == second.colours[::-1]
    assert all(colour in palette for colour in first.colours)
    spread = colour_indices([f"run{n}" for n in range(300)], 10)
    assert len(set(spread.tolist())) == 10


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.25, "0.25 s"), (3.44, "3.4 s"), (42, "42 s"), (307, "5m 07s"), (3720, "1h 02m")],
)
def test_durations(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert format_number(float("nan")) == "NaN"


@pytest.mark.parametrize("descending", [False, True])
def test_sorting_puts_nan_then_missing_last_in_both_directions(descending: bool) -> None:
    values = [3.0, None, 1.0, float("nan"), 2.0, MAX]
    frame = _frame([{"metrics": {"m": 0.0}} for _ in values])
    frame["metrics.m"] = [np.nan if v is None else v for v in values]
    summaries = pd.DataFrame(
        {
            "run_id": [f"run{n:03d}" for n, v in enumerate(values) if v is not None],
            "key": "m",
            "last": [v for v in values if v is not None],
            "min": 0.0,
            "max": 0.0,
            "min_step": 0,
            "max_step": 0,
            "count": 1,
        }
    )
    table = RunsTable.build(frame, summaries)
    shown = [
        table.column("metrics.m").display[row] for row in table.sort_order("metrics.m", descending)
    ]
    numbers = ["1", "2", "3", "∞"]
    assert shown == (numbers[::-1] if descending else numbers) + ["NaN", ""]


@pytest.mark.parametrize("descending", [False, True])
def test_params_sort_as_numbers_and_text_casefolded_missing_last(descending: bool) -> None:
    frame = _frame(
        [
            {"params": {"lr": "0.1", "opt": "adam"}},
            {"params": {"lr": "0.01", "opt": "Adagrad"}},
            {"params": {"lr": None, "opt": None}},
            {"params": {"lr": "1e-4", "opt": "SGD"}},
        ]
    )
    table = RunsTable.build(frame)
    assert table.column("params.lr").spec.numeric
    assert not table.column("params.opt").spec.numeric
    lr = [table.column("params.lr").display[r] for r in table.sort_order("params.lr", descending)]
    opt = [
        table.column("params.opt").display[r] for r in table.sort_order("params.opt", descending)
    ]
    expected_lr = ["1e-4", "0.01", "0.1"]
    expected_opt = ["Adagrad", "adam", "SGD"]
    if descending:
        expected_lr, expected_opt = expected_lr[::-1], expected_opt[::-1]
    assert lr == expected_lr + [""]
    assert opt == expected_opt + [""]


def test_sort_is_stable_and_times_sort_as_times() -> None:
    frame = _frame(
        [
            {"metrics": {"m": 1.0}, "start": T0 + timedelta(days=1)},
            {"metrics": {"m": 1.0}, "start": T0},
            {"metrics": {"m": 0.0}, "start": T0 + timedelta(hours=1)},
        ]
    )
    table = RunsTable.build(frame)
    assert table.sort_order("metrics.m").tolist() == [2, 0, 1]
    assert table.sort_order("metrics.m", descending=True).tolist() == [0, 1, 2]
    assert table.sort_order("start_time").tolist() == [1, 2, 0]
    assert table.sort_order("duration").tolist() == [0, 1, 2]


def _nested_frame() -> pd.DataFrame:
    """root ─ child ─ grandchild ─ great-grandchild, a sibling child, and an orphan."""
    links = {
        "root": None,
        "child": "root",
        "grand": "child",
        "great": "grand",
        "sibling": "root",
        "orphan": "not-in-this-frame",
        "loner": None,
    }
    rows = []
    for n, (run_id, parent) in enumerate(links.items()):
        tags = {"mlflow.runName": run_id}
        if parent:
            tags["mlflow.parentRunId"] = parent
        rows.append({"run_id": run_id, "tags": tags, "metrics": {"m": float(n)}})
    return _frame(rows)


def test_nesting_of_depth_three_and_an_orphan_becomes_a_root() -> None:
    table = RunsTable.build(_nested_frame())
    row = table.row_of
    assert [table.run_ids[r] for r in table.roots()] == ["root", "orphan", "loner"]
    assert [table.run_ids[r] for r in table.children_of(row("root"))] == ["child", "sibling"]
    assert [table.run_ids[r] for r in table.children_of(row("grand"))] == ["great"]
    assert table.parent_of(row("great")) == row("grand")
    assert table.parent_of(row("orphan")) == -1
    assert table.tree().depth_of(row("great")) == 3


def test_sorting_applies_among_siblings_and_a_match_keeps_its_ancestors() -> None:
    table = RunsTable.build(_nested_frame())
    tree = table.tree(table.sort_order("metrics.m", descending=True))
    assert [table.run_ids[r] for r in tree.roots] == ["loner", "orphan", "root"]
    assert [table.run_ids[r] for r in tree.children_of(table.row_of("root"))] == [
        "sibling",
        "child",
    ]
    filtered = table.tree(mask=table.name_matches("GREAT"))
    assert [table.run_ids[r] for r in filtered.roots] == ["root"]
    assert filtered.row_in_parent[table.row_of("sibling")] == -1
    assert filtered.row_in_parent[table.row_of("great")] == 0


def test_a_parent_cycle_does_not_hang_and_leaves_every_run_reachable() -> None:
    frame = _frame(
        [
            {"run_id": "a", "tags": {"mlflow.parentRunId": "b"}},
            {"run_id": "b", "tags": {"mlflow.parentRunId": "a"}},
            {"run_id": "c", "tags": {"mlflow.parentRunId": "c"}},
        ]
    )
    table = RunsTable.build(frame)
    tree = table.tree()
    assert (tree.row_in_parent >= 0).all()
    assert len(tree.roots) == 2


def test_group_by_a_param_with_metric_stats() -> None:
    frame = _frame(
        [
            {"params": {"opt": "adam"}, "metrics": {"loss": 1.0}},
            {"params": {"opt": "sgd"}, "metrics": {"loss": 4.0}},
            {"params": {"opt": "adam"}, "metrics": {"loss": 3.0}},
            {"params": {"opt": None}, "metrics": {"loss": np.nan}},
            {"params": {"opt": "adam"}, "metrics": {"loss": np.nan}},
        ]
    )
    table = RunsTable.build(frame)
    groups = table.group_by("params.opt", metric="loss")
    assert [(g.label, g.count) for g in groups] == [("adam", 3), ("sgd", 1), ("(none)", 1)]
    adam = groups[0]
    assert adam.rows.tolist() == [0, 2, 4]
    assert (adam.mean, adam.min, adam.max) == (2.0, 1.0, 3.0)
    assert adam.mean_text == "2"
    assert groups[2].key is None and groups[2].mean_text == ""
    by_status = table.group_by("status")
    assert [(g.label, g.count) for g in by_status] == [("FINISHED", 5)]


def test_name_search_and_status_filter() -> None:
    frame = _frame(
        [
            {"run_id": "abc123", "tags": {"mlflow.runName": "Baseline"}},
            {"run_id": "def456", "status": "FAILED", "tags": {"mlflow.runName": "tuned"}},
        ]
    )
    table = RunsTable.build(frame)
    assert table.name_matches("BASE").tolist() == [True, False]
    assert table.name_matches("def").tolist() == [False, True]
    assert table.name_matches("").tolist() == [True, True]
    assert table.status_in({"failed"}).tolist() == [False, True]
    assert table.status_in(None).tolist() == [True, True]


def test_csv_round_trip_of_raw_values(tmp_path: Path) -> None:
    frame = _frame(
        [
            {"metrics": {"loss": 0.123456789}, "params": {"lr": "0.001", "note": 'a, "quoted"'}},
            {"metrics": {"loss": MAX}, "params": {"lr": None, "note": "<b>x</b>"}},
        ]
    )
    table = RunsTable.build(frame)
    path = tmp_path / "runs.csv"
    columns = ["name", "start_time", "duration", "params.lr", "params.note", "metrics.loss"]
    table.to_csv(path, rows=[1, 0], columns=columns)
    back = pd.read_csv(path, dtype={"params.lr": str}, keep_default_na=False, na_values=[""])
    assert list(back.columns) == columns
    assert back["name"].tolist() == ["run001", "run000"]
    assert back["start_time"].tolist() == ["2024-03-01T12:01:00.000Z", "2024-03-01T12:00:00.000Z"]
    assert back["duration"].tolist() == [90.0, 90.0]
    assert back["metrics.loss"].tolist() == [np.inf, 0.123456789]
    assert back["params.note"].tolist() == ["<b>x</b>", 'a, "quoted"']
    assert pd.isna(back["params.lr"][0]) and back["params.lr"][1] == "0.001"
    parsed = pd.to_datetime(back["start_time"], utc=True)
    assert parsed[1] == T0.tz_convert(UTC)


def test_an_empty_frame_builds_an_empty_table() -> None:
    frame = _frame([{"metrics": {"m": 1.0}}]).iloc[0:0]
    table = RunsTable.build(frame)
    assert table.n_rows == 0
    assert len(table.roots()) == 0
    assert table.sort_order("metrics.m").tolist() == []
    assert table.group_by("status") == []
