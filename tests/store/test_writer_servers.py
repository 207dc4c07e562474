"""Writes through Flowdeck on PostgreSQL and MariaDB read back identically in MLflow and Flowdeck."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from tests.helpers import databases

from flowdeck.core.errors import ReadOnlyStore
from flowdeck.store import open_store, schema_guard

pytestmark = pytest.mark.slow

REQUIRE_SERVICES = os.environ.get("FLOWDECK_REQUIRE_SERVICES", "") == "1"
MODEL_NAME = "server-clf"
NEWER_REVISION = "f4a9b2c7d1e6"  # MLflow 3.18's head, unknown to the installed 3.17
# Everything a write could touch; alembic_version is left out on purpose.
DUMPED_TABLES = (
    "experiments",
    "experiment_tags",
    "runs",
    "tags",
    "params",
    "metrics",
    "registered_models",
    "model_versions",
    "registered_model_aliases",
)


@dataclass(frozen=True)
class ServerDatabase:
    """A throw-away database at MLflow's head with a little data MLflow wrote."""

    server: str
    url: str  # what a user types into Flowdeck
    mlflow_uri: str  # what MLflow's own client is given
    engine: sa.Engine  # a writable engine, for the tests' own SQL
    experiment_id: str
    run_ids: tuple[str, str]

    def client(self):  # noqa: ANN201 - MLflow's own client, the referee of every test
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.mlflow_uri, registry_uri=self.mlflow_uri)


@dataclass(frozen=True)
class Server:
    unreachable_reason: Callable[[], str | None]
    create: Callable[[str], str]
    drop: Callable[[str], None]
    user_url: Callable[[str], str]


SERVERS = {
    "postgres": Server(
        databases.postgres_unreachable_reason,
        databases.create_postgres_database,
        databases.drop_postgres_database,
        lambda url: url.replace("postgresql+psycopg2://", "postgresql://", 1),
    ),
    "mysql": Server(
        databases.mysql_unreachable_reason,
        databases.create_mysql_database,
        databases.drop_mysql_database,
        lambda url: url,
    ),
}


def _fill(uri: str, artifacts: Path) -> tuple[str, tuple[str, str]]:
    """Create MLflow's schema at head (MLflow does it on first use) and log a little data."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment(
        "server-base", artifact_location=artifacts.as_uri(), tags={"team": "vision"}
    )
    run_ids = []
    for index in range(2):
        run = client.create_run(experiment_id, run_name=f"run-{index}", tags={"seed": str(index)})
        client.log_param(run.info.run_id, "lr", str(0.1 * (index + 1)))
        client.log_metric(run.info.run_id, "loss", 1.0 / (index + 1), step=index)
        client.set_terminated(run.info.run_id)
        run_ids.append(run.info.run_id)
    client.create_registered_model(MODEL_NAME, description="classifier")
    first = client.get_run(run_ids[0])
    client.create_model_version(
        MODEL_NAME, f"{first.info.artifact_uri}/model", run_id=run_ids[0], await_creation_for=0
    )
    return experiment_id, (run_ids[0], run_ids[1])


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerDatabase]:
    """One database per server for the whole module: MLflow needs 10-40 s to create a schema."""
    server = SERVERS[request.param]
    reason = server.unreachable_reason()
    if reason:
        if REQUIRE_SERVICES:
            pytest.fail(reason)
        pytest.skip(reason)
    name = databases.unique_database_name("flowdeck_writer")
    mlflow_uri = server.create(name)
    engine = sa.create_engine(mlflow_uri, poolclass=sa.pool.NullPool)
    try:
        folder = tmp_path_factory.mktemp(f"{request.param}-writer")
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(folder)  # MLflow puts the Default experiment's artifacts under ./mlruns
            experiment_id, run_ids = _fill(mlflow_uri, folder / "artifacts")
        yield ServerDatabase(
            request.param,
            server.user_url(mlflow_uri),
            mlflow_uri,
            engine,
            experiment_id,
            run_ids,
        )
    finally:
        engine.dispose()
        server.drop(name)


@pytest.fixture
def store(database: ServerDatabase) -> Iterator[object]:
    """Flowdeck's store opened with the URL a user would type; writable at head."""
    opened = open_store(database.url)
    assert opened.read_only_reason is None
    yield opened
    opened.close()


# --- read-back helpers: MLflow's client and Flowdeck's store must agree -------------------------


