"""A server store read through its mirror: instant and offline, refreshed, edits seen at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from tests.helpers.servers import start_mlflow_server

from flowdeck.core.errors import FlowdeckError
from flowdeck.store import open_store
from flowdeck.store.mirror import MirrorOptions, sync_mirror
from flowdeck.store.mirror.cached import CachedStore
from flowdeck.store.mirror.index import cached_if_mirrored

pytestmark = [pytest.mark.slow, pytest.mark.server]
T0 = 1_700_000_000_000


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, MlflowClient]]:
    """One real server for the module; each test writes its own experiment into it."""
    process = start_mlflow_server(tmp_path_factory.mktemp("cached-server"))
    try:
        yield process.url, MlflowClient(tracking_uri=process.url)
    finally:
        process.stop()


@pytest.fixture
def server(live_server, request: pytest.FixtureRequest) -> tuple[str, MlflowClient, str, list[str]]:  # noqa: ANN001
    url, client = live_server
    experiment_id = client.create_experiment(request.node.name)
    run_ids = []
    for number in range(4):
        run_id = client.create_run(experiment_id, run_name=f"r{number}").info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric("loss", 1 / (s + 1), T0 + s, s) for s in range(30)],
            params=[Param("n", str(number))],
        )
        client.set_terminated(run_id)
        run_ids.append(run_id)
    return url, client, experiment_id, run_ids


def _mirrored(url: str, tmp_path: Path) -> CachedStore:
    remote = open_store(url)
    copy = tmp_path / "copy.db"
    sync_mirror(remote, copy, MirrorOptions(models=False, traces=False))
    cached = cached_if_mirrored(open_store(url))
    assert isinstance(cached, CachedStore) and cached.mirror.path == copy
    return cached


def _frame(store, experiment_id: str) -> pd.DataFrame:  # noqa: ANN001
    frame = store.runs([experiment_id], order_by=["attributes.run_id"])
    return frame[sorted(frame.columns)]


def test_a_server_without_a_mirror_is_opened_as_it_is(tmp_path: Path) -> None:
    process = start_mlflow_server(tmp_path / "server")
    try:
        store = open_store(process.url)
        assert cached_if_mirrored(store) is store
    finally:
        process.stop()


def test_runs_and_histories_come_from_the_mirror_even_offline(server, tmp_path: Path) -> None:  # noqa: ANN001
    url, _, experiment_id, run_ids = server
    cached = _mirrored(url, tmp_path)
    live = open_store(url)
    pd.testing.assert_frame_equal(_frame(cached, experiment_id), _frame(live, experiment_id))
    expected = live.metric_history(run_ids, ["loss"])
    found = cached.metric_history(run_ids, ["loss"])
    for pair, history in expected.items():
        assert found[pair].tolist() == history.tolist()
    assert "offline copy" in cached.cached_note()


def test_offline_the_mirror_still_answers(tmp_path: Path) -> None:
    process = start_mlflow_server(tmp_path / "server")
    client = MlflowClient(tracking_uri=process.url)
    experiment_id = client.create_experiment("offline")
    run_id = client.create_run(experiment_id, run_name="kept").info.run_id
    client.log_metric(run_id, "loss", 0.5, step=3)
    cached = _mirrored(process.url, tmp_path)
    process.stop()
    frame = cached.runs([experiment_id])
    assert list(frame["run_id"]) == [run_id] and frame["metrics.loss"].iloc[0] == 0.5
    assert cached.metric_history([run_id], ["loss"])[(run_id, "loss")]["step"].tolist() == [3]
    assert cached.run(run_id).info.run_name == "kept"
    with pytest.raises(FlowdeckError):  # what is not mirrored says plainly it is unreachable
        cached.list_artifacts(run_id)


def test_refresh_copies_new_runs_and_points(server, tmp_path: Path) -> None:  # noqa: ANN001
    url, client, experiment_id, run_ids = server
    cached = _mirrored(url, tmp_path)
    running = client.create_run(experiment_id, run_name="running").info.run_id
    client.log_metric(running, "loss", 0.9, step=0)
    assert running not in set(cached.runs([experiment_id])["run_id"])
    report = cached.refresh()
    assert report.runs_copied == 1 and report.points == 1
    assert running in set(cached.runs([experiment_id])["run_id"])

    client.log_metric(running, "loss", 0.8, step=1)
    assert cached.refresh().points == 1  # the running run is looked at again
    history = cached.metric_history([running], ["loss"])[(running, "loss")]
    assert history["step"].tolist() == [0, 1]
    assert cached.refresh().runs_copied == 0


def test_an_edit_through_the_cached_store_is_seen_at_once(server, tmp_path: Path) -> None:  # noqa: ANN001
    url, client, experiment_id, run_ids = server
    cached = _mirrored(url, tmp_path)
    cached.writer().set_run_tags(run_ids[:2], {"reviewed": "yes"})
    frame = cached.runs([experiment_id])
    tagged = set(frame.loc[frame["tags.reviewed"] == "yes", "run_id"])
    assert tagged == set(run_ids[:2])
    assert client.get_run(run_ids[0]).data.tags["reviewed"] == "yes"  # written at the source
    cached.writer().rename_experiment(experiment_id, "cached-renamed")
    assert cached.experiment(experiment_id).name == "cached-renamed"


def test_syncing_from_the_server_opened_through_its_mirror_reads_the_server(
    server, tmp_path: Path
) -> None:  # noqa: ANN001
    """Sync Mirror with the origin open (through this mirror) still finds what changed there:
    a new experiment and a run deleted at the server."""
    url, client, experiment_id, run_ids = server
    cached = _mirrored(url, tmp_path)
    client.delete_run(run_ids[0])
    added = client.create_experiment(f"added-{tmp_path.name}")
    client.create_run(added, run_name="fresh")
    report = sync_mirror(cached, cached.mirror.path, MirrorOptions(models=False, traces=False))
    assert report.full is False
    mirror = MlflowClient(f"sqlite:///{cached.mirror.path}")
    assert mirror.get_run(run_ids[0]).info.lifecycle_stage == "deleted"
    assert [run.info.run_name for run in mirror.search_runs([added])] == ["fresh"]
    cached.close()
