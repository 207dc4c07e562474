"""File → Make Available Offline…, Sync Mirror and Open Mirror's Source, driven in the window."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from PySide6.QtCore import Qt
from tests.helpers.windows import TIMEOUT, close_window, open_store, shown_window

from flowdeck.store.mirror import MirrorReport
from flowdeck.ui.mirror.commands import STOPPED, MirrorCommands

T0 = 1_700_000_000_000


@pytest.fixture
def window(qtbot, qt_warnings):  # noqa: ANN001, ANN201
    main_window = shown_window(qtbot)
    yield main_window
    close_window(main_window)


def _source(folder: Path, runs: int) -> tuple[Path, MlflowClient, str]:
    path = folder / "team.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    experiment_id = client.create_experiment("offline", artifact_location=str(folder / "art"))
    client.create_experiment("other", artifact_location=str(folder / "art2"))
    for number in range(runs):
        run_id = client.create_run(experiment_id, run_name=f"r{number}").info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric("loss", 1 / (s + 1), T0 + s, s) for s in range(10)],
            params=[Param("n", str(number))],
        )
    client._tracking_client.store.engine.dispose()
    return path, client, experiment_id


def _dialog(qtbot, window):  # noqa: ANN001, ANN202
    commands = window.findChild(MirrorCommands)
    assert window.commands.trigger("store.mirror")
    qtbot.waitUntil(lambda: commands.dialog is not None and commands.dialog.isVisible())
    return commands, commands.dialog


def test_make_available_offline_then_sync_and_open_the_source(
    qtbot, window, tmp_path: Path
) -> None:  # noqa: ANN001
    path, client, experiment_id = _source(tmp_path, runs=3)
    source = open_store(qtbot, window, path)
    assert window.commands.reason("store.mirror_sync") == (
        "The current store is not an offline mirror."
    )
    commands, dialog = _dialog(qtbot, window)
    assert dialog.all_experiments.isChecked() and dialog.experiment_list.count() >= 2
    destination = tmp_path / "offline" / "team-mirror.db"
    dialog.destination.setText(str(destination))
    dialog.some_experiments.setChecked(True)
    assert dialog.problem() == "Tick at least one experiment, or choose all of them."
    for row in range(dialog.experiment_list.count()):
        item = dialog.experiment_list.item(row)
        if item.data(Qt.ItemDataRole.UserRole) == experiment_id:
            item.setCheckState(Qt.CheckState.Checked)
    dialog.grab().save(str(tmp_path / "mirror-dialog.png"))
    with qtbot.waitSignal(commands.finished, timeout=120_000) as finished:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    report = finished.args[0]
    assert isinstance(report, MirrorReport), report
    assert (report.experiments, report.runs_copied, report.points) == (1, 3, 30)
    assert "is up to date" in dialog.status.text() and dialog.open_button.isVisible()
    dialog.grab().save(str(tmp_path / "mirror-dialog-done.png"))

    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.stores()) == 2, timeout=TIMEOUT)
    mirror = next(store for store in window.stores() if store is not source)
    qtbot.waitUntil(lambda: window.sidebar.model.is_loaded(mirror), timeout=TIMEOUT)
    assert "offline mirror" in mirror.display_name
    assert set(mirror.experiments()["name"]) == {"offline"}
    qtbot.waitUntil(lambda: id(mirror) in window.context.state.read_only, timeout=TIMEOUT)
    reason = window.context.read_only_reason(mirror) or ""
    assert f"Offline mirror of sqlite:///{path}" in reason and "last synced" in reason

    # A new run at the source arrives with Sync Mirror, and nothing else is copied again.
    new_run = client.create_run(experiment_id, run_name="late").info.run_id
    client.log_metric(new_run, "loss", 0.25, step=0)
    client._tracking_client.store.engine.dispose()
    window.open_page(mirror, f"experiment/{experiment_id}")
    qtbot.waitUntil(lambda: window.current_store() is mirror, timeout=TIMEOUT)
    assert window.commands.reason("store.mirror_sync") is None
    with qtbot.waitSignal(commands.finished, timeout=120_000) as synced:
        assert window.commands.trigger("store.mirror_sync")
    assert isinstance(synced.args[0], MirrorReport), synced.args[0]
    assert (synced.args[0].runs_copied, synced.args[0].points) == (1, 1)
    assert new_run in set(mirror.runs([experiment_id])["run_id"])
    qtbot.wait(1500)  # the page reloads and says what it loaded; the sync's outcome stays
    assert "is up to date: changes since the last sync" in window.statusBar().currentMessage()

    # Open Mirror's Source shows the same page at the origin (open already: reused), where
    # the edit dialogs work.
    opened_before = len(window.stores())
    window.open_page(mirror, f"run/{new_run}")
    qtbot.waitUntil(lambda: window.current_store() is mirror, timeout=TIMEOUT)
    assert window.commands.trigger("store.mirror_source")
    qtbot.waitUntil(lambda: window.host.current_page().store is source, timeout=TIMEOUT)
    assert str(window.host.current_page().address) == f"run/{new_run}"
    assert len(window.stores()) == opened_before
    assert window.context.read_only_reason(source) is None


def test_cancelling_keeps_what_was_copied_and_says_so(
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    from dataclasses import replace

    from flowdeck.ui.mirror.dialog import MirrorDialog

    path, _, _ = _source(tmp_path, runs=40)
    open_store(qtbot, window, path)
    chosen = MirrorDialog.options
    monkeypatch.setattr(  # a batch per run: Stop lands between batches, however fast they are
        MirrorDialog, "options", lambda self: replace(chosen(self), batch_runs=1)
    )
    commands, dialog = _dialog(qtbot, window)
    dialog.destination.setText(str(tmp_path / "cancelled.db"))
    with qtbot.waitSignal(commands.finished, timeout=120_000) as finished:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args[0] == STOPPED
    assert dialog.status.text() == STOPPED and not dialog.open_button.isVisible()
    assert window.commands.reason("store.mirror") is None  # ready for another go


def test_an_unusable_destination_is_explained(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    path, _, _ = _source(tmp_path, runs=1)
    open_store(qtbot, window, path)
    commands, dialog = _dialog(qtbot, window)
    dialog.destination.setText(str(path))  # the source itself: not a mirror
    with qtbot.waitSignal(commands.finished, timeout=120_000) as finished:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert "is not a Flowdeck mirror" in finished.args[0]
    assert "is not a Flowdeck mirror" in dialog.status.text()


@pytest.mark.slow
@pytest.mark.server
def test_a_mirrored_server_shows_its_copy_then_what_changed(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    from tests.helpers.servers import start_mlflow_server

    from flowdeck.store import open_store as open_flowdeck_store
    from flowdeck.store.mirror import MirrorOptions, sync_mirror
    from flowdeck.store.mirror.cached import CachedStore

    server = start_mlflow_server(tmp_path / "server")
    try:
        client = MlflowClient(tracking_uri=server.url)
        experiment_id = client.create_experiment("remote")
        for number in range(2):
            client.create_run(experiment_id, run_name=f"old{number}")
        sync_mirror(
            open_flowdeck_store(server.url),
            tmp_path / "remote-copy.db",
            MirrorOptions(models=False, traces=False),
        )
        late = client.create_run(experiment_id, run_name="late").info.run_id

        store = open_store(qtbot, window, server.url)
        assert isinstance(store, CachedStore)
        assert "offline copy" in window.statusBar().currentMessage()
        window.open_page(store, f"experiment/{experiment_id}")
        qtbot.waitUntil(lambda: window.runs is not None, timeout=TIMEOUT)
        qtbot.waitUntil(
            lambda: late in set(store.runs([experiment_id])["run_id"]), timeout=TIMEOUT
        )
        qtbot.waitUntil(lambda: window.runs.model.rowCount() == 3, timeout=TIMEOUT)
        window.grab().save(str(tmp_path / "cached-server.png"))
    finally:
        server.stop()


def test_ticking_artifacts_shows_their_size_first(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    path, client, experiment_id = _source(tmp_path, runs=1)
    run_id = client.search_runs([experiment_id])[0].info.run_id
    client.log_text(run_id, "y" * 2048, "report.txt")
    client._tracking_client.store.engine.dispose()
    open_store(qtbot, window, path)
    commands, dialog = _dialog(qtbot, window)
    dialog.destination.setText(str(tmp_path / "with-files.db"))
    dialog.artifacts.setChecked(True)
    qtbot.waitUntil(lambda: dialog.artifact_estimate.text().startswith("About"), timeout=TIMEOUT)
    assert dialog.artifact_estimate.text() == "About 1 artifact file of 1 run, 2.0 KB."
    dialog.grab().save(str(tmp_path / "mirror-artifacts.png"))
    with qtbot.waitSignal(commands.finished, timeout=120_000) as finished:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert finished.args[0].extras["artifact files"] == 1
    assert (tmp_path / "with-files.artifacts" / run_id / "report.txt").read_text() == "y" * 2048
