"""FileStore on damaged folders, reads that leave folders untouched, and real-world stores."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from tests.helpers.realworld import GENRE_MLRUNS as REALWORLD
from tests.store.files.conftest import assert_same_runs, mlflow_search

from flowdeck.store.files import FileStore
from flowdeck.store.files.meta import parse_meta
from flowdeck.store.files.metrics import latest_points, parse_metric_files


def _run_folder(data, run_id: str) -> Path:
    return data.root / data.alpha / run_id


def test_missing_meta_skips_the_run_and_reports_it(copied):
    (_run_folder(copied, copied.failed_run) / "meta.yaml").unlink()
    store = FileStore(str(copied.root))
    frame = store.runs([copied.alpha])
    assert copied.failed_run not in set(frame["run_id"])
    assert copied.parent in set(frame["run_id"])
    assert any(copied.failed_run[:8] in p and "meta.yaml is missing" in p for p in store.problems)


def test_truncated_meta_skips_the_run_and_reports_it(copied):
    meta = _run_folder(copied, copied.child) / "meta.yaml"
    meta.write_bytes(meta.read_bytes()[:40])
    store = FileStore(str(copied.root))
    frame = store.runs([copied.alpha])
    assert copied.child not in set(frame["run_id"])
    assert len(frame) == 2
    assert any(copied.child[:8] in p and "skipped" in p for p in store.problems)


def test_garbage_yaml_is_reported_not_raised(copied):
    (_run_folder(copied, copied.child) / "meta.yaml").write_text("run_id: [unclosed\n  : :")
    store = FileStore(str(copied.root))
    assert copied.child not in set(store.runs([copied.alpha])["run_id"])
    assert any("damaged" in p for p in store.problems)


def test_garbage_metric_lines_are_ignored_and_reported(copied):
    metric = _run_folder(copied, copied.parent) / "metrics" / "loss"
    with open(metric, "a") as handle:
        handle.write("this is not a metric line\n1700000009999 abc 9\n\n")
    store = FileStore(str(copied.root))
    frame = store.runs([copied.alpha])
    row = frame[frame["run_id"] == copied.parent].iloc[0]
    assert row["metrics.loss"] == 0.2
    assert any("'loss' has 2 unreadable lines" in p for p in store.problems)
    history = store.metric_history([copied.parent], ["loss"])[(copied.parent, "loss")]
    assert len(history) == 6


def test_experiment_without_meta_is_reported(copied):
    (copied.root / "12345").mkdir()
    store = FileStore(str(copied.root))
    assert list(store.experiments()["name"]) == ["alpha"]
    assert any("12345" in p and "meta.yaml is missing" in p for p in store.problems)


def _tree_digest(root: Path) -> dict[str, tuple[str, int]]:
    digests = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            stat = path.stat()
            digests[str(path.relative_to(root))] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                stat.st_mtime_ns,
            )
    return digests


def test_reading_everything_leaves_the_folder_unchanged(written):
    before = _tree_digest(written.root)
    listing_before = sorted(p for p, _d, _f in os.walk(written.root))
    store = FileStore(str(written.root))
    store.experiments("all")
    store.runs([written.alpha, written.beta], view="all")
    store.metric_history([written.parent], ["loss"])
    store.metric_summaries([written.parent])
    store.run(written.parent)
    store.list_artifacts(written.parent)
    store.fetch_artifact(written.parent, "readme.md")
    store.registered_models()
    store.model_versions("clf")
    store.logged_models([written.alpha])
    if written.trace_id:
        store.search_traces([written.alpha])
        store.trace(written.trace_id)
    assert _tree_digest(written.root) == before
    assert sorted(p for p, _d, _f in os.walk(written.root)) == listing_before


def test_metric_parser_handles_mlflow_line_shapes():
    parsed = parse_metric_files(
        [
            b"1 0.5\n",  # 2 fields: step 0
            b"10 1.0 3 train abc123\n11 2.0 3 train abc123\n",  # 5 fields with dataset
            b"5 nan 1\n6 inf 1\n4 -inf 2\n",  # nan / inf text, unsorted
            b"",
        ]
    )
    latest = latest_points(parsed, 4)
    assert parsed.step[latest[0]] == 0 and parsed.value[latest[0]] == 0.5
    assert parsed.value[latest[1]] == 2.0
    assert parsed.value[latest[2]] == -np.inf and parsed.step[latest[2]] == 2
    assert latest[3] == -1
    assert parsed.bad_lines == {}


def test_meta_parser_matches_yaml_on_tricky_values():
    import yaml

    text = (
        "a: '0123'\nb: 0123\nc: 1.5\nd: null\ne: ''\nf: it's\ng: 'don''t'\nh: yes\n"
        "i: 6a2b\nj: 2021-01-01\nk: []\nl: long text\n  folded\n"
    )
    assert parse_meta(text) == yaml.safe_load(text)
    flat = "x: 12e3\ny: abc\nz: 'q: r'\n"
    assert parse_meta(flat) == yaml.safe_load(flat)


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="real-world stores are not present")
def test_realworld_genre_store_equals_mlflow(tmp_path):
    copy = tmp_path / "mlruns"
    shutil.copytree(REALWORLD, copy)
    store = FileStore(str(REALWORLD))
    experiments = list(store.experiments("all")["experiment_id"])
    ours = store.runs(experiments, view="all")
    from mlflow.entities import ViewType

    theirs = mlflow_search(copy, experiments, run_view_type=ViewType.ALL)
    assert len(ours) > 10
    assert_same_runs(ours, theirs)
    ordered = store.runs(experiments, order_by=["params.artifact_name DESC"])
    assert_same_runs(
        ordered, mlflow_search(copy, experiments, order_by=["params.artifact_name DESC"])
    )
    assert store.problems == []
