"""The Registry menu: its commands follow the current page and press that page's buttons."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient
from tests.helpers.windows import close_window, open_store, shown_window

from flowdeck.ui.registry.promote_dialog import PromoteDialog
from flowdeck.ui.registry.stage_dialog import StageDialog
from flowdeck.ui.shell.registry_commands import MODEL_PAGE, REGISTER_PAGE, VERSION_PAGE

TIMEOUT = 30_000
MODEL = "clf"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("registry-commands")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("cmd", artifact_location=str(folder / "art"))
    client.create_registered_model(MODEL)
    for _index in range(2):
        run_id = client.create_run(experiment_id).info.run_id
        client.set_terminated(run_id)
        client.create_model_version(MODEL, f"runs:/{run_id}/model", run_id=run_id)
    return folder / "mlflow.db"


def test_registry_commands_follow_the_page(qtbot, qt_warnings, db) -> None:  # noqa: ANN001
    window = shown_window(qtbot)
    try:
        store = open_store(qtbot, window, db)
        commands = window.commands
        menus = [action.text() for action in window.menuBar().actions()]
        assert "Registr&y" in menus
        assert commands.reason("registry.set_alias") == VERSION_PAGE
        assert commands.reason("registry.rename_model") == MODEL_PAGE
        assert commands.reason("registry.register") == REGISTER_PAGE

        page = window.open_page(store, f"model/{MODEL}")
        qtbot.waitUntil(lambda: not page.loading, timeout=TIMEOUT)
        assert commands.reason("registry.rename_model") is None
        assert commands.reason("registry.workflow") is None
        assert commands.reason("registry.promote") == VERSION_PAGE

        page = window.open_page(store, f"model/{MODEL}/2")
        qtbot.waitUntil(lambda: not page.loading, timeout=TIMEOUT)
        assert commands.reason("registry.stage") is None
        assert commands.reason("registry.evaluate")  # no workflow: the panel's reason
        window.commands.action("registry.stage").trigger()
        qtbot.waitUntil(lambda: isinstance(page.edits.active_dialog, StageDialog), timeout=TIMEOUT)
        page.edits.active_dialog.reject()
        window.commands.action("registry.promote").trigger()
        qtbot.waitUntil(lambda: window.findChild(PromoteDialog) is not None, timeout=TIMEOUT)
        window.findChild(PromoteDialog).reject()
    finally:
        close_window(window)
