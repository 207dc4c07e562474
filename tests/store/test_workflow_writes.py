"""Deployment workflows through the writer on a SQLite store, read back with MLflow's client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from flowdeck.core.deploy_steps import (
    APPROVE,
    DEPLOY,
    EVALUATE,
    PREFIX,
    Step,
    activity_log,
    evaluation_step,
    next_step,
)
from flowdeck.core.deploy_workflow import (
    WORKFLOW_TAG,
    Rule,
    Workflow,
    current_holder,
    evaluate,
    read_workflow,
)
from flowdeck.core.errors import WorkflowBlocked
from flowdeck.core.promotion_history import PREFIX as PROMOTION_PREFIX
from flowdeck.store import open_store
from flowdeck.store.base import Store
from flowdeck.store.writer import StoreWriter

WORKFLOW = Workflow(
    "alias", "champion", (Rule.threshold("val_loss", "<", 0.35), Rule.beats("val_loss"))
)


@pytest.fixture
def registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Store, StoreWriter, str]]:
    """A SQLite store where MLflow registered clf v1..v3 from three runs; v1 is @champion.

    val_loss is 0.5, 0.4 and 0.3: v2 beats v1 but misses the threshold, v3 passes both.
    """
    monkeypatch.chdir(tmp_path)  # MLflow puts the Default experiment's artifacts under ./mlruns
    path = tmp_path / "mlflow.db"
    uri = f"sqlite:///{path}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("workflow")
    client.create_registered_model("clf")
    for index in range(3):
        run = client.create_run(experiment_id, run_name=f"run-{index}")
        client.log_metric(run.info.run_id, "val_loss", 0.5 - 0.1 * index)
        client.set_terminated(run.info.run_id)
        client.create_model_version("clf", f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    client.set_registered_model_alias("clf", "champion", "1")
    store = open_store(path)
    yield store, StoreWriter(store), uri
    store.close()


def referee(uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def run_evaluation(store: Store, writer: StoreWriter, number: int) -> bool:
    """Evaluate version ``number`` as the app does and record the step; True when it passed."""
    versions = store.model_versions("clf")
    candidate = next(item for item in versions if item.version == number)
    holder = current_holder(WORKFLOW, versions, number)
    result = evaluate(
        WORKFLOW,
        candidate,
        store.run(str(candidate.run_id)),
        holder,
        store.run(str(holder.run_id)) if holder else None,
        None,
    )
    writer.record_step("clf", number, evaluation_step(WORKFLOW, result, 1, "ana"))
    return result.passed


def workflow_steps(uri: str, number: int) -> list[dict[str, object]]:
    tags = referee(uri).get_model_version("clf", str(number)).tags
    keys = sorted(
        (key for key in tags if key.startswith(PREFIX)), key=lambda k: int(k[len(PREFIX) :])
    )
    return [json.loads(tags[key]) for key in keys]


def test_workflow_tag_is_set_and_cleared_for_every_client(
    registry: tuple[Store, StoreWriter, str],
) -> None:
    _, writer, uri = registry
    change = writer.set_workflow("clf", WORKFLOW)
    assert (change.kind, change.ids, change.action) == (
        "registered_model",
        ("clf",),
        "set_workflow",
    )
    tags = referee(uri).get_registered_model("clf").tags
    assert json.loads(tags[WORKFLOW_TAG])["alias"] == "champion"
    assert read_workflow(tags).workflow == WORKFLOW

    assert writer.clear_workflow("clf").action == "clear_workflow"
    assert WORKFLOW_TAG not in referee(uri).get_registered_model("clf").tags


def test_evaluate_approve_deploy_moves_champion_and_records_the_steps(
    registry: tuple[Store, StoreWriter, str],
) -> None:
    store, writer, uri = registry
    writer.set_workflow("clf", WORKFLOW)
    assert run_evaluation(store, writer, 3)
    change = writer.record_step("clf", 3, Step(APPROVE, True, 2, "bo", "numbers look right"))
    assert (change.kind, change.ids, change.action) == ("model_version", ("clf/3",), "record_step")

    change = writer.deploy("clf", 3, WORKFLOW, "beats v1 on val_loss", user="bo")

    assert (change.kind, change.ids, change.action) == ("model_version", ("clf/3",), "deploy")
    client = referee(uri)
    deployed = client.get_model_version_by_alias("clf", "champion")
    assert str(deployed.version) == "3"
    steps = workflow_steps(uri, 3)
    assert [(step["step"], step["passed"]) for step in steps] == [
        (EVALUATE, True),
        (APPROVE, True),
        (DEPLOY, True),
    ]
    assert steps[0]["holder"] == 1 and steps[0]["target"] == "@champion"
    assert steps[1]["target"] == "@champion" and steps[1]["note"] == "numbers look right"
    [promotion_key] = [key for key in deployed.tags if key.startswith(PROMOTION_PREFIX)]
    assert steps[2]["promotion"] == int(promotion_key[len(PROMOTION_PREFIX) :])
    assert steps[2]["details"] == ["@champion set on v3 (moved from v1)"]
    assert json.loads(deployed.tags[promotion_key])["note"] == "beats v1 on val_loss"

    versions = store.model_versions("clf")
    assert [entry.kind for entry in activity_log(versions, 3)] == [EVALUATE, APPROVE, DEPLOY]
    assert [entry.text for entry in activity_log(versions, 1)] == [
        "@champion set on v3 (moved from v1)"
    ]
    after = next(item for item in versions if item.version == 3)
    assert next_step(WORKFLOW, after).step is None


def test_a_failed_evaluation_blocks_approval_and_deploy_with_the_reason(
    registry: tuple[Store, StoreWriter, str],
) -> None:
    store, writer, uri = registry
    writer.set_workflow("clf", WORKFLOW)
    assert not run_evaluation(store, writer, 2)

    with pytest.raises(WorkflowBlocked, match="val_loss < 0.35 — val_loss is 0.4"):
        writer.record_step("clf", 2, Step(APPROVE, True, 2, "bo"))
    with pytest.raises(WorkflowBlocked, match=r"latest evaluation of v2 .* failed: val_loss < 0"):
        writer.deploy("clf", 2, WORKFLOW, "try anyway")

    client = referee(uri)
    assert str(client.get_model_version_by_alias("clf", "champion").version) == "1"
    assert [step["step"] for step in workflow_steps(uri, 2)] == [EVALUATE]
    tags = client.get_model_version("clf", "2").tags
    assert not any(key.startswith(PROMOTION_PREFIX) for key in tags)


def test_deploy_without_approval_is_refused(registry: tuple[Store, StoreWriter, str]) -> None:
    store, writer, uri = registry
    assert run_evaluation(store, writer, 3)

    with pytest.raises(WorkflowBlocked, match="v3 needs an approval after its latest evaluation"):
        writer.deploy("clf", 3, WORKFLOW, "ship it")

    assert str(referee(uri).get_model_version_by_alias("clf", "champion").version) == "1"
    assert [step["step"] for step in workflow_steps(uri, 3)] == [EVALUATE]
    with pytest.raises(WorkflowBlocked, match="recorded by deploying"):
        writer.record_step("clf", 3, Step(DEPLOY, True, 5))


def test_a_holder_change_or_a_changed_workflow_blocks_the_deploy(
    registry: tuple[Store, StoreWriter, str],
) -> None:
    store, writer, uri = registry
    writer.set_workflow("clf", WORKFLOW)
    assert run_evaluation(store, writer, 3)
    writer.record_step("clf", 3, Step(APPROVE, True, 2, "bo"))
    referee(uri).set_registered_model_alias("clf", "champion", "2")  # a colleague, meanwhile

    with pytest.raises(WorkflowBlocked, match="compared it with v1, but v2 holds @champion"):
        writer.deploy("clf", 3, WORKFLOW, "ship it")

    stricter = Workflow("alias", "champion", (Rule.threshold("val_loss", "<", 0.1),))
    with pytest.raises(WorkflowBlocked, match="workflow was changed meanwhile"):
        writer.deploy("clf", 3, stricter, "ship it")
    assert str(referee(uri).get_model_version_by_alias("clf", "champion").version) == "2"


def test_steps_at_the_same_millisecond_do_not_overwrite(
    registry: tuple[Store, StoreWriter, str],
) -> None:
    _, writer, uri = registry
    writer.record_step("clf", 2, Step(EVALUATE, False, 7, "ana", target="@champion"))
    writer.record_step("clf", 2, Step(APPROVE, False, 7, "bo", "no", target="@champion"))
    tags = referee(uri).get_model_version("clf", "2").tags
    assert sorted(key for key in tags if key.startswith(PREFIX)) == [f"{PREFIX}7", f"{PREFIX}8"]
