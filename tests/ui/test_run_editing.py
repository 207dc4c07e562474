"""Run editing through the shared edit commands on real SQLite stores, read back with MLflow."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QTextDocument
from PySide6.QtWidgets import QAbstractItemView, QDialogButtonBox, QLineEdit

from flowdeck.core.context import Item, Selection
from flowdeck.store import open_store
from flowdeck.store.base import Store
from flowdeck.ui.edit import (
    ConfirmChangesDialog,
    DescriptionEditor,
    Edits,
    NameDialog,
    RunRef,
    TagsEditor,
)
from flowdeck.ui.edit.tags_editor import KEY_COLUMN, MIXED_TEXT, VALUE_COLUMN
from flowdeck.ui.shell.context import Context
from flowdeck.ui.shell.writes import WritePath
from flowdeck.ui.tasks import TaskRunner

HTML_NAME = "<b>bold</b> & <script>x</script>"
NEWER_REVISION = "f4a9b2c7d1e6"  # not in the installed MLflow's migrations: a newer schema


@dataclass(frozen=True)
class Template:
    path: Path
    runs: dict[str, RunRef]  # by name


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """Three runs: run-a and run-b share 'team' but differ in 'stage'; one has an HTML name."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("edit-store")
    path = folder / "mlflow.db"
    cwd = os.getcwd()
    os.chdir(folder)  # MLflow puts the Default experiment's artifacts under ./mlruns
    try:
        client = MlflowClient(tracking_uri=f"sqlite:///{path}")
        experiment = client.create_experiment("edits", artifact_location=str(folder / "artifacts"))
        tags = {
            "run-a": {"team": "vision", "stage": "A", "obsolete": "x"},
            "run-b": {"team": "vision", "stage": "B"},
            HTML_NAME: {},
        }
        runs = {}
        for name, run_tags in tags.items():
            run = client.create_run(experiment, run_name=name, tags=run_tags)
            runs[name] = RunRef(run.info.run_id, name, run.info.artifact_uri, "active")
    finally:
        os.chdir(cwd)
    return Template(path, runs)


@pytest.fixture
def db(template: Template, tmp_path: Path) -> Path:
    """A private copy of the template database (each test may write)."""
    copy = tmp_path / "mlflow.db"
    shutil.copy2(template.path, copy)
    return copy


def _mlflow(db: Path):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{db}")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Harness:
    """The shared edit commands with their context and write path, focused on some runs."""

    def __init__(self, runner: TaskRunner, store: Store, runs: list[RunRef]) -> None:
        self.runner, self.store = runner, store
        self.context = Context()
        self.writes = WritePath(runner, self.context)
        self.edits = Edits(runner, self.writes, self.context)
        self.changed = self.context.changed  # (store, Change) after each write
        self.failed = self.writes.failed
        self.focus(runs)

    def focus(self, runs: list[RunRef]) -> None:
        items = tuple(
            Item(r.run_id, r.name, r.lifecycle_stage == "deleted", r.artifact_uri or "")
            for r in runs
        )
        self.context.set_focus(Selection("run", self.store, items))

    @property
    def active_dialog(self):  # noqa: ANN201
        return self.edits.active_dialog

    def enabled(self, command: str) -> bool:
        return self.edits.why_not(command) is None


def _actions(qtbot, runner: TaskRunner, store: Store, runs: list[RunRef]) -> Harness:
    harness = Harness(runner, store, runs)
    harness.writes.check(store)
    qtbot.waitUntil(lambda: id(store) in harness.context.state.read_only, timeout=10_000)
    return harness


def _open_dialog(qtbot, actions: Harness, trigger, kind: type):
    trigger()
    qtbot.waitUntil(lambda: isinstance(actions.active_dialog, kind), timeout=10_000)
    dialog = actions.active_dialog
    qtbot.addWidget(dialog)
    return dialog


def _row_of(editor: TagsEditor, key: str) -> int:
    for row in range(editor.table.rowCount()):
        if editor.table.item(row, KEY_COLUMN).text() == key:
            return row
    raise AssertionError(f"no row {key!r}")


