"""The Open-store dialog: locations, inline errors, recent stores, credentials, drops."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtWidgets import QDialog
from tests.helpers.dict_keyring import DictKeyring, installed_dict_keyring

from flowdeck.ui.credentials import load_credentials
from flowdeck.ui.open_store_dialog import (
    OpenStoreDialog,
    locations_from_mime,
    open_chosen_store,
    remembered_options,
    with_password,
)


@pytest.fixture(autouse=True)
def dict_keyring() -> Iterator[DictKeyring]:
    with installed_dict_keyring() as backend:
        yield backend


@pytest.fixture(scope="module")
def mlruns(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file store with one experiment, written by MLflow."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("dialog-store") / "mlruns"
    previous = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        MlflowClient(tracking_uri=folder.as_uri()).create_experiment("from-dialog")
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = previous
    return folder


@pytest.fixture
def dialog(qtbot, fail_on_qt_warnings) -> OpenStoreDialog:
    widget = OpenStoreDialog(recent=[])
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_credentials_show_for_http_and_databases_only(dialog):
    assert not dialog.credentials_box.isVisible()
    dialog.location_edit.setText("http://127.0.0.1:5000")
    assert dialog.credentials_box.isVisible() and dialog.token_edit.isVisible()
    dialog.location_edit.setText("postgresql://db.example.org/mlflow")
    assert dialog.credentials_box.isVisible() and not dialog.token_edit.isVisible()
    dialog.location_edit.setText("/tmp/some/folder")
    assert not dialog.credentials_box.isVisible()


def test_invalid_path_shows_an_inline_error(qtbot, dialog, tmp_path):
    dialog.location_edit.setText(str(tmp_path / "missing.db"))
    dialog.accept()
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.error_label.isVisible()
    assert dialog.error_label.text() == f"There is no database file at {tmp_path / 'missing.db'}."
    dialog.location_edit.setText("ftp://example.org/store")
    dialog.accept()
    assert "does not know how to open" in dialog.error_label.text()
    dialog.location_edit.setText("")
    dialog.accept()
    assert dialog.error_label.text() == "Enter a folder, a database file or a URL."


def test_a_folder_is_accepted_and_opens(qtbot, dialog, mlruns):
    dialog.location_edit.setText(str(mlruns))
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.result_location() == str(mlruns.resolve())
    assert dialog.result_options() == {}
    store = open_chosen_store(dialog.result_location(), dialog.result_options())
    assert "from-dialog" in list(store.experiments()["name"])


def test_recent_list_comes_from_settings_and_double_click_opens(qtbot, isolated_settings, mlruns):
    isolated_settings.recent_stores = [str(mlruns), "http://127.0.0.1:5000"]
    widget = OpenStoreDialog()
    qtbot.addWidget(widget)
    widget.show()
    assert [widget.recent_list.item(i).text() for i in range(widget.recent_list.count())] == [
        str(mlruns),
        "http://127.0.0.1:5000",
    ]
    widget.recent_list.setCurrentRow(1)
    assert widget.location_edit.text() == "http://127.0.0.1:5000"
    with qtbot.waitSignal(widget.accepted):
        widget.recent_list.itemDoubleClicked.emit(widget.recent_list.item(0))
    assert widget.result_location() == str(mlruns.resolve())


def test_remember_credentials_goes_to_keyring_not_settings(
    qtbot, dialog, dict_keyring, isolated_settings
):
    url = "http://127.0.0.1:5999"
    dialog.location_edit.setText(url)
    dialog.username_edit.setText("ada")
    dialog.password_edit.setText("pw-SECRET-1")
    dialog.token_edit.setText("tok-SECRET-2")
    dialog.remember_check.setChecked(True)
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.result_location() == url
    assert dialog.result_options() == {
        "username": "ada",
        "password": "pw-SECRET-1",
        "token": "tok-SECRET-2",
    }
    remembered = load_credentials(url)
    assert remembered is not None and remembered.password == "pw-SECRET-1"
    assert remembered_options(url + "/") == dialog.result_options()

    # What the main window does with the result: remember the location.
    isolated_settings.remember_store(dialog.result_location())
    isolated_settings.sync()
    content = Path(isolated_settings.file_name).read_text()
    assert url in content
    assert "SECRET" not in content

    # Reopening the dialog on the same URL fills the remembered credentials in.
    again = OpenStoreDialog(recent=[])
    qtbot.addWidget(again)
    again.location_edit.setText(url)
    assert again.username_edit.text() == "ada" and again.password_edit.text() == "pw-SECRET-1"


def test_unticked_remember_keeps_the_keyring_empty(dialog, dict_keyring):
    dialog.location_edit.setText("http://127.0.0.1:5998")
    dialog.username_edit.setText("ada")
    dialog.password_edit.setText("pw")
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dict_keyring.secrets == {}


def test_sql_password_goes_into_the_url_in_memory_only(dialog):
    dialog.location_edit.setText("postgresql://db.example.org:5432/mlflow")
    dialog.username_edit.setText("ada")
    dialog.password_edit.setText("p@ss/word")
    dialog.accept()
    assert dialog.result_location() == "postgresql://db.example.org:5432/mlflow"
    assert dialog.result_options() == {
        "connect_url": "postgresql://ada:p%40ss%2Fword@db.example.org:5432/mlflow"
    }


def test_password_typed_into_the_url_is_kept_out_of_the_location(dialog):
    dialog.location_edit.setText("mysql+pymysql://root:hunter2@127.0.0.1:3306/mlflow")
    dialog.accept()
    assert dialog.result_location() == "mysql+pymysql://root@127.0.0.1:3306/mlflow"
    assert "hunter2" in dialog.result_options()["connect_url"]


def test_with_password_keeps_an_existing_user():
    assert with_password("postgresql://bob@h/db", "", "x") == "postgresql://bob:x@h/db"


def test_locations_from_mime_accepts_folders_and_databases(tmp_path, mlruns):
    database = tmp_path / "mlflow.db"
    database.write_bytes(b"")
    other = tmp_path / "notes.txt"
    other.write_text("x")
    mime = QMimeData()
    mime.setUrls(
        [
            QUrl.fromLocalFile(str(mlruns)),
            QUrl.fromLocalFile(str(database)),
            QUrl.fromLocalFile(str(other)),
            QUrl("https://example.org/mlflow.db"),
        ]
    )
    assert locations_from_mime(mime) == [str(mlruns), str(database)]
    assert locations_from_mime(QMimeData()) == []
