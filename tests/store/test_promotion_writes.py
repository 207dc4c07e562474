"""Promotions through the writer on a SQLite store, read back with MLflow's own client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from flowdeck.core.errors import PromotionConflict, WriteFailed
from flowdeck.core.promotion import PromotionTarget, plan_promotion
from flowdeck.core.promotion_history import PREFIX, promotion_history
from flowdeck.store import open_store
from flowdeck.store.base import Store
from flowdeck.store.writer import StoreWriter

CHAMPION = PromotionTarget.to_alias("champion")


@pytest.fixture
def registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Store, StoreWriter, str]]:
    """A SQLite store where MLflow registered clf v1..v3 from three runs; v1 is @champion."""
    monkeypatch.chdir(tmp_path)  # MLflow puts the Default experiment's artifacts under ./mlruns
    path = tmp_path / "mlflow.db"
    uri = f"sqlite:///{path}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("promote")
    client.create_registered_model("clf")
    for index in range(3):
        run = client.create_run(experiment_id, run_name=f"run-{index}")
        client.log_metric(run.info.run_id, "val_loss", 0.5 - 0.1 * index)
        client.log_param(run.info.run_id, "depth", str(index + 2))
        client.set_terminated(run.info.run_id)
        client.create_model_version("clf", f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    client.set_registered_model_alias("clf", "champion", "1")
    store = open_store(path)
    yield store, StoreWriter(store), uri
    store.close()


def referee(uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_promote_moves_the_alias_and_records_it(registry: tuple[Store, StoreWriter, str]) -> None:
    store, writer, uri = registry
    plan = plan_promotion(store.model_versions("clf"), 2, CHAMPION)
    assert plan.effects == ("@champion moves from v1 to v2.",)

    change = writer.promote("clf", 2, CHAMPION, "lower val_loss", plan.holders, user="ana")

    assert (change.kind, change.ids, change.action) == ("model_version", ("clf/2",), "promote")
    client = referee(uri)
    promoted = client.get_model_version_by_alias("clf", "champion")
    assert str(promoted.version) == "2"
    [(key, value)] = [(k, v) for k, v in promoted.tags.items() if k.startswith(PREFIX)]
    assert json.loads(value) == {
        "alias": "champion",
        "previous": [1],
        "user": "ana",
        "note": "lower val_loss",
    }
    history = promotion_history(store.model_versions("clf"))
    assert [(entry.text, entry.inferred) for entry in history] == [
        ("@champion set on v2 (moved from v1)", False)
    ]
    assert history[0].time_ms == int(key[len(PREFIX) :])


def test_concurrent_promotion_is_a_conflict_and_writes_nothing(
    registry: tuple[Store, StoreWriter, str],
) -> None:
    store, writer, uri = registry
    plan = plan_promotion(store.model_versions("clf"), 2, CHAMPION)
    referee(uri).set_registered_model_alias("clf", "champion", "3")  # a colleague, meanwhile

    with pytest.raises(PromotionConflict, match="v3 holds it now, but the plan showed v1"):
        writer.promote("clf", 2, CHAMPION, "lower val_loss", plan.holders)

    client = referee(uri)
    assert str(client.get_model_version_by_alias("clf", "champion").version) == "3"
    for number in ("1", "2", "3"):
        assert not any(k.startswith(PREFIX) for k in client.get_model_version("clf", number).tags)


def test_stage_promotion_archives_the_others(registry: tuple[Store, StoreWriter, str]) -> None:
    store, writer, uri = registry
    client = referee(uri)
    client.transition_model_version_stage("clf", "1", "Production")
    client.transition_model_version_stage("clf", "2", "Production")
    target = PromotionTarget.to_stage("Production", archive_existing=True)
    plan = plan_promotion(store.model_versions("clf"), 3, target)
    assert plan.holders == (1, 2)

    writer.promote("clf", 3, target, "new data", plan.holders, user="bo")

    stages = {str(v.version): v.current_stage for v in client.search_model_versions("name='clf'")}
    assert stages == {"1": "Archived", "2": "Archived", "3": "Production"}
    texts = [entry.text for entry in promotion_history(store.model_versions("clf"))]
    assert "v3 moved to Production; v1, v2 archived" in texts
    assert not any(text.startswith("inferred: v1") for text in texts)


def test_empty_note_and_no_op_are_refused(registry: tuple[Store, StoreWriter, str]) -> None:
    _, writer, uri = registry
    with pytest.raises(WriteFailed, match="needs a note"):
        writer.promote("clf", 2, CHAMPION, "   ", (1,))
    with pytest.raises(WriteFailed, match="already holds @champion"):
        writer.promote("clf", 1, CHAMPION, "again", (1,))
    client = referee(uri)
    assert str(client.get_model_version_by_alias("clf", "champion").version) == "1"
    assert not any(k.startswith(PREFIX) for k in client.get_model_version("clf", "1").tags)
    assert not any(k.startswith(PREFIX) for k in client.get_model_version("clf", "2").tags)