def _type_value(qtbot, editor: TagsEditor, row: int, text: str) -> None:
    """Edit a value cell the way a user does: open its editor, type, press Enter."""
    table = editor.table
    table.setCurrentCell(row, VALUE_COLUMN)
    table.editItem(table.item(row, VALUE_COLUMN))
    line_edit = table.viewport().findChild(QLineEdit)
    assert line_edit is not None
    line_edit.setText(text)
    qtbot.keyClick(line_edit, Qt.Key.Key_Return)  # Qt commits and closes in a queued call
    qtbot.waitUntil(lambda: table.state() != QAbstractItemView.State.EditingState)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the closed editor


# --- the writes, read back through MLflow ---------------------------------------------------------


def test_rename_one_run(qtbot, runner: TaskRunner, db: Path, template: Template) -> None:
    run = template.runs["run-a"]
    actions = _actions(qtbot, runner, open_store(db), [run])
    assert actions.enabled("rename")
    dialog = _open_dialog(qtbot, actions, actions.edits.rename, NameDialog)
    assert dialog.name() == "run-a"
    dialog.name_edit.setText("renamed-a")
    with qtbot.waitSignal(actions.changed, timeout=20_000) as changed:
        dialog.accept()
    assert changed.args[1].ids == (run.run_id,)
    got = _mlflow(db).get_run(run.run_id)
    assert got.info.run_name == "renamed-a"
    assert got.data.tags["mlflow.runName"] == "renamed-a"


def test_tags_on_two_runs_leave_mixed_values_alone(
    qtbot, runner: TaskRunner, db: Path, template: Template
) -> None:
    a, b = template.runs["run-a"], template.runs["run-b"]
    actions = _actions(qtbot, runner, open_store(db), [a, b])
    editor = _open_dialog(qtbot, actions, actions.edits.edit_tags, TagsEditor)

    assert editor.table.item(_row_of(editor, "stage"), VALUE_COLUMN).text() == MIXED_TEXT
    assert editor.table.item(_row_of(editor, "obsolete"), VALUE_COLUMN).text() == MIXED_TEXT
    _type_value(qtbot, editor, _row_of(editor, "team"), "nlp")
    editor.table.selectRow(_row_of(editor, "obsolete"))
    editor.delete_selected_rows()
    editor.add_row()
    row = editor.table.rowCount() - 1
    editor.table.item(row, KEY_COLUMN).setText("owner")
    editor.table.item(row, VALUE_COLUMN).setText("ana")
    assert editor.changes() == ({"team": "nlp", "owner": "ana"}, ["obsolete"])

    with qtbot.waitSignal(actions.changed, timeout=20_000):
        editor.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    client = _mlflow(db)
    tags_a = client.get_run(a.run_id).data.tags
    tags_b = client.get_run(b.run_id).data.tags
    assert (tags_a["team"], tags_b["team"]) == ("nlp", "nlp")
    assert (tags_a["owner"], tags_b["owner"]) == ("ana", "ana")
    assert (tags_a["stage"], tags_b["stage"]) == ("A", "B")  # mixed: untouched
    assert "obsolete" not in tags_a and "obsolete" not in tags_b


def test_typing_over_a_mixed_value_sets_it_and_leaving_it_empty_does_not(qtbot) -> None:
    editor = TagsEditor([{"stage": "A", "team": "x"}, {"stage": "B", "team": "y"}])
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    _type_value(qtbot, editor, _row_of(editor, "team"), "")  # opened, nothing typed
    assert editor.changes() == ({}, [])
    _type_value(qtbot, editor, _row_of(editor, "stage"), "C")
    assert editor.changes() == ({"stage": "C"}, [])
    assert editor.table.item(_row_of(editor, "stage"), VALUE_COLUMN).text() == "C"


def test_system_tags_are_hidden_read_only_and_the_description_is_left_out(
    qtbot, qtmodeltester
) -> None:
    tags = {"team": "x", "mlflow.user": "ana", "mlflow.note.content": "notes"}
    editor = TagsEditor([tags])
    qtbot.addWidget(editor)
    qtmodeltester.check(editor.table.model())
    keys = [editor.table.item(r, KEY_COLUMN).text() for r in range(editor.table.rowCount())]
    assert "mlflow.note.content" not in keys
    system_row = _row_of(editor, "mlflow.user")
    assert editor.table.isRowHidden(system_row)
    editor.show_system.setChecked(True)
    assert not editor.table.isRowHidden(system_row)
    item = editor.table.item(system_row, VALUE_COLUMN)
    assert not item.flags() & Qt.ItemFlag.ItemIsEditable
    editor.table.selectRow(system_row)
    assert not editor.delete_button.isEnabled()
    editor.delete_selected_rows()
    assert editor.changes() == ({}, [])


