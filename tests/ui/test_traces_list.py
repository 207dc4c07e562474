"""The trace list: pages as it scrolls, sorts, groups by session, tags, deletes and exports."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

from mlflow import MlflowClient  # noqa: E402

import flowdeck.ui.pages  # noqa: E402, F401 - registers the pages
from flowdeck.core.addresses import parse_address  # noqa: E402
from flowdeck.store import open_store  # noqa: E402
from flowdeck.store.base import Store  # noqa: E402
from flowdeck.ui.edit.confirm import ConfirmChangesDialog  # noqa: E402
from flowdeck.ui.pages.traces import list_model  # noqa: E402
from flowdeck.ui.pages.traces.list_page import TracesPage  # noqa: E402
from flowdeck.ui.pages.traces.tag_dialog import TraceTagDialog  # noqa: E402
from flowdeck.ui.shell.page import Shell  # noqa: E402
from flowdeck.ui.shell.page_types import create_page  # noqa: E402

TIMEOUT = 30_000
TRACES = 12
SHOTS = Path("/tmp/traces")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """12 traces in 3 sessions; trace n sleeps n ms, so durations differ."""
    import time

    import mlflow

    folder = tmp_path_factory.mktemp("trace-list")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        experiment_id = mlflow.set_experiment("chat").experiment_id
        for number in range(TRACES):
            with mlflow.start_span(f"turn-{number:02d}") as span:
                span.set_inputs({"q": number})
                time.sleep(number / 1000)
                mlflow.update_current_trace(
                    metadata={"mlflow.trace.session": f"s{number % 3}"},
                    tags={"team": "a"},
                )
        mlflow.flush_trace_async_logging()
    finally:
        mlflow.set_tracking_uri(previous)
    return folder / "mlflow.db", experiment_id


@pytest.fixture
def copy(template: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    shutil.copy(template[0], tmp_path / "mlflow.db")
    return tmp_path / "mlflow.db", template[1]


@pytest.fixture
def store(copy: tuple[Path, str]) -> Store:
    opened = open_store(copy[0])
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(list_model, "PAGE_SIZE", 5)


def opened(qtbot, shell: Shell, store: Store, experiment_id: str) -> TracesPage:  # noqa: ANN001
    with qtbot.waitSignal(shell.context.read_only_changed, timeout=TIMEOUT):
        shell.writes.check(store)
    page = create_page(shell, store, parse_address(f"traces/{experiment_id}"))
    qtbot.addWidget(page)
    page.resize(1300, 600)
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.start()
    assert page.error is None, page.error
    return page


def names(page: TracesPage) -> list[str]:
    return [info.name for info in page.model.rows]


def test_pages_arrive_as_the_table_scrolls(qtbot, shell, store, copy) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, copy[1])
    assert page.model.rowCount() == 5 and "more load as you scroll" in page.count.text()
    while not page.model.exhausted:
        with qtbot.waitSignal(page.model.page_arrived, timeout=TIMEOUT):
            page.model.fetchMore()
    assert page.model.rowCount() == TRACES
    assert names(page) == [f"turn-{n:02d}" for n in reversed(range(TRACES))]  # newest first
    assert page.count.text() == f"{TRACES} traces"


def test_sorting_by_the_store_and_locally(qtbot, shell, store, copy) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, copy[1])
    header = page.table.horizontalHeader()
    from PySide6.QtCore import Qt

    with qtbot.waitSignal(page.model.page_arrived, timeout=TIMEOUT):
        header.setSortIndicator(6, Qt.SortOrder.DescendingOrder)  # Duration: the store sorts
        page.sort_by(6)
    assert page.model.rowCount() == 5
    durations = [info.execution_time_ms for info in page.model.rows]
    assert durations == sorted(durations, reverse=True)
    every = store.search_traces([copy[1]], max_results=100).items
    longest = max(info.execution_time_ms for info in every)
    assert durations[0] == longest  # the store sorted all traces, not just the loaded page


def test_group_by_session_reads_everything_in_order(qtbot, shell, store, copy) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, copy[1])
    page.group.setChecked(True)
    qtbot.waitUntil(lambda: "sessions" in page.count.text(), timeout=TIMEOUT)
    sessions = [info.session_id for info in page.model.rows]
    assert sessions == sorted(sessions) and len(sessions) == TRACES
    first = [info.name for info in page.model.rows if info.session_id == "s0"]
    assert first == ["turn-00", "turn-03", "turn-06", "turn-09"]  # a conversation, in order
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.show()
    qtbot.waitExposed(page)
    assert page.grab().save(str(SHOTS / "traces-by-session.png"))


def test_tag_delete_and_export_the_selection(qtbot, shell, store, copy, tmp_path) -> None:  # noqa: ANN001
    from mlflow.entities import Trace

    db, experiment_id = copy
    page = opened(qtbot, shell, store, experiment_id)
    assert not page.buttons["tag"].isEnabled()
    page.table.selectRow(0)
    page.table.selectionModel().select(
        page.model.index(1, 0),
        page.table.selectionModel().SelectionFlag.Select
        | page.table.selectionModel().SelectionFlag.Rows,
    )
    chosen = page.selected_ids()
    assert len(chosen) == 2 and page.buttons["tag"].isEnabled()

    page.buttons["tag"].click()
    dialog = page.active_dialog
    assert isinstance(dialog, TraceTagDialog)
    dialog.key_edit.setText("reviewed")
    dialog.value_edit.setText("yes")
    with qtbot.waitSignal(shell.writes.finished, timeout=TIMEOUT):
        dialog.accept()
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    assert all(client.get_trace(t).info.tags.get("reviewed") == "yes" for t in chosen)

    target = tmp_path / "two.json"
    with qtbot.waitSignal(page.status, timeout=TIMEOUT):
        page.export(chosen, str(target))
    exported = [Trace.from_dict(item) for item in json.loads(target.read_text())]
    assert [trace.info.trace_id for trace in exported] == chosen

    page.buttons["delete"].click()
    dialog = page.active_dialog
    assert isinstance(dialog, ConfirmChangesDialog) and dialog.names == chosen
    with qtbot.waitSignal(shell.writes.finished, timeout=TIMEOUT):
        dialog.accept()
    remaining = client.search_traces(locations=[experiment_id], max_results=100)
    assert len(remaining) == TRACES - 2
    assert not set(chosen) & {trace.info.trace_id for trace in remaining}


def test_a_bad_filter_is_explained_and_not_kept(qtbot, shell, store, copy) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, copy[1])
    page.search.setText("trace.status = 'OK'")
    with qtbot.waitSignal(page.address_changed, timeout=TIMEOUT):
        page.apply_filter()
    page.search.setText("trace.nonsense ~ 3")
    page.apply_filter()
    qtbot.waitUntil(page.filter_message.isVisible if page.isVisible() else
                    lambda: bool(page.filter_message.text()), timeout=TIMEOUT)
    assert page.address.filter == "trace.status = 'OK'"