def assert_runs_agree(store, database: ServerDatabase) -> None:  # noqa: ANN001
    """Flowdeck's runs frame equals ``mlflow.search_runs`` in every lifecycle view."""
    import mlflow
    from mlflow.entities import ViewType

    mlflow.set_tracking_uri(database.mlflow_uri)  # conftest resets it after the test
    views = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}
    for view, view_type in views.items():
        expected = mlflow.search_runs([database.experiment_id], run_view_type=view_type)
        actual = store.runs([database.experiment_id], view=view)
        # Within the metrics/params/tags blocks MLflow orders columns as its sets happen to.
        assert list(actual.columns[:6]) == list(expected.columns[:6])
        assert set(actual.columns) == set(expected.columns)
        pd.testing.assert_frame_equal(actual, expected[list(actual.columns)], obj=f"runs ({view})")


def assert_run_agrees(store, database: ServerDatabase, run_id: str) -> None:  # noqa: ANN001
    theirs = database.client().get_run(run_id)
    ours = store.run(run_id)
    assert ours.tags == theirs.data.tags
    assert ours.info.lifecycle_stage == theirs.info.lifecycle_stage
    assert ours.info.run_name == theirs.info.run_name


def assert_versions_agree(store, database: ServerDatabase) -> None:  # noqa: ANN001
    client = database.client()
    numbers = [v.version for v in client.search_model_versions(f"name='{MODEL_NAME}'")]
    # search_model_versions leaves aliases out; get_model_version fills them in.
    theirs = {int(n): client.get_model_version(MODEL_NAME, n) for n in numbers}
    ours = {v.version: v for v in store.model_versions(MODEL_NAME)}
    assert sorted(ours) == sorted(theirs)
    for number, version in theirs.items():
        mine = ours[number]
        assert mine.current_stage == version.current_stage
        assert sorted(mine.aliases) == sorted(version.aliases)
        assert mine.source == version.source and mine.run_id == version.run_id
        assert mine.description == version.description and mine.tags == version.tags


def dump(database: ServerDatabase) -> dict[str, list[tuple]]:
    """Every row of the tables a write could touch, in a stable order."""
    with database.engine.connect() as connection:
        return {
            table: sorted(
                (tuple(row) for row in connection.execute(sa.text(f"SELECT * FROM {table}"))),
                key=repr,
            )
            for table in DUMPED_TABLES
        }


def set_revision(database: ServerDatabase, revision: str) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision}
        )


# --- round trips --------------------------------------------------------------------------------


def test_experiment_rename_round_trips(store, database: ServerDatabase) -> None:  # noqa: ANN001
    new_name = f"renamed-on-{database.server}"
    change = store.writer().rename_experiment(database.experiment_id, new_name)
    assert change.ids == (database.experiment_id,)

    theirs = database.client().get_experiment(database.experiment_id)
    ours = store.experiment(database.experiment_id)
    assert theirs.name == ours.name == new_name
    assert theirs.tags == ours.tags == {"team": "vision"}
    assert_runs_agree(store, database)


def test_run_tags_and_description_round_trip(store, database: ServerDatabase) -> None:  # noqa: ANN001
    first, second = database.run_ids
    writer = store.writer()
    writer.set_run_tags([first, second], {"reviewed": "yes", "by": "ana"})
    writer.delete_run_tag(second, "by")
    writer.set_run_description(first, "baseline, ünïcode ✓")

    client = database.client()
    assert client.get_run(first).data.tags["by"] == "ana"
    assert "by" not in client.get_run(second).data.tags
    assert client.get_run(second).data.tags["reviewed"] == "yes"
    assert client.get_run(first).data.tags["mlflow.note.content"] == "baseline, ünïcode ✓"
    assert store.run(first).description == "baseline, ünïcode ✓"
    for run_id in database.run_ids:
        assert_run_agrees(store, database, run_id)
    frame = store.runs([database.experiment_id]).set_index("run_id")
    assert frame.loc[second, "tags.reviewed"] == "yes" and pd.isna(frame.loc[second, "tags.by"])
    assert_runs_agree(store, database)


