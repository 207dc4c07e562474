"""Incremental syncs of runs: only what changed is copied, deletions are marked, kills resume."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType

from flowdeck.store import open_store
from flowdeck.store.mirror import MirrorOptions, read_state, sync_mirror
from flowdeck.store.mirror.cli import mirror_from_cli

T0 = 1_700_000_000_000


def _source(tmp_path: Path, runs: int = 6, points: int = 20) -> tuple[str, MlflowClient, str]:
    uri = f"sqlite:///{tmp_path / 'source.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("sync", artifact_location=str(tmp_path / "art"))
    for number in range(runs):
        run = client.create_run(experiment_id, start_time=T0 + number, run_name=f"run-{number}")
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("loss", 1.0 / (step + 1), T0 + step, step) for step in range(points)],
            params=[Param("lr", str(0.1 * (number + 1)))],
            tags=[RunTag("team", "vision")],
        )
        client.set_terminated(run.info.run_id, end_time=T0 + 1000 + number)
    return uri, client, experiment_id


def _sync(uri: str, destination: Path, **options: object):
    store = open_store(uri.removeprefix("sqlite:///"))
    try:
        return sync_mirror(store, destination, MirrorOptions(**options))
    finally:
        store.close()


def _frame(uri: str, experiment_id: str) -> pd.DataFrame:
    import mlflow

    mlflow.set_tracking_uri(uri)
    try:
        frame = mlflow.search_runs([experiment_id], run_view_type=ViewType.ALL)
    finally:
        mlflow.set_tracking_uri(None)
    return frame.sort_values("run_id").reset_index(drop=True)[sorted(frame.columns)]


def _content_digest(database: Path) -> str:
    """A digest of every MLflow table's rows (Flowdeck's own state tables left out)."""
    digest = hashlib.sha256()
    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True) as conn:
        tables = [
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith("flowdeck_")
        ]
        for table in sorted(tables):
            rows = conn.execute(f"SELECT * FROM {table}").fetchall()
            digest.update(table.encode() + repr(sorted(map(repr, rows))).encode())
    return digest.hexdigest()


def test_a_second_sync_copies_only_what_changed(tmp_path: Path) -> None:
    uri, client, experiment_id = _source(tmp_path)
    destination = tmp_path / "mirror.db"
    first = _sync(uri, destination)
    assert (first.runs_seen, first.runs_copied, first.points) == (6, 6, 120)

    runs = client.search_runs([experiment_id], order_by=["attributes.run_name"])
    grown, tagged, deleted = runs[0].info.run_id, runs[1].info.run_id, runs[2].info.run_id
    client.log_batch(grown, metrics=[Metric("loss", 0.01, T0 + 50 + s, s) for s in (20, 21, 22)])
    client.set_tag(tagged, "team", "audio")
    client.delete_run(deleted)
    new = client.create_run(experiment_id, run_name="late").info.run_id
    client.log_metric(new, "loss", 0.5, step=0)

    second = _sync(uri, destination, full=True)
    assert second.full
    assert (second.runs_seen, second.runs_copied, second.points) == (7, 4, 4)
    pd.testing.assert_frame_equal(
        _frame(f"sqlite:///{destination}", experiment_id), _frame(uri, experiment_id)
    )
    history = MlflowClient(f"sqlite:///{destination}").get_metric_history(grown, "loss")
    assert [m.step for m in sorted(history, key=lambda m: m.step)] == list(range(23))


def test_a_sync_with_nothing_new_changes_nothing(tmp_path: Path) -> None:
    uri, _, _ = _source(tmp_path)
    destination = tmp_path / "mirror.db"
    _sync(uri, destination)
    before = _content_digest(destination)
    again = _sync(uri, destination)
    assert (again.runs_copied, again.points, again.runs_gone) == (0, 0, 0)
    assert _content_digest(destination) == before


def test_runs_gone_at_the_source_are_marked_deleted_never_dropped(tmp_path: Path) -> None:
    uri, client, experiment_id = _source(tmp_path)
    destination = tmp_path / "mirror.db"
    _sync(uri, destination)
    victim = client.search_runs([experiment_id])[0].info.run_id
    client.delete_run(victim)
    client._tracking_client.store._hard_delete_run(victim)  # what `mlflow gc` does
    with pytest.raises(Exception, match="not found|No Run"):
        client.get_run(victim)

    report = _sync(uri, destination, full=True)
    assert report.runs_gone == 1
    kept = MlflowClient(f"sqlite:///{destination}").get_run(victim)
    assert kept.info.lifecycle_stage == "deleted"
    assert kept.data.metrics["loss"] == pytest.approx(1 / 20)
    assert _sync(uri, destination, full=True).runs_gone == 0  # marked once


def test_a_sync_copies_changes_since_the_last_one_and_every_run_once_a_day(
    tmp_path: Path,
) -> None:
    """Within a day of the last full check a sync copies new runs, and runs deleted, restored
    or removed since; an edit to an old finished run waits for the daily full check."""
    uri, client, experiment_id = _source(tmp_path)  # runs of 2023
    recent = client.create_run(experiment_id, run_name="recent").info.run_id  # started now
    client.set_terminated(recent)
    destination = tmp_path / "mirror.db"
    assert _sync(uri, destination).full
    runs = client.search_runs(
        [experiment_id], "attributes.run_name LIKE 'run-%'", order_by=["attributes.run_name"]
    )
    deleted, restored, removed, edited = (run.info.run_id for run in runs[:4])
    client.delete_run(restored)
    client.delete_run(removed)
    assert _sync(uri, destination).full is False  # the deletions arrive without a full check
    client.delete_run(deleted)
    client.restore_run(restored)
    client._tracking_client.store._hard_delete_run(removed)  # what `mlflow gc` does
    client.set_tag(edited, "team", "audio")
    new = client.create_run(experiment_id, run_name="late").info.run_id
    client.log_metric(new, "loss", 0.5, step=0)
    imported = client.create_experiment("imported", artifact_location=str(tmp_path / "imp"))
    old_run = client.create_run(imported, start_time=T0, run_name="from-2023").info.run_id
    client.set_terminated(old_run, end_time=T0 + 5)

    report = _sync(uri, destination)
    mirror = MlflowClient(f"sqlite:///{destination}")
    assert report.full is False and report.runs_gone == 1
    assert mirror.get_run(old_run).info.run_name == "from-2023"  # a new experiment: every run
    assert mirror.get_run(deleted).info.lifecycle_stage == "deleted"
    assert mirror.get_run(restored).info.lifecycle_stage == "active"
    assert mirror.get_run(removed).info.lifecycle_stage == "deleted"  # kept, marked gone
    assert mirror.get_run(new).data.metrics == {"loss": 0.5}
    assert mirror.get_run(edited).data.tags["team"] == "vision"  # not compared this time

    with sqlite3.connect(destination) as conn:  # the last full check, 25 hours ago
        conn.execute(
            "UPDATE flowdeck_mirror SET value = ? WHERE key = 'last_full_sync'",
            (str(int(time.time() * 1000) - 25 * 3600 * 1000),),
        )
    daily = _sync(uri, destination)
    assert daily.full and daily.runs_copied == 1
    assert mirror.get_run(edited).data.tags["team"] == "audio"
    copied = _frame(f"sqlite:///{destination}", experiment_id)
    copied = copied[copied["run_id"] != removed].reset_index(drop=True)
    pd.testing.assert_frame_equal(copied, _frame(uri, experiment_id))


@pytest.mark.slow
def test_a_killed_sync_resumes_to_the_same_result(tmp_path: Path) -> None:
    uri, _, experiment_id = _source(tmp_path, runs=300, points=200)
    destination = tmp_path / "mirror.db"
    command = [
        sys.executable,
        "-m",
        "flowdeck",
        "mirror",
        uri,
        str(destination),
        "--batch-runs",
        "10",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    copied = 0
    while copied < 20 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        copied = _copied_runs(destination)
    assert process.poll() is None, "the sync finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    interrupted = _copied_runs(destination)
    assert 0 < interrupted < 300
    assert read_state(destination)["complete"] == "0"

    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert f"{300 - interrupted} of 300 runs copied" in finished.stderr
    pd.testing.assert_frame_equal(
        _frame(f"sqlite:///{destination}", experiment_id), _frame(uri, experiment_id)
    )
    one_go = tmp_path / "one-go.db"
    _sync(uri, one_go)
    assert _content_digest(destination) == _content_digest(one_go)


def _copied_runs(destination: Path) -> int:
    if not destination.exists():
        return 0
    try:
        with sqlite3.connect(f"{destination.as_uri()}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT COUNT(*) FROM flowdeck_mirror_runs").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_an_unreachable_source_leaves_the_mirror_as_it_was(tmp_path: Path, capsys) -> None:
    uri, _, _ = _source(tmp_path, runs=2)
    destination = tmp_path / "mirror.db"
    _sync(uri, destination)
    before = destination.read_bytes()
    code = mirror_from_cli(["http://127.0.0.1:9", str(destination)])
    assert code == 1
    message = capsys.readouterr().err
    assert "127.0.0.1:9" in message and "Traceback" not in message
    assert destination.read_bytes() == before


def test_a_file_that_is_not_a_mirror_is_never_written(tmp_path: Path, capsys) -> None:
    uri, _, _ = _source(tmp_path, runs=1)
    other = Path(uri.removeprefix("sqlite:///"))
    before = other.read_bytes()
    assert mirror_from_cli([uri, str(other)]) == 1
    assert "is not a Flowdeck mirror" in capsys.readouterr().err
    assert other.read_bytes() == before
