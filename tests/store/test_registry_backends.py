"""Registry reads on every backend equal MLflow's own client on a registry MLflow wrote."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import databases
from tests.helpers.servers import start_mlflow_server

from flowdeck.core.entities import ModelVersion, RegisteredModel
from flowdeck.core.registry_filter import PROMPT_FILTER, PROMPT_TAG
from flowdeck.store import open_store
from flowdeck.store.base import Store

REQUIRE_SERVICES = os.environ.get("FLOWDECK_REQUIRE_SERVICES", "") == "1"
BIG = "big-model"
BIG_VERSIONS = 300
# MLflow's file store scans every version to add one (300 take about a minute): fewer there.
BIG_VERSIONS_FILES = 40
BIG_DELETED = 5
DELETED_MODEL = "doomed-x"
PROMPT = "greeting-x"
FILTERS = ["", "name LIKE '%x%'", "tags.k = 'v'", "name = 'big-model'", "tags.k != 'v'"]
SLOW = [pytest.mark.slow]
BACKENDS = [
    pytest.param("files", id="files"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=[*SLOW, pytest.mark.postgres]),
    pytest.param("mysql", id="mysql", marks=[*SLOW, pytest.mark.mysql]),
    pytest.param("server", id="server", marks=[*SLOW, pytest.mark.server]),
]


def write_registry(uri: str, big_versions: int = BIG_VERSIONS) -> None:
    """Models with tags, descriptions, stages, aliases, deletions and a prompt, via MLflow."""
    import mlflow
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("registry")
    run = client.create_run(experiment)
    source = f"runs:/{run.info.run_id}/model"
    client.create_registered_model("alpha-x", tags={"k": "v", "team": "a"}, description="First.")
    client.create_registered_model("beta", tags={"k": "w"}, description="Two\nlines.")
    client.create_registered_model("empty-x", tags={"k": "v"})
    client.create_registered_model(BIG, description="Many versions.")
    for index in range(3):
        client.create_model_version(
            "alpha-x",
            source,
            run_id=run.info.run_id,
            tags={"idx": str(index)},
            description=f"alpha v{index + 1}",
        )
    client.create_model_version("beta", "s3://bucket/beta/1")
    for index in range(big_versions):
        tags = {"n": str(index + 1), "even": str(index % 2 == 0)} if index % 10 == 0 else None
        client.create_model_version(BIG, f"s3://bucket/big/{index + 1}", tags=tags)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stages are deprecated in MLflow 3
        client.transition_model_version_stage(BIG, "1", "Production")
        client.transition_model_version_stage(BIG, "2", "Production", True)  # archives 1
        client.transition_model_version_stage(BIG, "3", "Staging")
        client.transition_model_version_stage(BIG, "4", "Archived")
        client.transition_model_version_stage("alpha-x", "2", "Staging")
    client.set_registered_model_alias(BIG, "champion", "2")
    client.set_registered_model_alias(BIG, "challenger", str(big_versions))
    client.set_registered_model_alias(BIG, "old", "3")
    client.set_registered_model_alias("alpha-x", "prod", "2")
    client.set_registered_model_alias(BIG, "gone", str(BIG_DELETED))
    client.delete_model_version(BIG, str(BIG_DELETED))
    client.create_registered_model(DELETED_MODEL, tags={"k": "v"})
    client.create_model_version(DELETED_MODEL, "s3://bucket/doomed/1")
    client.delete_registered_model(DELETED_MODEL)
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        mlflow.genai.register_prompt(PROMPT, "Hello {{name}}", tags={"k": "v"})
        mlflow.genai.register_prompt(PROMPT, "Hi {{name}}!", commit_message="shorter")
        mlflow.genai.set_prompt_alias(PROMPT, "live", 1)
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])


@dataclass
class Backend:
    """One backend holding the registry: Flowdeck's store and MLflow's client on it."""

    name: str
    store: Store
    client: Any
    big_versions: int = BIG_VERSIONS


def _unreachable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sqlite_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("registry-sqlite")
    write_registry(f"sqlite:///{folder / 'mlflow.db'}")
    return folder / "mlflow.db"


@pytest.fixture(scope="module", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    from mlflow.tracking import MlflowClient

    kind = request.param
    cleanup = []
    if kind == "files":
        patch = pytest.MonkeyPatch()  # MLflow 3 writes and reads file stores only when asked
        patch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        cleanup.append(patch.undo)
        root = tmp_path_factory.mktemp("registry-files") / "mlruns"
        uri, location = root.as_uri(), str(root)
        write_registry(uri, BIG_VERSIONS_FILES)
    elif kind == "sqlite":
        db = request.getfixturevalue("sqlite_registry")
        uri = location = f"sqlite:///{db}"
    elif kind == "server":
        db = request.getfixturevalue("sqlite_registry")
        workdir = tmp_path_factory.mktemp("registry-server")
        shutil.copy2(db, workdir / "mlflow.db")
        server = start_mlflow_server(workdir)
        cleanup.append(server.stop)
        uri = location = server.url
    else:
        reason = (
            databases.postgres_unreachable_reason()
            if kind == "postgres"
            else databases.mysql_unreachable_reason()
        )
        if reason:
            _unreachable(reason)
        name = databases.unique_database_name("flowdeck_registry")
        if kind == "postgres":
            uri = databases.create_postgres_database(name)
            cleanup.append(lambda: databases.drop_postgres_database(name))
            location = uri.replace("+psycopg2", "", 1)
        else:
            uri = location = databases.create_mysql_database(name)
            cleanup.append(lambda: databases.drop_mysql_database(name))
    store = None
    try:
        if kind in ("postgres", "mysql"):
            write_registry(uri)
        store = open_store(location)
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        big = BIG_VERSIONS_FILES if kind == "files" else BIG_VERSIONS
        yield Backend(kind, store, client, big)
    finally:
        if store is not None:
            store.close()
        for step in reversed(cleanup):
            step()


# --- what MLflow's own client says ------------------------------------------------------------


def _with_prompts(filter_string: str) -> str:
    return f"{filter_string} AND {PROMPT_FILTER}" if filter_string else PROMPT_FILTER


def _all_pages(search: Any, filter_string: str) -> list[Any]:
    found, token = [], None
    while True:
        page = search(filter_string, max_results=1000, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found


def mlflow_models(client: Any, filter_string: str) -> list[dict[str, Any]]:
    """Models and prompts (MLflow's search leaves prompts out unless asked), by name."""
    search = client.search_registered_models
    rows = [_mlflow_model(model, False) for model in _all_pages(search, filter_string)]
    rows += [
        _mlflow_model(model, True) for model in _all_pages(search, _with_prompts(filter_string))
    ]
    return sorted(rows, key=lambda row: row["name"])


def _mlflow_model(model: Any, is_prompt: bool) -> dict[str, Any]:
    """MLflow's entity hides the prompt tag; ``is_prompt`` says which search found it."""
    return {
        "name": model.name,
        "is_prompt": is_prompt,
        "creation_time": model.creation_timestamp,
        "last_updated_time": model.last_updated_timestamp,
        "description": model.description or None,
        "tags": dict(model.tags),
        "aliases": {alias: int(version) for alias, version in model.aliases.items()},
    }


def _flowdeck_model(model: RegisteredModel) -> dict[str, Any]:
    return {
        "name": model.name,
        "is_prompt": model.is_prompt,
        "creation_time": model.creation_time,
        "last_updated_time": model.last_updated_time,
        "description": model.description or None,
        "tags": {k: v for k, v in model.tags.items() if k != PROMPT_TAG},
        "aliases": model.aliases,
    }


def mlflow_versions(client: Any, name: str, is_prompt: bool) -> list[dict[str, Any]]:
    """Live versions by ``search_model_versions(name='…')``, newest first, without aliases."""
    filter_string = f"name='{name}'"
    versions = _all_pages(
        client.search_model_versions, _with_prompts(filter_string) if is_prompt else filter_string
    )
    rows = [
        {
            "name": v.name,
            "version": int(v.version),
            "creation_time": v.creation_timestamp,
            "last_updated_time": v.last_updated_timestamp,
            "current_stage": v.current_stage or "None",
            "description": v.description or None,
            "user_id": v.user_id or None,
            "source": v.source,
            "run_id": v.run_id or None,
            "status": v.status,
            "run_link": v.run_link or None,
            "tags": dict(v.tags),
        }
        for v in versions
    ]
    return sorted(rows, key=lambda row: row["version"], reverse=True)


def _flowdeck_version(v: ModelVersion) -> dict[str, Any]:
    return {
        "name": v.name,
        "version": v.version,
        "creation_time": v.creation_time,
        "last_updated_time": v.last_updated_time,
        "current_stage": v.current_stage,
        "description": v.description or None,
        "user_id": v.user_id or None,
        "source": v.source,
        "run_id": v.run_id,
        "status": v.status,
        "run_link": v.run_link,
        "tags": v.tags,
    }


def _all_flowdeck_models(store: Store, filter_string: str) -> list[RegisteredModel]:
    found, token = [], None
    while True:
        page = store.registered_models(filter_string, token, 2)  # small pages: paging too
        found.extend(page.items)
        token = page.next_token
        if not token:
            return found


# --- the matrix ----------------------------------------------------------------------------------


@pytest.mark.parametrize("filter_string", FILTERS)
def test_registered_models_equal_mlflow(backend: Backend, filter_string: str) -> None:
    ours = [_flowdeck_model(m) for m in _all_flowdeck_models(backend.store, filter_string)]
    assert ours == mlflow_models(backend.client, filter_string)
    assert DELETED_MODEL not in [row["name"] for row in ours]


def test_model_versions_and_all_model_versions_equal_mlflow(backend: Backend) -> None:
    models = {m.name: m for m in _all_flowdeck_models(backend.store, "")}
    every = backend.store.all_model_versions()
    assert sorted(every) == sorted(models), "every registered model is a key, nothing else"
    for name, model in models.items():
        expected = mlflow_versions(backend.client, name, model.is_prompt)
        one = backend.store.model_versions(name)
        assert [_flowdeck_version(v) for v in one] == expected, name
        assert every[name] == one, name
    big = [v.version for v in every[BIG]]
    assert len(big) == backend.big_versions - 1 and BIG_DELETED not in big
    assert big == sorted(big, reverse=True)
    stages = {v.version: v.current_stage for v in every[BIG] if v.version <= 4}
    assert stages == {1: "Archived", 2: "Production", 3: "Staging", 4: "Archived"}
    assert every["empty-x"] == []
    assert [v.version for v in every[PROMPT]] == [2, 1]
    assert every[PROMPT][0].tags["mlflow.prompt.text"] == "Hi {{name}}!"


def test_aliases_resolve_like_mlflow(backend: Backend) -> None:
    every = backend.store.all_model_versions()
    for name, versions in every.items():
        ours = {alias: v.version for v in versions for alias in v.aliases}
        (registered,) = mlflow_models(backend.client, f"name = '{name}'")
        assert ours == registered["aliases"], name
        resolve = (
            backend.client.get_prompt_version_by_alias
            if versions and versions[0].tags.get("mlflow.prompt.is_prompt") == "true"
            else backend.client.get_model_version_by_alias
        )
        for alias, version in ours.items():
            assert int(resolve(name, alias).version) == version, (name, alias)
    assert {alias: v.version for v in every[BIG] for alias in v.aliases} == {
        "champion": 2,
        "challenger": backend.big_versions,
        "old": 3,
    }
    assert {alias: v.version for v in every[PROMPT] for alias in v.aliases} == {"live": 1}


def test_all_model_versions_reports_progress_and_cancels(backend: Backend) -> None:
    from flowdeck.core.errors import Cancelled
    from flowdeck.core.task_state import TaskState

    reports: list[tuple[int, int, str]] = []
    state = TaskState(lambda done, total, text: reports.append((done, total, text)))
    backend.store.all_model_versions(state=state)
    assert reports and reports[-1][0] == reports[-1][1]
    cancelled = TaskState()
    cancelled.cancel()
    with pytest.raises(Cancelled):
        backend.store.all_model_versions(state=cancelled)


def test_default_implementation_and_fallback_agree(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The base class's model-by-model default, and the REST fallback used when a server
    refuses the bulk search, return what the bulk override returns."""
    expected = backend.store.all_model_versions()
    assert Store.all_model_versions(backend.store) == expected
    if backend.name == "server":
        from flowdeck.store.rest import registry

        client, calls = backend.store.client, []
        get = client.get
        monkeypatch.setattr(client, "get", lambda e, *a, **k: calls.append(e) or get(e, *a, **k))
        _all_flowdeck_models(backend.store, "")  # the listing all_model_versions then reuses
        calls.clear()
        assert backend.store.all_model_versions() == expected
        assert calls and "registered-models/search" not in calls
        monkeypatch.setattr(registry, "VERSIONS_PAGE_MAX", 200_001)  # over the server's limit
        with pytest.raises(registry.ServerRefused):
            registry._all_version_items(backend.store.client, "", None)
        assert backend.store.all_model_versions() == expected


def test_models_page_read_is_the_same_in_bulk_and_model_by_model(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowdeck.core.task_state import TaskState
    from flowdeck.ui.pages.registry import reads

    monkeypatch.setattr(reads, "PER_MODEL_READS", 10**6)
    one_by_one = reads.read_models(TaskState(), backend.store, "")
    monkeypatch.setattr(reads, "PER_MODEL_READS", 0)
    bulk = reads.read_models(TaskState(), backend.store, "")
    assert bulk == one_by_one
    rows = {row.name: row for row in bulk.models}
    assert rows[BIG].latest == backend.big_versions
    assert rows[BIG].stages == "Production 1 · Staging 1 · Archived 2"
    assert [row.name for row in bulk.prompts] == [PROMPT]
    assert bulk.prompts[0].template == "Hi {{name}}!"


def test_listing_memo_reuses_one_complete_unfiltered_listing_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flowdeck.core.entities import Page
    from flowdeck.store.rest import registry

    def model(name: str, **aliases: int) -> RegisteredModel:
        return RegisteredModel(name, None, None, None, {}, aliases)

    memo = registry.ListingMemo()
    memo.record("", None, Page([model("a", x=1)], "t1"))
    assert memo.take() is None, "not finished"
    memo.record("", "t1", Page([model("b")], None))
    assert memo.take() == {"a": {"x": 1}, "b": {}}
    assert memo.take() is None, "taken once"
    memo.record("name LIKE 'a%'", None, Page([model("a")], None))
    assert memo.take() is None, "a filtered listing is not every model"
    memo.record("", None, Page([model("a")], "t1"))
    memo.record("", "elsewhere", Page([model("b")], None))
    assert memo.take() is None, "pages out of sequence"
    memo.record("", None, Page([model("a")], None))
    monkeypatch.setattr(registry, "LISTING_REUSE_S", -1.0)
    assert memo.take() is None, "too old"
