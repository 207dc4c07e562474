"""A long history over a real server: read in pages, every point; a quick sample first."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric
from tests.helpers.servers import start_mlflow_server

from flowdeck.store import open_store
from flowdeck.store.rest import history as rest_history

pytestmark = [pytest.mark.slow, pytest.mark.server]
POINTS = 30_000
T0 = 1_700_000_000_000


@pytest.fixture(scope="module")
def long_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own: the session's server holds exactly the rich store other tests read."""
    server = start_mlflow_server(tmp_path_factory.mktemp("long-history-server"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def long_run(long_server: str) -> tuple[str, str]:
    client = MlflowClient(tracking_uri=long_server)
    experiment_id = client.create_experiment("long-history")
    run_id = client.create_run(experiment_id, run_name="long").info.run_id
    values = np.sin(np.arange(POINTS) / 500.0)
    for start in range(0, POINTS, 1000):
        client.log_batch(
            run_id,
            metrics=[
                Metric("loss", float(values[step]), T0 + step, step)
                for step in range(start, min(start + 1000, POINTS))
            ],
        )
    return long_server, run_id


def _count_pages(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of each page a history is made from, in the order given."""
    pages: list[int] = []
    original = rest_history.points_to_history

    def counting(answer_pages):  # noqa: ANN001, ANN202
        listed = [list(page) for page in answer_pages]
        pages.extend(len(page) for page in listed)
        return original(listed)

    monkeypatch.setattr(rest_history, "points_to_history", counting)
    return pages


def test_every_point_arrives_in_pages(long_run, monkeypatch) -> None:  # noqa: ANN001
    url, run_id = long_run
    pages = _count_pages(monkeypatch)
    store = open_store(url)
    history = store.metric_history([run_id], ["loss"])[(run_id, "loss")]
    expected = MlflowClient(tracking_uri=url).get_metric_history(run_id, "loss")
    assert history["step"].tolist() == [m.step for m in sorted(expected, key=lambda m: m.step)]
    assert len(history) == POINTS and pages == [25_000, 5_000]
    assert np.allclose(history["value"], np.sin(np.arange(POINTS) / 500.0))


def test_the_server_sample_comes_first_and_is_small(long_run) -> None:  # noqa: ANN001
    url, run_id = long_run
    store = open_store(url)
    sample = store.sampled_history([run_id], ["loss"])[(run_id, "loss")]
    assert 2 <= len(sample) <= 1000
    assert sample["step"][0] == 0 and sample["step"][-1] == POINTS - 1
    assert np.all(np.diff(sample["step"]) > 0)


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 4,000 then 7,000 points, so 30,000 points take a window of requests."""
    monkeypatch.setattr(rest_history, "PAGE_POINTS", 4_000)
    monkeypatch.setattr(rest_history, "LATER_PAGE_POINTS", 7_000)


def test_later_pages_are_asked_for_several_at_a_time(long_run, small_pages, monkeypatch) -> None:  # noqa: ANN001
    url, run_id = long_run
    pages = _count_pages(monkeypatch)
    history = open_store(url).metric_history([run_id], ["loss"])[(run_id, "loss")]
    assert pages == [4_000, 7_000, 7_000, 7_000, 5_000]  # in offset order, none past the end
    assert history["step"].tolist() == list(range(POINTS))
    assert np.allclose(history["value"], np.sin(np.arange(POINTS) / 500.0))


def test_a_long_history_reports_the_points_received_so_far(long_run, small_pages) -> None:  # noqa: ANN001
    """Between the sample and the last page, the status bar counts the points that came."""
    import re

    from flowdeck.core.task_state import TaskState

    url, run_id = long_run
    reports: list[tuple[int, int, str]] = []
    state = TaskState(lambda done, total, text: reports.append((done, total, text)))
    history = open_store(url).metric_history([run_id], ["loss"], state=state)[(run_id, "loss")]
    assert len(history) == POINTS
    counts = [
        int(m.group(1).replace(",", ""))
        for *_, text in reports
        if (m := re.search(r"([\d,]+) points so far", text))
    ]
    assert counts[0] == 4_000  # the first page, reported at once
    assert counts == sorted(counts) and counts[-1] == POINTS
    assert reports[-1][:2] == (1, 1) and "30,000 points so far" in reports[-1][2]


def test_a_mirror_copies_a_long_history_arriving_in_parts(long_run, small_pages, tmp_path) -> None:  # noqa: ANN001
    """The mirror writes a long history's pages as they arrive; MLflow reads the same points."""
    from flowdeck.store.mirror import MirrorOptions, sync_mirror

    url, run_id = long_run
    parts: list[int] = []
    original = rest_history.history_chunks

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        for page in original(*args, **kwargs):
            parts.append(len(page))
            yield page

    import flowdeck.store.mirror.histories as mirror_histories

    mirror = tmp_path / "mirror.db"
    source = open_store(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mirror_histories, "history_chunks", counting)
        report = sync_mirror(source, mirror, MirrorOptions(models=False, traces=False))
    assert sorted(parts) == [4_000, 5_000, 7_000, 7_000, 7_000]
    assert report.points >= POINTS
    copied = MlflowClient(tracking_uri=f"sqlite:///{mirror}").get_metric_history(run_id, "loss")
    expected = MlflowClient(tracking_uri=url).get_metric_history(run_id, "loss")
    key = lambda m: (m.step, m.timestamp, m.value)  # noqa: E731
    assert sorted(map(key, copied)) == sorted(map(key, expected))
    mirror.unlink()  # opening the server in later tests must not go through this mirror


def test_a_chart_over_the_server_draws_its_sample_then_asks_for_every_point(
    qtbot, long_run
) -> None:  # noqa: ANN001
    """The server's cores go to the sample first: every point is asked for once it is drawn."""
    from tests.helpers.windows import TIMEOUT, close_window, open_store, shown_window

    url, run_id = long_run
    window = shown_window(qtbot)
    try:
        store = open_store(qtbot, window, url)
        assert store.kind == "rest"
        events: list[str] = []
        sampled, every_point = store.sampled_history, store.metric_history

        def sampled_history(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            found = sampled(*args, **kwargs)
            events.append(f"sample of {len(found[(run_id, 'loss')])} points")
            return found

        def metric_history(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            events.append("every point asked for")
            return every_point(*args, **kwargs)

        store.sampled_history, store.metric_history = sampled_history, metric_history
        with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT):
            assert window.select_experiment_named(store, "long-history")
        window.show_charts()
        messages: list[str] = []
        window.charts.message.connect(messages.append)
        status: list[tuple[str, bool]] = []  # (the status bar's text, Cancel shown)
        window.statusBar().messageChanged.connect(
            lambda text: status.append((text, window.cancel_button.isVisible()))
        )
        window.runs.select_first(1)
        qtbot.waitUntil(lambda: "loss" in window.charts.charts, timeout=TIMEOUT)
        curve = lambda: window.charts.charts["loss"]._curves.get(run_id)  # noqa: E731
        qtbot.waitUntil(
            lambda: curve() is not None and len(curve().data.x) == POINTS, timeout=60_000
        )
        assert events[0].startswith("sample of ") and int(events[0].split()[2]) <= 1000
        assert events[1:] == ["every point asked for"]
        assert any("server's sample" in text for text in messages)
        # while every point comes, the status bar counts them and Cancel stops the load
        assert ("Reading metric histories… 25,000 points so far", True) in status
        qtbot.waitUntil(lambda: not window.cancel_button.isVisible(), timeout=TIMEOUT)
        texts = [text for text, _cancel in status if text]  # (a timed message may clear)
        assert "Charted 1 run, 1 metric from the server's sample; every point follows…" in texts
        assert texts[-1] == "Charted 1 run, 1 metric", status
    finally:
        close_window(window)
