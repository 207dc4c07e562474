"""The deployment workflow in the GUI: set it on a model, evaluate → approve → deploy a version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mlflow import MlflowClient

import flowdeck.ui.pages  # noqa: F401 - registers the pages
from flowdeck.core.addresses import parse_address
from flowdeck.core.deploy_workflow import WORKFLOW_TAG, Rule, Workflow, parse_workflow
from flowdeck.store import open_store
from flowdeck.store.base import Store
from flowdeck.ui.registry.edits import RegistryEdits
from flowdeck.ui.registry.workflow_editor import WorkflowEditor
from flowdeck.ui.registry.workflow_panel import NEEDS_NOTE
from flowdeck.ui.shell.page import Page, Shell
from flowdeck.ui.shell.page_types import create_page

TIMEOUT = 30_000
MODEL = "clf"
SHOTS = Path("/tmp/registry")
RULES = (Rule.threshold("val_loss", "<", 0.6), Rule.beats("val_loss"))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clf v1 (@champion, val_loss 0.5), v2 (0.3: better), v3 (0.9: worse)."""
    folder = tmp_path_factory.mktemp("workflow-ui")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("wf", artifact_location=str(folder / "art"))
    client.create_registered_model(MODEL)
    for loss in (0.5, 0.3, 0.9):
        run_id = client.create_run(experiment_id).info.run_id
        client.log_metric(run_id, "val_loss", loss)
        client.set_terminated(run_id)
        client.create_model_version(MODEL, f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias(MODEL, "champion", "1")
    return folder / "mlflow.db"


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    shutil.copy(template, tmp_path / "mlflow.db")
    return tmp_path / "mlflow.db"


@pytest.fixture
def store(db: Path) -> Store:
    opened = open_store(db)
    yield opened
    opened.close()


def client_of(db: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{db}", registry_uri=f"sqlite:///{db}")


def writable(qtbot, shell: Shell, store: Store) -> None:  # noqa: ANN001
    with qtbot.waitSignal(shell.context.read_only_changed, timeout=TIMEOUT):
        shell.writes.check(store)


def version_page(qtbot, shell: Shell, store: Store, number: int) -> Page:  # noqa: ANN001
    page = create_page(shell, store, parse_address(f"model/{MODEL}/{number}"))
    qtbot.addWidget(page)
    page.resize(1200, 700)
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.start()
    qtbot.waitUntil(lambda: page.workflow.state is not None, timeout=TIMEOUT)
    page.tabs.setCurrentWidget(page.workflow)
    return page


def step(qtbot, shell: Shell, page: Page, key: str) -> None:  # noqa: ANN001
    panel = page.workflow
    before = panel.state
    with qtbot.waitSignal(shell.writes.finished, timeout=TIMEOUT):
        panel.buttons[key].click()
    qtbot.waitUntil(lambda: panel.state is not before, timeout=TIMEOUT)


def test_the_editor_stores_the_workflow_every_client_sees(qtbot, shell, store, db) -> None:  # noqa: ANN001
    writable(qtbot, shell, store)
    edits = RegistryEdits(shell)
    edits.edit_workflow(store, MODEL)
    qtbot.waitUntil(lambda: isinstance(edits.active_dialog, WorkflowEditor), timeout=TIMEOUT)
    editor: WorkflowEditor = edits.active_dialog
    assert not editor.remove_button.isVisible()  # nothing stored yet
    editor.metric_edit.setText("val_loss")
    editor.op_box.setCurrentText("<")
    editor.value_edit.setText("not a number")
    editor.add_rule.click()
    assert "is not a number" in editor.message.text()  # refused, with the reason
    editor.value_edit.setText("0.6")
    editor.add_rule.click()
    editor.rule_kind.setCurrentIndex(1)
    editor.metric_edit.setText("val_loss")
    editor.add_rule.click()
    assert editor.rule_list.count() == 2
    assert "beats @champion on val_loss (lower is better" in editor.rule_list.item(1).text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    editor.grab().save(str(SHOTS / "workflow-editor.png"))
    with qtbot.waitSignal(shell.writes.finished, timeout=TIMEOUT):
        editor.buttons.accepted.emit()
    stored = client_of(db).get_registered_model(MODEL).tags[WORKFLOW_TAG]
    assert parse_workflow(stored) == Workflow("alias", "champion", RULES)


def test_evaluate_approve_deploy_moves_the_champion(qtbot, shell, store, db) -> None:  # noqa: ANN001
    store.writer().set_workflow(MODEL, Workflow("alias", "champion", RULES))
    writable(qtbot, shell, store)
    page = version_page(qtbot, shell, store, 2)
    panel = page.workflow
    assert "Deploys to @champion" in panel.summary.text()
    assert not panel.buttons["approve"].isEnabled()
    assert "evaluat" in panel.buttons["deploy"].toolTip()
    step(qtbot, shell, page, "evaluate")
    assert panel.activity.texts()[0][1].startswith("Evaluated for @champion: passed (2 checks)")
    assert panel.buttons["approve"].isEnabled()
    panel.buttons["approve"].click()  # no note yet
    assert panel.status.text() == NEEDS_NOTE
    panel.note.setText("reviewed the confusion matrix")
    step(qtbot, shell, page, "approve")
    assert panel.buttons["deploy"].isEnabled()
    panel.note.setText("ship it")
    panel.buttons["deploy"].click()
    qtbot.waitUntil(lambda: panel.confirm is not None, timeout=TIMEOUT)
    assert "Moves @champion to v2" in panel.confirm.note_label.text()
    before = panel.state
    with qtbot.waitSignal(shell.writes.finished, timeout=TIMEOUT):
        panel.confirm.accept()
    qtbot.waitUntil(lambda: panel.state is not before, timeout=TIMEOUT)
    assert str(client_of(db).get_model_version_by_alias(MODEL, "champion").version) == "2"
    whats = [row[1] for row in panel.activity.texts()]
    assert any(text.startswith("Deployed to @champion") for text in whats)
    assert panel.status.text() == "v2 holds @champion."
    page.show()
    qtbot.waitExposed(page)
    page.grab().save(str(SHOTS / "workflow-panel.png"))


def test_a_failed_evaluation_blocks_approval_with_the_reason(qtbot, shell, store, db) -> None:  # noqa: ANN001
    store.writer().set_workflow(MODEL, Workflow("alias", "champion", RULES))
    writable(qtbot, shell, store)
    page = version_page(qtbot, shell, store, 3)
    panel = page.workflow
    step(qtbot, shell, page, "evaluate")
    row = panel.activity.texts()[0]
    assert row[1].startswith("Evaluated for @champion: failed (2 of 2 checks)")
    assert "failed: val_loss < 0.6" in row[5]
    assert not panel.buttons["approve"].isEnabled()
    assert "failed" in panel.buttons["approve"].toolTip()
    assert str(client_of(db).get_model_version_by_alias(MODEL, "champion").version) == "1"


def test_without_a_workflow_the_tab_says_how_to_set_one(qtbot, shell, store) -> None:  # noqa: ANN001
    writable(qtbot, shell, store)
    page = version_page(qtbot, shell, store, 2)
    panel = page.workflow
    assert "no deployment workflow" in panel.summary.text()
    assert not any(button.isEnabled() for button in panel.buttons.values())
