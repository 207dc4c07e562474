"""Serve Locally… from a version page, then the Servers page: status, console, inference log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import flowdeck.ui.pages  # noqa: F401 - registers the pages
from flowdeck.core.addresses import parse_address
from flowdeck.store import open_store
from flowdeck.store.base import Store
from flowdeck.ui.serving.console import FORMATS
from flowdeck.ui.serving.manager import servers_of
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import create_page

pytestmark = [pytest.mark.slow, pytest.mark.server]
TIMEOUT = 120_000
MODEL = "iris-clf"
SHOTS = Path("/tmp/serving")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sklearn classifier registered as iris-clf v1, with a serving input example."""
    import mlflow
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    folder = tmp_path_factory.mktemp("serving-ui")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        mlflow.set_experiment("serve")
        frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
        with mlflow.start_run():
            mlflow.sklearn.log_model(
                LogisticRegression().fit(frame, [0, 0, 1, 1]),
                name="model",
                input_example=frame.head(2),
                registered_model_name=MODEL,
            )
    finally:
        mlflow.set_tracking_uri(previous)
        mlflow.set_registry_uri(previous)
    return folder / "mlflow.db"


@pytest.fixture
def store(db: Path) -> Store:
    opened = open_store(db)
    yield opened
    opened.close()


def test_serve_a_version_and_send_a_request(qtbot, shell: Shell, store: Store) -> None:  # noqa: ANN001
    page = create_page(shell, store, parse_address(f"model/{MODEL}/1"))
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.start()
    opened: list = []
    page.open_requested.connect(lambda address, _new: opened.append(address))
    page.serve_button.click()
    dialog = page.serving.dialog
    qtbot.waitUntil(lambda: dialog.inspected is not None, timeout=TIMEOUT)
    from flowdeck.serving import flavor_runs_code

    expected = flavor_runs_code(dialog.inspected.model_dir / "MLmodel") or ""
    assert dialog.warning.text() == expected  # skops-saved sklearn runs no code; pickles would
    assert dialog.start_button.isEnabled()
    dialog.host.setText("0.0.0.0")
    assert not dialog.start_button.isEnabled()  # another address needs the explicit choice
    dialog.host.setText("127.0.0.1")
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "launch-dialog.png"))
    manager = servers_of(shell)
    try:
        dialog.accept()
        assert opened and opened[-1].kind == "servers"
        served = manager.servers[-1]
        qtbot.waitUntil(lambda: served.state in ("running", "failed"), timeout=TIMEOUT)
        assert served.state == "running", served.problem

        servers = create_page(shell, None, parse_address("servers"))  # type: ignore[arg-type]
        qtbot.addWidget(servers)
        servers.resize(1200, 760)
        servers.start()
        assert servers.table.item(0, 6).text() == "running"
        assert servers.table.item(0, 2).text().startswith("http://127.0.0.1:")
        console = servers.console
        assert '"x"' in console.body.toPlainText()  # the model's saved serving example
        console.send_button.click()
        qtbot.waitUntil(lambda: console.outcome.text().startswith("HTTP"), timeout=TIMEOUT)
        assert console.outcome.text().startswith("HTTP 200")
        assert "predictions" in console.response.toPlainText()
        expected = json.loads(console.response.toPlainText())
        for kind in FORMATS[1:]:  # every input format answers the same
            console.format_box.setCurrentText(kind)
            console.format_box.activated.emit(console.format_box.currentIndex())
            assert kind in console.body.toPlainText()
            console.outcome.setText("")
            console.send_button.click()
            qtbot.waitUntil(lambda: console.outcome.text().startswith("HTTP"), timeout=TIMEOUT)
            assert console.outcome.text().startswith("HTTP 200"), kind
            assert json.loads(console.response.toPlainText()) == expected, kind
        console.body.setPlainText('{"not_a_format": 1}')
        console.outcome.setText("")
        console.send_button.click()
        qtbot.waitUntil(lambda: console.outcome.text().startswith("HTTP"), timeout=TIMEOUT)
        assert console.outcome.text().startswith("HTTP 400")  # the server's own message, shown
        assert console.response.toPlainText().strip()
        log = served.process.inference_log
        qtbot.waitUntil(lambda: len(log.entries()) >= len(FORMATS) + 1, timeout=TIMEOUT)
        servers.tabs.setCurrentIndex(2)
        servers.refresh_view()
        statuses = [servers.requests.item(r, 3).text() for r in range(servers.requests.rowCount())]
        assert statuses == ["200"] * len(FORMATS) + ["400"]  # every request, in order
        servers.tabs.setCurrentIndex(1)
        servers.show()
        qtbot.waitExposed(servers)
        servers.grab().save(str(SHOTS / "servers.png"))

        servers.buttons["stop"].click()
        qtbot.waitUntil(lambda: served.state == "stopped", timeout=TIMEOUT)
    finally:
        manager.stop_all()


def test_the_model_page_serves_its_aliases_and_latest(qtbot, shell: Shell, store: Store) -> None:  # noqa: ANN001
    page = create_page(shell, store, parse_address(f"model/{MODEL}"))
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.start()
    texts = [action.text() for action in page.serve_button.menu().actions()]
    assert texts == ["Latest version (v1)"] and page.serve_button.isEnabled()


def test_quitting_asks_then_stops_every_server_process(qtbot, store: Store, db: Path) -> None:  # noqa: ANN001
    import os

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox
    from tests.helpers.windows import shown_window

    from flowdeck.serving import LaunchOptions

    window = shown_window(qtbot)
    window.persist_state = False
    manager = servers_of(window.shell)
    served = manager.launch(store, f"models:/{MODEL}/1", MODEL, LaunchOptions())
    qtbot.waitUntil(lambda: served.state in ("running", "failed"), timeout=TIMEOUT)
    assert served.state == "running", served.problem
    group = served.process.pid

    def answer(button: QMessageBox.StandardButton) -> None:
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox))
        assert "Closing Flowdeck stops 1 model server" in box.text()
        box.button(button).click()

    QTimer.singleShot(200, lambda: answer(QMessageBox.StandardButton.Cancel))
    window.close()
    assert window.isVisible() and served.state == "running"  # Cancel keeps both
    QTimer.singleShot(200, lambda: answer(QMessageBox.StandardButton.Yes))
    window.close()
    assert not window.isVisible()
    with pytest.raises(ProcessLookupError):  # the whole process group is gone
        os.killpg(group, 0)


def test_the_bundles_launch_dialog_says_which_python_serves(qtbot, monkeypatch) -> None:  # noqa: ANN001
    import sys

    from flowdeck.ui.serving.launch_dialog import BUNDLE_CURRENT, LaunchDialog

    installed = LaunchDialog("models:/clf/1")
    qtbot.addWidget(installed)
    assert installed.env.itemText(0) == "The Python Flowdeck runs in"
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # as in the PyInstaller bundle
    bundled = LaunchDialog("models:/clf/1")
    qtbot.addWidget(bundled)
    assert (bundled.env.itemText(0), bundled.env.itemData(0)) == (BUNDLE_CURRENT, "current")
    assert bundled.env.count() == installed.env.count()
