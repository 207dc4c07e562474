"""The Promote dialog on a SQLite store written by MLflow, every write read back with MLflow."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from mlflow import MlflowClient
from PySide6.QtCore import Qt

from flowdeck.core.promotion_history import PREFIX
from flowdeck.store import open_store
from flowdeck.ui.registry.promote_dialog import PromoteDialog, open_promote

TIMEOUT = 30_000
NEWER_REVISION = "f4a9b2c7d1e6"
SHOTS = Path("/tmp/registry")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clf v1..v3 from three runs (loss falls, accuracy rises, depth differs); v1 is @champion
    and in Production; v1 and v2 have different signatures, v3 has none."""
    from mlflow.models import Model, ModelSignature
    from mlflow.types import ColSpec, Schema

    folder = tmp_path_factory.mktemp("promote")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("promote", artifact_location=str(folder / "art"))
    client.create_registered_model("clf")
    signatures = [
        ModelSignature(Schema([ColSpec("double", "x")]), Schema([ColSpec("long")])),
        ModelSignature(
            Schema([ColSpec("double", "x"), ColSpec("string", "city")]), Schema([ColSpec("long")])
        ),
        None,
    ]
    for index, signature in enumerate(signatures):
        run_id = client.create_run(experiment_id, run_name=f"run-{index}").info.run_id
        client.log_metric(run_id, "loss", round(0.5 - 0.1 * index, 3))
        client.log_metric(run_id, "accuracy", round(0.7 + 0.1 * index, 3))
        client.log_param(run_id, "depth", str(index + 2))
        client.log_param(run_id, "seed", "7")
        model = Model(artifact_path="model", run_id=run_id, signature=signature)
        model.add_flavor("python_function", loader_module="model")
        client.log_text(run_id, model.to_yaml(), "model/MLmodel")
        client.set_terminated(run_id)
        client.create_model_version("clf", f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias("clf", "champion", "1")
    client.transition_model_version_stage("clf", "1", "Production")
    return folder / "mlflow.db"


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "mlflow.db"
    shutil.copy(template, copy)
    return copy


def mlflow_client(db: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{db}", registry_uri=f"sqlite:///{db}")


def records(client: MlflowClient, version: str) -> list[str]:
    return [k for k in client.get_model_version("clf", version).tags if k.startswith(PREFIX)]


def opened(qtbot, shell, db: Path, version: int) -> PromoteDialog:  # noqa: ANN001
    dialog = open_promote(shell, open_store(db), "clf", version)
    wait_planned(qtbot, dialog)
    return dialog


def wait_planned(qtbot, dialog: PromoteDialog) -> None:  # noqa: ANN001
    qtbot.waitUntil(
        lambda: (
            dialog.state is not None and id(dialog.store) in dialog.shell.context.state.read_only
        ),
        timeout=TIMEOUT,
    )


def test_promote_to_the_champion_alias_with_a_note(qtbot, shell, qt_warnings, db: Path) -> None:
    dialog = opened(qtbot, shell, db, 2)
    assert dialog.version_combo.count() == 3 and dialog.candidate() == 2
    assert dialog.target() is not None and dialog.target().label == "@champion"
    assert dialog.comparison.metric_cells("loss") == ("0.5", "0.4 ★", "-0.1", "lower")
    assert dialog.comparison.metric_cells("accuracy") == ("0.7", "0.8 ★", "+0.1", "higher")
    params = dialog.comparison.params_table
    assert params.rowCount() == 1 and [params.item(0, c).text() for c in range(3)] == [
        "depth",
        "2",
        "3",
    ]
    assert "The signatures differ" in dialog.comparison.signature_label.text()
    assert "input 'city' added" in dialog.comparison.signature_label.text()
    assert "@champion moves from v1 to v2." in dialog.comparison.effects_label.text()
    assert not dialog.promote_button.isEnabled()
    assert "note" in dialog.reason_label.text()
    dialog.note_edit.setPlainText("lower loss, <b>better</b> accuracy")
    assert dialog.promote_button.isEnabled()
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "promote.png"))

    with qtbot.waitSignal(shell.context.changed, timeout=TIMEOUT) as changed:
        dialog.promote_button.click()
    assert changed.args[1].ids == ("clf/2",)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=TIMEOUT)
    client = mlflow_client(db)
    assert str(client.get_model_version_by_alias("clf", "champion").version) == "2"
    assert len(records(client, "2")) == 1


