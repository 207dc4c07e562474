"""Every write through Flowdeck's writer reads back identically through MLflow's own client."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import mlflow
import pytest
from writer_stores import Template, copy_template, files_template, open_file_store, sqlite_template

from flowdeck.core.errors import NotFound, ReadOnlyStore, WriteFailed
from flowdeck.store import open_store
from flowdeck.store.writer import StoreWriter


@pytest.fixture(params=["sql", "files"])
def written(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[StoreWriter, Template, str]:
    """(writer, template ids, tracking URI) over a private copy of a store MLflow wrote."""
    if request.param == "sql":
        template = sqlite_template()
        path = copy_template(template, tmp_path)
        store = open_store(path)
    else:
        template = files_template()
        path = copy_template(template, tmp_path)
        store = open_file_store(path)
    assert store.read_only_reason is None
    writer = StoreWriter(store)
    yield writer, template, store.tracking_uri
    if hasattr(store, "close"):
        store.close()


def mlflow_client(uri: str):  # noqa: ANN201 - MLflow's own client, the referee of every test
    import os

    from mlflow.tracking import MlflowClient

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_experiment_edits_round_trip(written: tuple[StoreWriter, Template, str]) -> None:
    writer, template, uri = written
    change = writer.create_experiment("fresh", tags={"owner": "ana"})
    assert change.kind == "experiment" and change.action == "create"
    new_id = change.id
    writer.rename_experiment(new_id, "renamed")
    writer.set_experiment_tag(new_id, "stage", "beta")
    writer.delete_experiment_tag(new_id, "owner")
    writer.set_experiment_description(new_id, "# Notes\nfirst")

    client = mlflow_client(uri)
    experiment = client.get_experiment(new_id)
    assert experiment.name == "renamed"
    assert experiment.tags == {"stage": "beta", "mlflow.note.content": "# Notes\nfirst"}
    if writer.store.kind == "sql":  # artifacts beside the Default experiment's, not in the cwd
        default_location = client.get_experiment("0").artifact_location
        assert experiment.artifact_location == default_location[: -len("0")] + new_id

    writer.delete_experiment(template.experiment_id)
    assert client.get_experiment(template.experiment_id).lifecycle_stage == "deleted"
    assert client.get_run(template.run_ids[0]).info.lifecycle_stage == "deleted"
    writer.restore_experiment(template.experiment_id)
    assert client.get_experiment(template.experiment_id).lifecycle_stage == "active"
    assert client.get_run(template.run_ids[0]).info.lifecycle_stage == "active"


def test_duplicate_experiment_name_is_a_readable_failure(
    written: tuple[StoreWriter, Template, str],
) -> None:
    writer, _, _ = written
    with pytest.raises(WriteFailed, match="Could not create experiment 'base'") as caught:
        writer.create_experiment("base")
    assert caught.value.detail == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(NotFound):
        writer.rename_experiment("424242", "x")


def test_run_edits_round_trip(written: tuple[StoreWriter, Template, str]) -> None:
    writer, template, uri = written
    first, second, third = template.run_ids
    writer.rename_run(first, "better-name")
    change = writer.set_run_tags([first, second], {"reviewed": "yes", "by": "ana"})
    assert change.ids == (first, second)
    writer.delete_run_tag(second, "by")
    writer.set_run_description(third, "baseline")

    client = mlflow_client(uri)
    run = client.get_run(first)
    assert run.info.run_name == "better-name"
    assert run.data.tags["mlflow.runName"] == "better-name"
    assert run.data.tags["reviewed"] == "yes" and run.data.tags["by"] == "ana"
    assert "by" not in client.get_run(second).data.tags
    assert client.get_run(second).data.tags["reviewed"] == "yes"
    assert client.get_run(third).data.tags["mlflow.note.content"] == "baseline"

    writer.delete_runs([first, second])
    assert [client.get_run(r).info.lifecycle_stage for r in (first, second, third)] == [
        "deleted",
        "deleted",
        "active",
    ]
    writer.restore_runs([first, second])
    assert client.get_run(first).info.lifecycle_stage == "active"


def test_bulk_writes_with_one_bad_input_write_nothing(
    written: tuple[StoreWriter, Template, str],
) -> None:
    writer, template, uri = written
    first, second, third = template.run_ids
    unknown = "0" * 32
    with pytest.raises(NotFound, match=unknown):
        writer.delete_runs([first, unknown, second])
    client = mlflow_client(uri)
    assert {client.get_run(r).info.lifecycle_stage for r in template.run_ids} == {"active"}

    with pytest.raises(WriteFailed):
        writer.set_run_tags([first, second], {"ok": "1", "bad\x00key": "2"})
    assert "ok" not in client.get_run(first).data.tags

    writer.delete_runs([third])
    with pytest.raises(WriteFailed, match="deleted runs"):
        writer.set_run_tags([first, third], {"ok": "1"})
    assert "ok" not in client.get_run(first).data.tags


def test_registry_edits_round_trip(
    written: tuple[StoreWriter, Template, str],
) -> None:
    writer, template, uri = written
    # MLflow's default store (./mlflow.db) must never be created by edits of this store.
    default_db = Path.cwd() / "mlflow.db"
    existed = default_db.exists()
    change = writer.register_version(
        "clf", f"runs:/{template.run_ids[0]}/model", description="v1", tags={"k": "1"}
    )
    assert change.id == "clf/1"
    assert writer.register_version("clf", f"models:/{template.model_id}").id == "clf/2"
    writer.update_registered_model("clf", "classifier")
    writer.set_registered_model_tag("clf", "team", "vision")
    writer.update_model_version("clf", 2, "from a logged model")
    writer.set_model_version_tag("clf", 2, "checked", "true")
    writer.delete_model_version_tag("clf", 1, "k")
    writer.set_alias("clf", "champion", 1)
    writer.set_alias("clf", "champion", 2)  # an alias moves, it is never on two versions
    writer.set_alias("clf", "old", 1)
    writer.delete_alias("clf", "old")
    writer.transition_stage("clf", 1, "production")
    writer.transition_stage("clf", 2, "Production", archive_existing_versions=True)
    assert existed or not default_db.exists()  # every call went to this store

    mlflow.set_tracking_uri(uri)  # MLflow's own reads below resolve logged models globally
    client = mlflow_client(uri)
    model = client.get_registered_model("clf")
    assert model.description == "classifier" and model.tags == {"team": "vision"}
    assert {alias: str(v) for alias, v in model.aliases.items()} == {"champion": "2"}
    v1, v2 = client.get_model_version("clf", "1"), client.get_model_version("clf", "2")
    run_artifacts = client.get_run(template.run_ids[0]).info.artifact_uri
    assert v1.source == f"{run_artifacts}/model" and v1.run_id == template.run_ids[0]
    assert v1.description == "v1" and v1.tags == {}
    assert v1.current_stage == "Archived" and v2.current_stage == "Production"
    assert v2.source == f"models:/{template.model_id}"
    assert v2.run_id == template.run_ids[0]  # the logged model's source run
    assert v2.description == "from a logged model" and v2.tags == {"checked": "true"}

    with pytest.raises(WriteFailed):
        writer.transition_stage("clf", 1, "None", archive_existing_versions=True)
    with pytest.raises(WriteFailed, match="already exists"):
        writer.create_registered_model("clf")

    writer.delete_model_version("clf", 1)
    assert [str(v.version) for v in client.search_model_versions("name='clf'")] == ["2"]
    if writer.store.kind == "files":  # MLflow's file registry would lose aliases: refused
        with pytest.raises(WriteFailed, match="Nothing was changed"):
            writer.rename_registered_model("clf", "classifier")
        assert [m.name for m in client.search_registered_models()] == ["clf"]
        assert list(client.get_registered_model("clf").aliases) == ["champion"]
        writer.delete_registered_model("clf")
    else:
        writer.rename_registered_model("clf", "classifier")
        assert list(client.get_registered_model("classifier").aliases) == ["champion"]
        assert client.get_registered_model("classifier").tags == {"team": "vision"}
        writer.delete_registered_model("classifier")
    assert client.search_registered_models() == []


def test_trace_edits_round_trip(written: tuple[StoreWriter, Template, str]) -> None:
    writer, template, uri = written
    trace_id = template.trace_id
    writer.set_trace_tag(trace_id, "reviewed", "yes")
    writer.set_trace_tag(trace_id, "temp", "1")
    writer.delete_trace_tag(trace_id, "temp")
    feedback = writer.log_feedback(
        trace_id, "correct", True, rationale="matches the docs", source_id="ana"
    )
    expectation = writer.log_expectation(trace_id, "answer", {"a": 2}, source_id="ana")

    client = mlflow_client(uri)
    info = client.get_trace(trace_id).info
    assert info.tags["reviewed"] == "yes" and "temp" not in info.tags
    by_name = {a.name: a for a in info.assessments}
    assert by_name["correct"].feedback.value is True
    assert by_name["correct"].rationale == "matches the docs"
    assert by_name["correct"].source.source_type == "HUMAN"
    assert by_name["correct"].source.source_id == "ana"
    assert by_name["correct"].assessment_id == feedback.ids[1]
    assert by_name["answer"].expectation.value == {"a": 2}

    writer.delete_assessment(trace_id, expectation.ids[1])
    names = [a.name for a in client.get_trace(trace_id).info.assessments]
    assert names == ["correct"]

    with pytest.raises(NotFound, match="tr-0000"):
        writer.delete_traces(template.experiment_id, [trace_id, "tr-" + "0" * 32])
    assert client.get_trace(trace_id).info.trace_id == trace_id
    writer.delete_traces(template.experiment_id, [trace_id])
    assert client.search_traces(locations=[template.experiment_id]) == []


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_creating_the_client_does_not_touch_a_database_at_head(tmp_path: Path) -> None:
    path = copy_template(sqlite_template(), tmp_path)
    before = _digest(path)
    store = open_store(path)
    writer = store.writer()
    assert writer.client is writer.client  # created once
    writer.client.get_experiment("0")
    assert _digest(path) == before

    writer.set_run_tag(sqlite_template().run_ids[0], "k", "v")
    version = sqlite3.connect(path).execute("SELECT version_num FROM alembic_version").fetchall()
    assert version == [("dc11669786a5",)]


def test_guard_is_checked_again_before_every_write(tmp_path: Path) -> None:
    path = copy_template(sqlite_template(), tmp_path)
    store = open_store(path)
    writer = store.writer()
    run_id = sqlite_template().run_ids[0]
    writer.set_run_tag(run_id, "first", "1")
    with sqlite3.connect(path) as connection:  # someone else's newer MLflow migrated it
        connection.execute("UPDATE alembic_version SET version_num = 'f4a9b2c7d1e6'")
    before = _digest(path)
    with pytest.raises(ReadOnlyStore, match="newer MLflow"):
        writer.set_run_tag(run_id, "second", "2")
    with pytest.raises(ReadOnlyStore):
        writer.delete_runs([run_id])
    assert _digest(path) == before
