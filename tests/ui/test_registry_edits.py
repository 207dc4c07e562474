"""Registry edits on a SQLite store written by MLflow, every write read back with MlflowClient."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from mlflow import MlflowClient
from PySide6.QtWidgets import QDialog

import flowdeck.ui.pages  # noqa: F401 - registers the pages
from flowdeck.core.addresses import Address, model_address, parse_address
from flowdeck.store import open_store
from flowdeck.store.base import Store
from flowdeck.ui.edit.confirm import ConfirmChangesDialog
from flowdeck.ui.edit.description_editor import DescriptionEditor
from flowdeck.ui.edit.name_dialog import NameDialog
from flowdeck.ui.edit.tags_editor import TagsEditor
from flowdeck.ui.registry.edits import RegistryEdits
from flowdeck.ui.registry.stage_dialog import StageDialog
from flowdeck.ui.shell.page import Page, Shell
from flowdeck.ui.shell.page_types import create_page

TIMEOUT = 30_000
NEWER_REVISION = "f4a9b2c7d1e6"
MODEL = "clf"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clf v1..v3; v1 is @champion and in Production, v2 is @challenger, v3 has a tag."""
    folder = tmp_path_factory.mktemp("registry-edits")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("edits", artifact_location=str(folder / "art"))
    client.create_registered_model(MODEL, tags={"team": "vision"}, description="old")
    for index in range(3):
        run_id = client.create_run(experiment_id, run_name=f"run-{index}").info.run_id
        client.set_terminated(run_id)
        client.create_model_version(MODEL, f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias(MODEL, "champion", "1")
    client.set_registered_model_alias(MODEL, "challenger", "2")
    client.set_model_version_tag(MODEL, "3", "keep", "me")
    client.set_model_version_tag(MODEL, "3", "drop", "me")
    client.transition_model_version_stage(MODEL, "1", "Production")
    return folder / "mlflow.db"


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "mlflow.db"
    shutil.copy(template, copy)
    return copy


@pytest.fixture
def store(db: Path) -> Store:
    opened = open_store(db)
    yield opened
    opened.close()


@pytest.fixture
def edits(qtbot, shell: Shell, store: Store) -> RegistryEdits:  # noqa: ANN001
    errors: list[str] = []
    shell.writes.failed.connect(errors.append)
    yield RegistryEdits(shell)
    assert not errors


def client_of(db: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{db}", registry_uri=f"sqlite:///{db}")


def dialog_of(qtbot, edits: RegistryEdits, kind: type) -> QDialog:  # noqa: ANN001
    qtbot.waitUntil(lambda: isinstance(edits.active_dialog, kind), timeout=TIMEOUT)
    return edits.active_dialog


def accept_and_wait(qtbot, shell: Shell, dialog: QDialog) -> None:  # noqa: ANN001
    with qtbot.waitSignal(shell.writes.finished, timeout=TIMEOUT):
        dialog.accept()


def test_rename_a_model(qtbot, shell, edits, store, db) -> None:  # noqa: ANN001
    renamed: list[tuple[str, str]] = []
    edits.renamed.connect(lambda old, new: renamed.append((old, new)))
    edits.rename_model(store, MODEL)
    dialog = dialog_of(qtbot, edits, NameDialog)
    dialog.name_edit.setText("clf-renamed")
    accept_and_wait(qtbot, shell, dialog)
    client = client_of(db)
    assert client.get_registered_model("clf-renamed").name == "clf-renamed"
    assert [m.name for m in client.search_registered_models()] == ["clf-renamed"]
    assert renamed == [(MODEL, "clf-renamed")]


def test_delete_a_version_names_its_aliases(qtbot, shell, edits, store, db) -> None:  # noqa: ANN001
    edits.delete_version(store, MODEL, "2")
    dialog = dialog_of(qtbot, edits, ConfirmChangesDialog)
    assert dialog.names == ["clf v2"]
    assert "@challenger" in dialog.note_label.text()
    accept_and_wait(qtbot, shell, dialog)
    client = client_of(db)
    listed = sorted(int(v.version) for v in client.search_model_versions(f"name='{MODEL}'"))
    assert listed == [1, 3]
    assert "challenger" not in client.get_registered_model(MODEL).aliases


def test_set_an_alias_another_version_holds(qtbot, shell, edits, store, db) -> None:  # noqa: ANN001
    edits.set_alias(store, MODEL, "3")
    dialog = dialog_of(qtbot, edits, NameDialog)
    dialog.name_edit.setText("champion")
    assert "move from v1 to v3" in dialog.note_label.text()
    dialog.name_edit.setText("@fresh")
    assert "is new" in dialog.note_label.text()
    dialog.name_edit.setText("champion")
    accept_and_wait(qtbot, shell, dialog)
    assert str(client_of(db).get_model_version_by_alias(MODEL, "champion").version) == "3"


def test_delete_an_alias(qtbot, shell, edits, store, db) -> None:  # noqa: ANN001
    edits.delete_alias(store, MODEL, "challenger")
    dialog = dialog_of(qtbot, edits, ConfirmChangesDialog)
    assert dialog.names == ["@challenger"] and "v2" in dialog.note_label.text()
    accept_and_wait(qtbot, shell, dialog)
    aliases = client_of(db).get_registered_model(MODEL).aliases
    assert "challenger" not in aliases and "champion" in aliases


def test_remove_the_aliases_a_version_holds(qtbot, shell, edits, store, db) -> None:  # noqa: ANN001
    edits.remove_aliases(store, MODEL, "2")
    dialog = dialog_of(qtbot, edits, ConfirmChangesDialog)
    assert dialog.names == ["@challenger"] and "v2" in dialog.note_label.text()
    accept_and_wait(qtbot, shell, dialog)
    aliases = client_of(db).get_registered_model(MODEL).aliases
    assert "challenger" not in aliases and "champion" in aliases



def test_removing_aliases_of_a_version_without_any_says_so(qtbot, shell, store) -> None:  # noqa: ANN001
    with qtbot.waitSignal(shell.writes.failed, timeout=TIMEOUT) as failed:
        RegistryEdits(shell).remove_aliases(store, MODEL, "3")  # v3 holds none
    assert failed.args == [f"{MODEL} v3 holds no alias."]


def test_transition_to_production_archiving_the_holder(qtbot, shell, edits, store, db) -> None:  # noqa: ANN001
    edits.transition_stage(store, MODEL, "2")
    dialog = dialog_of(qtbot, edits, StageDialog)
    dialog.stage_combo.setCurrentText("Production")
    assert "(v1)" in dialog.archive_box.text() and dialog.archive_box.isEnabled()
    dialog.archive_box.setChecked(True)
    accept_and_wait(qtbot, shell, dialog)
    client = client_of(db)
    stages = {
        str(v.version): v.current_stage for v in client.search_model_versions(f"name='{MODEL}'")
    }
    assert stages == {"1": "Archived", "2": "Production", "3": "None"}


def test_edit_a_versions_description_and_tags(qtbot, shell, edits, store, db) -> None:  # noqa: ANN001
    edits.edit_version_description(store, MODEL, "3")
    dialog = dialog_of(qtbot, edits, DescriptionEditor)
    dialog.editor.setPlainText("# v3\nplain *text*")
    accept_and_wait(qtbot, shell, dialog)
    assert client_of(db).get_model_version(MODEL, "3").description == "# v3\nplain *text*"

    edits.edit_version_tags(store, MODEL, "3")
    dialog = dialog_of(qtbot, edits, TagsEditor)
    rows = {dialog.table.item(r, 0).text(): r for r in range(dialog.table.rowCount())}
    dialog.table.selectRow(rows["drop"])
    dialog.delete_selected_rows()
    dialog.add_row()
    last = dialog.table.rowCount() - 1
    dialog.table.item(last, 0).setText("stage")
    dialog.table.item(last, 1).setText("qa")
    accept_and_wait(qtbot, shell, dialog)
    tags = client_of(db).get_model_version(MODEL, "3").tags
    assert tags == {"keep": "me", "stage": "qa"}


def test_edit_a_models_description_and_tags(qtbot, shell, edits, store, db) -> None:  # noqa: ANN001
    edits.edit_model_description(store, MODEL)
    dialog = dialog_of(qtbot, edits, DescriptionEditor)
    assert dialog.text() == "old"
    dialog.editor.setPlainText("new")
    accept_and_wait(qtbot, shell, dialog)
    edits.edit_model_tags(store, MODEL)
    dialog = dialog_of(qtbot, edits, TagsEditor)
    dialog.table.item(0, 1).setText("audio")
    accept_and_wait(qtbot, shell, dialog)
    model = client_of(db).get_registered_model(MODEL)
    assert model.description == "new" and model.tags == {"team": "audio"}


def test_delete_a_model(qtbot, shell, edits, store, db) -> None:  # noqa: ANN001
    edits.delete_model(store, MODEL)
    dialog = dialog_of(qtbot, edits, ConfirmChangesDialog)
    assert dialog.names == [MODEL]
    assert "3 live versions (v1, v2, v3)" in dialog.note_label.text()
    accept_and_wait(qtbot, shell, dialog)
    assert client_of(db).search_registered_models() == []


def test_the_page_of_a_deleted_model_makes_way_for_the_models(qtbot, shell, store, db) -> None:  # noqa: ANN001
    with qtbot.waitSignal(shell.context.read_only_changed, timeout=TIMEOUT):
        shell.writes.check(store)
    page = opened(qtbot, shell, store, f"model/{MODEL}")
    asked: list[Address] = []
    page.open_requested.connect(lambda address, _new: asked.append(address))
    page.edit_bar.buttons["Delete…"].click()
    dialog = dialog_of(qtbot, page.edits, ConfirmChangesDialog)
    accept_and_wait(qtbot, shell, dialog)
    qtbot.waitUntil(lambda: bool(asked), timeout=TIMEOUT)
    assert asked == [Address("models")]


def opened(qtbot, shell: Shell, store: Store, text: str) -> Page:  # noqa: ANN001
    page = create_page(shell, store, parse_address(text))
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.start()
    return page


def test_page_buttons_open_the_edits(qtbot, shell, store, db) -> None:  # noqa: ANN001
    with qtbot.waitSignal(shell.context.read_only_changed, timeout=TIMEOUT):
        shell.writes.check(store)
    page = opened(qtbot, shell, store, "model/clf/2")
    assert list(page.edit_bar.buttons) == [
        "Set Alias…",
        "Remove Aliases…",
        "Stage…",
        "Description…",
        "Tags…",
        "Delete…",
    ]
    assert all(button.isEnabled() for button in page.edit_bar.buttons.values())
    page.edit_bar.buttons["Delete…"].click()
    dialog = dialog_of(qtbot, page.edits, ConfirmChangesDialog)
    with qtbot.waitSignal(page.open_requested, timeout=TIMEOUT) as moved:
        dialog.accept()
    assert moved.args == [model_address(MODEL), False]
    model_page = opened(qtbot, shell, store, "model/clf")
    assert list(model_page.edit_bar.buttons) == ["Rename…", "Delete…", "Description…", "Tags…", "Workflow…"]
    model_page.edit_bar.buttons["Rename…"].click()
    dialog_of(qtbot, model_page.edits, NameDialog).reject()
    qtbot.waitUntil(lambda: model_page.edits.active_dialog is None, timeout=TIMEOUT)


def test_a_read_only_store_disables_the_page_buttons(qtbot, shell, db) -> None:  # noqa: ANN001
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (NEWER_REVISION,))
    connection.close()
    store = open_store(db)
    try:
        with qtbot.waitSignal(shell.context.read_only_changed, timeout=TIMEOUT):
            shell.writes.check(store)
        reason = shell.context.read_only_reason(store)
        assert reason
        for text in ("model/clf", "model/clf/1"):
            page = opened(qtbot, shell, store, text)
            for button in page.edit_bar.buttons.values():
                assert not button.isEnabled()
                assert button.toolTip() == reason
    finally:
        store.close()