def test_empty_and_duplicate_keys_are_shown_inline_and_block_saving(qtbot) -> None:
    editor = TagsEditor([{"team": "x"}])
    qtbot.addWidget(editor)
    save = editor.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert save.isEnabled()
    editor.add_row()
    row = editor.table.rowCount() - 1
    assert not save.isEnabled()
    assert "key is empty" in editor.error_label.text()
    editor.table.item(row, KEY_COLUMN).setText("team")
    assert "'team' is used twice" in editor.error_label.text()
    assert not save.isEnabled()
    editor.table.item(row, KEY_COLUMN).setText("mlflow.sneaky")
    assert "belong to MLflow" in editor.error_label.text()
    editor.table.item(row, KEY_COLUMN).setText("team2")
    assert save.isEnabled() and editor.error_label.isHidden()


def test_set_a_description_with_ctrl_enter(
    qtbot, runner: TaskRunner, db: Path, template: Template
) -> None:
    run = template.runs["run-b"]
    actions = _actions(qtbot, runner, open_store(db), [run])
    editor = _open_dialog(qtbot, actions, actions.edits.edit_description, DescriptionEditor)
    editor.editor.setPlainText("# Findings\n\nThe **learning rate** mattered.")
    qtbot.waitUntil(lambda: "Findings" in editor.preview.toPlainText())
    assert "**" not in editor.preview.toPlainText()  # rendered, not shown as source
    with qtbot.waitSignal(actions.changed, timeout=20_000):
        qtbot.keyClick(editor.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    tags = _mlflow(db).get_run(run.run_id).data.tags
    assert tags["mlflow.note.content"] == "# Findings\n\nThe **learning rate** mattered."


def test_the_preview_loads_no_images_or_remote_resources(qtbot, tmp_path: Path) -> None:
    image = tmp_path / "pixel.png"
    QGuiApplication.primaryScreen()  # an app exists; make a real image on disk
    from PySide6.QtGui import QImage

    QImage(4, 4, QImage.Format.Format_RGB32).save(str(image))
    url = QUrl.fromLocalFile(str(image)).toString()
    editor = DescriptionEditor(f"![local]({url}) ![remote](http://example.invalid/x.png)")
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitExposed(editor)
    assert url in editor.preview.blocked_urls
    loaded = editor.preview.document().resource(QTextDocument.ResourceType.ImageResource, QUrl(url))
    assert loaded is None or loaded.isNull()
    assert not editor.preview.openExternalLinks() and not editor.preview.openLinks()


def test_delete_then_restore_two_runs(
    qtbot, runner: TaskRunner, db: Path, template: Template
) -> None:
    a, b = template.runs["run-a"], template.runs["run-b"]
    store = open_store(db)
    actions = _actions(qtbot, runner, store, [a, b])
    assert actions.enabled("delete") and not actions.enabled("restore")
    confirm = _open_dialog(qtbot, actions, actions.edits.delete, ConfirmChangesDialog)
    assert confirm.summary_label.text() == "Delete 2 runs: run-a, run-b"
    assert confirm.ok_button.text() == "Delete"
    assert confirm.cancel_button.isDefault() and not confirm.ok_button.isDefault()
    with qtbot.waitSignal(actions.changed, timeout=20_000) as changed:
        confirm.accept()
    assert changed.args[1].action == "delete"
    client = _mlflow(db)
    assert {client.get_run(r.run_id).info.lifecycle_stage for r in (a, b)} == {"deleted"}

    deleted = [RunRef(r.run_id, r.name, r.artifact_uri, "deleted") for r in (a, b)]
    actions.focus(deleted)
    assert actions.enabled("restore") and not actions.enabled("delete")
    assert not actions.enabled("rename") and not actions.enabled("edit_tags")
    confirm = _open_dialog(qtbot, actions, actions.edits.restore, ConfirmChangesDialog)
    assert confirm.ok_button.text() == "Restore"
    with qtbot.waitSignal(actions.changed, timeout=20_000):
        confirm.accept()
    assert {client.get_run(r.run_id).info.lifecycle_stage for r in (a, b)} == {"active"}


def test_cancelling_the_confirmation_writes_nothing(
    qtbot, runner: TaskRunner, db: Path, template: Template
) -> None:
    a, b = template.runs["run-a"], template.runs["run-b"]
    actions = _actions(qtbot, runner, open_store(db), [a, b])
    before = _digest(db)
    confirm = _open_dialog(qtbot, actions, actions.edits.delete, ConfirmChangesDialog)
    with qtbot.assertNotEmitted(actions.changed), qtbot.assertNotEmitted(actions.failed):
        qtbot.keyClick(confirm, Qt.Key.Key_Return)  # Enter hits the default button: Cancel
        assert runner.wait_idle(10_000)
    assert actions.active_dialog is None
    assert _digest(db) == before
    assert _mlflow(db).get_run(a.run_id).info.lifecycle_stage == "active"


def test_a_failed_write_is_reported_in_plain_words(
    qtbot, runner: TaskRunner, db: Path, template: Template
) -> None:
    ghost = RunRef("0" * 32, "ghost", None, "active")
    actions = _actions(qtbot, runner, open_store(db), [template.runs["run-a"], ghost])
    confirm = _open_dialog(qtbot, actions, actions.edits.delete, ConfirmChangesDialog)
    with qtbot.waitSignal(actions.failed, timeout=20_000) as failed:
        confirm.accept()
    assert "Unknown run" in failed.args[0] and "Nothing was changed" in failed.args[0]
    assert _mlflow(db).get_run(template.runs["run-a"].run_id).info.lifecycle_stage == "active"


def test_a_read_only_store_disables_edits_with_the_reason(
    qtbot, runner: TaskRunner, db: Path, template: Template
) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (NEWER_REVISION,))
    connection.close()
    store = open_store(db)
    reason = store.read_only_reason
    assert reason
    before = _digest(db)
    actions = _actions(qtbot, runner, store, [template.runs["run-a"]])
    assert actions.context.read_only_reason(store) == reason
    for command in ("rename", "edit_tags", "edit_description", "delete"):
        assert actions.edits.why_not(command) == f"This store is read-only: {reason}"
    actions.edits.rename()
    actions.edits.delete()
    assert actions.active_dialog is None
    assert runner.wait_idle(5_000)
    assert _digest(db) == before


