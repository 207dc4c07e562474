"""Secrets in a store location never reach a label, the status bar, the settings file or the log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from tests.helpers.fault_server import Reply, Request, fault_server
from tests.helpers.servers import free_port
from tests.helpers.windows import TIMEOUT, close_window, shown_window

from flowdeck.ui.main_window import MainWindow
from flowdeck.ui.settings import Settings

SECRETS = ("pw-SECRET-4711", "SSL-SECRET-4711", "tok-SECRET-4711")


def _echo_authorization(request: Request) -> Reply:
    return Reply(500, f"Internal error, headers were {request.headers}".encode(), "text/plain")


def _model_texts(window: MainWindow) -> list[str]:
    """Every label and tooltip of the sidebar tree."""
    model = window.sidebar.model
    texts: list[str] = []
    pending = [QModelIndex()]
    while pending:
        parent = pending.pop()
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                value = model.data(index, role)
                if value:
                    texts.append(str(value))
            pending.append(index)
    return texts


def _open_and_fail(qtbot, window: MainWindow, location: str) -> list[str]:  # noqa: ANN001
    """Open ``location``, wait until listing it failed; every status text shown meanwhile."""
    shown: list[str] = []
    window.statusBar().messageChanged.connect(shown.append)
    with qtbot.waitSignal(window.sidebar.model.store_failed, timeout=TIMEOUT) as failed:
        window.open_location(location)
    store = failed.args[0]
    qtbot.waitUntil(lambda: id(store) in window.context.state.read_only, timeout=TIMEOUT)
    return [*shown, failed.args[1], window.windowTitle(), store.display_name]


def _leaks(texts: list[str], secrets: tuple[str, ...] = SECRETS) -> list[str]:
    return [text for text in texts if any(secret in text for secret in secrets)]


@pytest.mark.usefixtures("qt_warnings")
def test_a_server_password_and_an_echoed_header_stay_hidden(
    qtbot,  # noqa: ANN001
    isolated_settings: Settings,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok-SECRET-4711")  # used only without userinfo
    with fault_server(_echo_authorization) as server:
        location = server.url.replace("http://", "http://alice:pw-SECRET-4711@")
        window = shown_window(qtbot)
        texts = _open_and_fail(qtbot, window, location)
        texts += _model_texts(window)
        assert any("failed (500)" in text for text in texts)  # the server's error is shown…
        assert server.requests and all(
            r.headers.get("authorization", "").startswith("Basic ") for r in server.requests
        )
        assert not _leaks(texts)  # …without the password it echoed
        host = server.url.removeprefix("http://")
        assert host in texts  # the sidebar names the store by host
        window.sessions.save_tabs()
        window.settings.sync()
        saved = Path(window.settings.file_name).read_text()
        assert host in saved  # the store is remembered…
        assert "alice" in saved and "pw-SECRET-4711" not in saved  # …without its password
        close_window(window)
    assert not _leaks([caplog.text])


@pytest.mark.usefixtures("qt_warnings")
def test_secret_query_parameters_stay_out_of_status_bar_and_settings(
    qtbot,  # noqa: ANN001
    isolated_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    location = (
        f"postgresql://alice:pw-SECRET-4711@127.0.0.1:{port}/mlflow"
        "?sslpassword=SSL-SECRET-4711&sslmode=disable"
    )
    window = shown_window(qtbot)
    texts = _open_and_fail(qtbot, window, location)
    texts += _model_texts(window)
    assert any(text.startswith("Opening postgresql://alice@127.0.0.1") for text in texts)
    assert not _leaks(texts)
    window.settings.sync()
    saved = Path(window.settings.file_name).read_text()
    assert "sslmode=disable" in saved  # the harmless parameter is kept…
    assert not _leaks([saved])  # …the secret ones are not
    expected = f"postgresql://alice@127.0.0.1:{port}/mlflow?sslmode=disable"
    assert window.settings.recent_stores == [expected]
    close_window(window)
    assert not _leaks([caplog.text])


@pytest.mark.parametrize(
    "location",
    [
        "postgresql://alice@db/mlflow?sslpassword=SSL-SECRET-4711&sslmode=require",
        "mysql+pymysql://root@db/mlflow?api_key=SSL-SECRET-4711",
        "https://mlflow.example/?access_token=tok-SECRET-4711",
        "postgresql://alice@db/mlflow?APIKEY=tok-SECRET-4711&Password=pw-SECRET-4711",
    ],
)
def test_secret_query_parameters_are_not_saved_in_recent_stores(
    isolated_settings: Settings, location: str
) -> None:
    isolated_settings.remember_store(location)
    isolated_settings.sync()
    saved = Path(isolated_settings.file_name).read_text()
    assert not _leaks([saved])
    assert Settings().recent_stores[0].split("?")[0] == location.split("?")[0]