def test_a_version_without_signature_and_switching_the_candidate(
    qtbot, shell, qt_warnings, db: Path
) -> None:
    dialog = opened(qtbot, shell, db, 2)
    dialog.version_combo.setCurrentIndex(dialog.version_combo.findData(3))
    qtbot.waitUntil(lambda: dialog.state is not None and dialog.state.candidate == 3)
    assert dialog.comparison.metric_cells("loss") == ("0.5", "0.3 ★", "-0.2", "lower")
    assert dialog.comparison.signature_label.text() == "The candidate has no signature."
    table = dialog.comparison.metrics_table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "accuracy")
    table.item(row, 4).setCheckState(Qt.CheckState.Checked)  # the user says lower is better
    qtbot.waitUntil(
        lambda: dialog.comparison.metric_cells("accuracy") == ("0.7 ★", "0.9", "+0.2", "lower"),
        timeout=TIMEOUT,
    )
    dialog.close()


def test_a_concurrent_move_is_a_conflict_and_reloads(qtbot, shell, qt_warnings, db: Path) -> None:
    dialog = opened(qtbot, shell, db, 2)
    dialog.note_edit.setPlainText("better loss")
    client = mlflow_client(db)
    client.set_registered_model_alias("clf", "champion", "3")  # a colleague, meanwhile

    window_messages: list[str] = []
    shell.writes.failed.connect(window_messages.append)
    dialog.promote_button.click()
    qtbot.waitUntil(
        lambda: (
            dialog.state is not None
            and dialog.state.holder is not None
            and dialog.state.holder.version == 3
        ),
        timeout=TIMEOUT,
    )
    assert dialog.isVisible()
    assert "v3 holds it now" in dialog.status_label.text()
    assert dialog.comparison.metric_cells("loss") == ("0.3 ★", "0.4", "+0.1", "lower")
    assert "@champion moves from v3 to v2." in dialog.comparison.effects_label.text()
    assert dialog.promote_button.isEnabled()
    assert str(client.get_model_version_by_alias("clf", "champion").version) == "3"
    assert not any(records(client, number) for number in ("1", "2", "3"))
    assert window_messages == []  # the dialog explains the conflict; no second message box
    dialog.close()


def test_stage_production_archives_the_version_in_it(qtbot, shell, qt_warnings, db: Path) -> None:
    dialog = opened(qtbot, shell, db, 2)
    dialog.stage_radio.setChecked(True)
    dialog.stage_combo.setCurrentText("Production")
    dialog.archive_check.setChecked(True)
    qtbot.waitUntil(
        lambda: dialog.state is not None and dialog.state.target.archive_existing,
        timeout=TIMEOUT,
    )
    effects = dialog.comparison.effects_label.text()
    assert "v2 moves from None to Production." in effects
    assert "v1 moves from Production to Archived." in effects
    dialog.note_edit.setPlainText("ship it")
    with qtbot.waitSignal(shell.context.changed, timeout=TIMEOUT):
        dialog.promote_button.click()
    client = mlflow_client(db)
    assert client.get_model_version("clf", "2").current_stage == "Production"
    assert client.get_model_version("clf", "1").current_stage == "Archived"
    assert len(records(client, "2")) == 1


def test_a_read_only_store_disables_promote_with_the_reason(
    qtbot, shell, qt_warnings, db: Path
) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (NEWER_REVISION,))
    connection.close()
    dialog = opened(qtbot, shell, db, 2)
    dialog.note_edit.setPlainText("ship it")
    assert not dialog.promote_button.isEnabled()
    reason = dialog.store.read_only_reason
    assert reason and "revision" in reason.lower()
    assert dialog.reason_label.text() == f"This store is read-only: {reason}"
    assert dialog.comparison.metric_cells("loss") is not None
    dialog.close()