def test_html_like_names_are_plain_text_in_the_confirmation(
    qtbot, runner: TaskRunner, db: Path, template: Template
) -> None:
    run = template.runs[HTML_NAME]
    actions = _actions(qtbot, runner, open_store(db), [run])
    confirm = _open_dialog(qtbot, actions, actions.edits.delete, ConfirmChangesDialog)
    assert confirm.summary_label.textFormat() == Qt.TextFormat.PlainText
    assert confirm.summary_label.text() == f"Delete 1 run: {HTML_NAME}"
    assert confirm.names_list.item(0).text() == HTML_NAME
    assert confirm.windowTitle() == "Delete run"
    confirm.reject()


def test_render_the_tags_editor_and_the_confirmation(qtbot, tmp_path: Path) -> None:
    """Screenshots to look at (FLOWDECK_SHOTS=<folder> keeps them)."""
    folder = Path(os.environ.get("FLOWDECK_SHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    editor = TagsEditor(
        [
            {"team": "vision", "stage": "A", "mlflow.user": "ana"},
            {"team": "vision", "stage": "B", "mlflow.user": "ana"},
        ],
        subject="2 runs",
    )
    confirm = ConfirmChangesDialog(
        "Delete", "run", ["run-a", "run-b", HTML_NAME, "run-d"], "Deleted runs can be restored."
    )
    for widget, name in ((editor, "tags_editor.png"), (confirm, "confirm.png")):
        qtbot.addWidget(widget)
        widget.show()
        qtbot.waitExposed(widget)
        assert widget.grab().save(str(folder / name))
        assert (folder / name).stat().st_size > 1000
