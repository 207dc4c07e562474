"""Registry writes through a real ``mlflow server``: register, promote, a workflow's deploy."""

from __future__ import annotations

import time

import pytest
from mlflow import MlflowClient
from tests.helpers.servers import start_mlflow_server

from flowdeck.core.deploy_steps import APPROVE, Step
from flowdeck.core.deploy_workflow import WORKFLOW_TAG, Rule, Workflow, parse_workflow
from flowdeck.core.errors import PromotionConflict, WorkflowBlocked
from flowdeck.core.promotion import PromotionTarget
from flowdeck.store import open_store
from flowdeck.ui.registry.workflow_reads import record_evaluation

pytestmark = [pytest.mark.server, pytest.mark.slow]
NAME = "rest-flow"


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A server of its own: these writes must not show up in the shared rich server's listings."""
    server = start_mlflow_server(tmp_path_factory.mktemp("registry-writes-server"))
    try:
        yield server
    finally:
        server.stop()


def test_register_promote_and_deploy_through_the_server(own_server) -> None:  # noqa: ANN001
    url = own_server.url
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    experiment_id = client.create_experiment("rest-registry-writes")
    run_ids = []
    for loss in (0.5, 0.3):
        run_id = client.create_run(experiment_id).info.run_id
        client.log_metric(run_id, "val_loss", loss)
        client.set_terminated(run_id)
        run_ids.append(run_id)
    store = open_store(url)
    try:
        writer = store.writer()
        for run_id in run_ids:
            writer.register_version(NAME, f"runs:/{run_id}/model", run_id=run_id)
        assert sorted(int(v.version) for v in client.search_model_versions(f"name='{NAME}'")) == [
            1,
            2,
        ]
        champion = PromotionTarget.to_alias("champion")
        writer.promote(NAME, 1, champion, "first", None, user="ana")
        with pytest.raises(PromotionConflict):  # the holder is v1 now, not nobody
            writer.promote(NAME, 2, champion, "stale plan", None, user="bo")

        workflow = Workflow("alias", "champion", (Rule.beats("val_loss"),))
        writer.set_workflow(NAME, workflow)
        assert parse_workflow(client.get_registered_model(NAME).tags[WORKFLOW_TAG]) == workflow
        with pytest.raises(WorkflowBlocked):
            writer.deploy(NAME, 2, workflow, "too early")
        record_evaluation(writer, NAME, 2, workflow)
        approval = Step(APPROVE, True, int(time.time() * 1000) + 1, "bo", "ok")
        writer.record_step(NAME, 2, approval, workflow)
        writer.deploy(NAME, 2, workflow, "second", user="bo")
        assert str(client.get_model_version_by_alias(NAME, "champion").version) == "2"
        ours = {v.version: v for v in store.model_versions(NAME)}
        assert ours[2].aliases == ("champion",)
        assert ours[2].tags == client.get_model_version(NAME, "2").tags
    finally:
        store.close()
