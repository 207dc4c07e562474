"""SqlStore registry reads against a registry written by real MLflow 3.17."""

from __future__ import annotations

import shutil
import sqlite3

import mlflow
import pytest
from mlflow import MlflowClient

from flowdeck.core.errors import InvalidFilter, NotFound
from flowdeck.store.sql import SqlStore


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    folder = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)  # the registry resolves models:/m-… through it
    try:
        yield _write_registry(uri, folder)
    finally:
        mlflow.set_tracking_uri(previous)


def _write_registry(uri, folder):
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("reg", artifact_location=(folder / "art").as_uri())
    run = client.create_run(experiment_id)
    client.set_terminated(run.info.run_id)
    logged = client.create_logged_model(experiment_id, name="clf")

    client.create_registered_model(
        "classifier", tags={"team": "vision"}, description="Detects cats"
    )
    run_source = f"{run.info.artifact_uri}/model"
    for index in range(4):
        client.create_model_version(
            "classifier",
            run_source,
            run_id=run.info.run_id,
            tags={"idx": str(index)},
            description=f"v{index + 1}",
        )
    client.create_model_version(
        "classifier", f"models:/{logged.model_id}", model_id=logged.model_id
    )
    client.transition_model_version_stage("classifier", "1", "Production")
    client.transition_model_version_stage(
        "classifier", "2", "Production", archive_existing_versions=True
    )
    client.transition_model_version_stage("classifier", "3", "Staging")
    client.set_registered_model_alias("classifier", "champion", "2")
    client.set_registered_model_alias("classifier", "challenger", "3")
    client.set_registered_model_alias("classifier", "doomed", "4")
    client.delete_model_version("classifier", "4")

    client.create_registered_model("Regressor", tags={"team": "tabular"})
    client.create_registered_model("empty-model")
    mlflow.genai.register_prompt("prompt-like", "Answer {{question}}", tags={"team": "genai"})
    return {
        "uri": uri,
        "client": client,
        "folder": folder,
        "model_id": logged.model_id,
        "run_source": run_source,
        "run_id": run.info.run_id,
    }


@pytest.fixture(scope="module")
def reader(registry):
    store = SqlStore(registry["uri"])
    yield store
    store.close()


def test_versions_newest_first_without_deleted(reader):
    versions = reader.model_versions("classifier")
    assert [v.version for v in versions] == [5, 3, 2, 1]
    stages = {v.version: v.current_stage for v in versions}
    assert stages == {5: "None", 3: "Staging", 2: "Production", 1: "Archived"}
    assert all(v.current_stage != "Deleted_Internal" for v in versions)


def test_versions_match_mlflow_client(registry, reader):
    client = registry["client"]
    listed = {int(v.version) for v in client.search_model_versions("name='classifier'")}
    ours_all = reader.model_versions("classifier")
    assert {v.version for v in ours_all} == listed
    for ours in ours_all:
        mv = client.get_model_version("classifier", str(ours.version))
        assert ours.tags == mv.tags
        assert set(ours.aliases) == set(mv.aliases)
        assert (ours.description, ours.source, ours.run_id, ours.status) == (
            mv.description,
            mv.source,
            mv.run_id or None,
            mv.status,
        )
        assert ours.creation_time == mv.creation_timestamp


def test_version_aliases_sources_and_model_id(registry, reader):
    by_version = {v.version: v for v in reader.model_versions("classifier")}
    assert by_version[2].aliases == ("champion",)
    assert by_version[3].aliases == ("challenger",)
    assert by_version[5].model_id == registry["model_id"]
    assert by_version[5].storage_location.endswith(f"models/{registry['model_id']}/artifacts")
    assert by_version[1].model_id is None
    assert by_version[1].storage_location == registry["run_source"]
    assert by_version[1].run_id == registry["run_id"]


def test_registered_models_with_tags_and_aliases(reader):
    page = reader.registered_models()
    assert [m.name for m in page.items] == sorted(
        ["classifier", "Regressor", "empty-model", "prompt-like"]
    )
    assert page.next_token is None
    classifier = next(m for m in page.items if m.name == "classifier")
    assert classifier.aliases == {"champion": 2, "challenger": 3}
    assert classifier.tags == {"team": "vision"} and classifier.description == "Detects cats"
    assert next(m for m in page.items if m.name == "prompt-like").is_prompt


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'classifier'", ["classifier"]),
        ("name != 'classifier'", ["Regressor", "empty-model", "prompt-like"]),
        ("name LIKE 'r%'", []),
        ("name ILIKE 'r%'", ["Regressor"]),
        ("name LIKE '%model%'", ["empty-model"]),
        ("tags.team = 'vision'", ["classifier"]),
        ("tags.team LIKE '%a%'", ["Regressor", "prompt-like"]),
        ("tags.team != 'vision'", ["Regressor", "prompt-like"]),
        ("name IN ('classifier', 'Regressor')", ["Regressor", "classifier"]),
    ],
)
def test_registered_model_filters_match_mlflow(registry, reader, filter_string, expected):
    ours = [m.name for m in reader.registered_models(filter_string).items]
    assert ours == expected
    theirs = sorted(m.name for m in registry["client"].search_registered_models(filter_string))
    # MLflow hides prompts from this search; ours lists them (see RegisteredModel.is_prompt).
    assert sorted(n for n in ours if n != "prompt-like") == theirs


def test_registered_models_page(reader):
    first = reader.registered_models(max_results=3)
    assert len(first.items) == 3 and first.next_token
    second = reader.registered_models(max_results=3, page_token=first.next_token)
    assert len(second.items) == 1 and second.next_token is None


def test_bad_filter_and_token(reader):
    with pytest.raises(InvalidFilter):
        reader.registered_models("version = 3")
    with pytest.raises(InvalidFilter):
        reader.registered_models("tags.team IN ('a')")
    with pytest.raises(InvalidFilter):
        reader.registered_models(page_token="%%%")


def test_unknown_model_raises_not_found(reader):
    with pytest.raises(NotFound):
        reader.model_versions("nope")
    assert reader.model_versions("empty-model") == []


def test_old_schema_without_aliases_workspace_or_storage_location(registry, tmp_path):
    """A 2.x-shaped registry: no aliases table, no workspace or storage_location columns."""
    copy = tmp_path / "old.db"
    shutil.copy(registry["folder"] / "mlflow.db", copy)
    connection = sqlite3.connect(copy)
    connection.executescript(
        """
        PRAGMA foreign_keys = OFF;
        DROP TABLE registered_model_aliases;
        CREATE TABLE mv_old AS SELECT name, version, creation_time, last_updated_time,
            description, user_id, current_stage, source, run_id, status, status_message,
            run_link FROM model_versions;
        DROP TABLE model_versions;
        ALTER TABLE mv_old RENAME TO model_versions;
        CREATE TABLE rm_old AS SELECT name, creation_time, last_updated_time, description
            FROM registered_models;
        DROP TABLE registered_models;
        ALTER TABLE rm_old RENAME TO registered_models;
        """
    )
    connection.commit()
    connection.close()
    old = SqlStore(f"sqlite:///{copy}")
    try:
        versions = old.model_versions("classifier")
        assert [v.version for v in versions] == [5, 3, 2, 1]
        assert versions[0].storage_location == f"models:/{registry['model_id']}"
        assert all(v.aliases == () for v in versions)
        models = old.registered_models("tags.team = 'vision'").items
        assert [m.name for m in models] == ["classifier"] and models[0].aliases == {}
    finally:
        old.close()