def test_delete_and_restore_runs_round_trip(store, database: ServerDatabase) -> None:  # noqa: ANN001
    first, second = database.run_ids
    writer = store.writer()
    writer.delete_runs([first])

    client = database.client()
    assert client.get_run(first).info.lifecycle_stage == "deleted"
    assert client.get_run(second).info.lifecycle_stage == "active"
    assert list(store.runs([database.experiment_id], view="deleted")["run_id"]) == [first]
    assert list(store.runs([database.experiment_id])["run_id"]) == [second]
    assert_run_agrees(store, database, first)
    assert_runs_agree(store, database)

    writer.restore_runs([first])
    assert client.get_run(first).info.lifecycle_stage == "active"
    assert store.runs([database.experiment_id], view="deleted").empty
    assert set(store.runs([database.experiment_id])["run_id"]) == {first, second}
    assert_run_agrees(store, database, first)
    assert_runs_agree(store, database)


def test_alias_and_stage_round_trip(store, database: ServerDatabase) -> None:  # noqa: ANN001
    writer = store.writer()
    writer.set_alias(MODEL_NAME, "champion", 1)
    writer.transition_stage(MODEL_NAME, 1, "Staging")

    client = database.client()
    assert {a: str(v) for a, v in client.get_registered_model(MODEL_NAME).aliases.items()} == {
        "champion": "1"
    }
    assert client.get_model_version(MODEL_NAME, "1").current_stage == "Staging"
    (ours,) = store.model_versions(MODEL_NAME)
    assert ours.aliases == ("champion",) and ours.current_stage == "Staging"
    assert_versions_agree(store, database)

    writer.transition_stage(MODEL_NAME, 1, "Production")
    assert client.get_model_version(MODEL_NAME, "1").current_stage == "Production"
    assert store.model_versions(MODEL_NAME)[0].current_stage == "Production"
    assert_versions_agree(store, database)


def test_register_promote_and_deploy_round_trip(store, database: ServerDatabase) -> None:  # noqa: ANN001
    """The registry dialogs' writes: register, promote with a note, a workflow's deploy."""
    from flowdeck.core.deploy_steps import APPROVE, Step
    from flowdeck.core.deploy_workflow import WORKFLOW_TAG, Workflow, parse_workflow
    from flowdeck.core.promotion import PromotionTarget
    from flowdeck.ui.registry.workflow_reads import record_evaluation

    name, writer = "server-flow", store.writer()
    for run_id in database.run_ids:
        writer.register_version(name, f"runs:/{run_id}/model", run_id=run_id)
    client = database.client()
    assert [int(v.version) for v in client.search_model_versions(f"name='{name}'")] == [2, 1]

    champion = PromotionTarget.to_alias("champion")
    writer.promote(name, 1, champion, "first release", None, user="ana")
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"

    workflow = Workflow("alias", "champion", ())
    writer.set_workflow(name, workflow)
    assert parse_workflow(client.get_registered_model(name).tags[WORKFLOW_TAG]) == workflow
    record_evaluation(writer, name, 2, workflow)
    now = int(time.time() * 1000) + 1
    writer.record_step(name, 2, Step(APPROVE, True, now, "bo", "looks good"), workflow)
    writer.deploy(name, 2, workflow, "second release", user="bo")
    assert str(client.get_model_version_by_alias(name, "champion").version) == "2"
    ours = {v.version: v for v in store.model_versions(name)}
    assert ours[2].aliases == ("champion",) and ours[1].aliases == ()
    theirs = client.get_model_version(name, "2").tags
    assert {k: v for k, v in ours[2].tags.items()} == theirs


# --- the schema guard on a server ---------------------------------------------------------------


def test_other_schema_revisions_are_read_only_and_untouched(database: ServerDatabase) -> None:
    head = schema_guard.installed_head()
    older = schema_guard.revision_parents()[head][0]
    first, _ = database.run_ids
    at_head = open_store(database.url)
    writer = at_head.writer()
    before = dump(database)
    try:
        for revision, word in ((older, "an older"), (NEWER_REVISION, "a newer")):
            set_revision(database, revision)
            store = open_store(database.url)
            try:
                assert store.read_only_reason is not None
                assert store.read_only_reason.startswith(f"Written by {word} MLflow")
                with pytest.raises(ReadOnlyStore, match=f"{word} MLflow"):
                    store.writer()
            finally:
                store.close()
            # A writer obtained while the database was at head checks again before each write.
            with pytest.raises(ReadOnlyStore, match=f"{word} MLflow"):
                writer.set_run_tag(first, "guarded", "no")
            with pytest.raises(ReadOnlyStore):
                writer.delete_runs([first])
            with pytest.raises(ReadOnlyStore):
                writer.set_alias(MODEL_NAME, "guarded", 1)
        assert dump(database) == before
    finally:
        set_revision(database, head)
        at_head.close()
    with database.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [
            (head,)
        ]
