"""Session fixtures that start a real ``mlflow server`` and fill it with a small rich store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.servers import ServerProcess, start_mlflow_server


@dataclass
class RichStore:
    """What the populated server holds, for assertions."""

    url: str
    experiment_ids: list[str]
    deleted_experiment_id: str
    run_ids: dict[str, str] = field(default_factory=dict)
    deleted_run_id: str = ""
    model_name: str = "flowdeck-model"
    quoted_model_name: str = "it's a model"
    both_quotes_name: str = 'say "it\'s"'
    prompt_name: str = "greeting"
    logged_model_id: str = ""
    trace_ids: list[str] = field(default_factory=list)
    artifact_run_id: str = ""


def populate(url: str) -> RichStore:
    """Log experiments, runs, metrics (NaN/±inf), datasets, models, registry and traces."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import LoggedModelOutput, Metric, Param, RunTag

    client = MlflowClient(tracking_uri=url, registry_uri=url)
    exp_a = client.create_experiment("alpha", tags={"mlflow.note.content": "first"})
    exp_b = client.create_experiment("beta")
    exp_gone = client.create_experiment("gone")
    store = RichStore(url, [exp_a, exp_b], exp_gone)

    start = 1_700_000_000_000
    for index in range(8):
        experiment = exp_a if index < 6 else exp_b
        run = client.create_run(
            experiment,
            run_name=f"run-{index}",
            start_time=start + index * 1000,
            tags={"team": "red" if index % 2 else "blue"},
        )
        run_id = run.info.run_id
        store.run_ids[f"run-{index}"] = run_id
        loss_values = [1.0 / (step + 1 + index) for step in range(5)]
        if index == 3:
            loss_values[-1] = float("nan")
        metrics = [
            Metric("loss", value, start + step, step) for step, value in enumerate(loss_values)
        ]
        metrics.append(Metric("acc", 0.5 + index / 20, start, 0))
        if index == 4:
            metrics.append(Metric("peak", float("inf"), start, 0))
        if index == 5:
            metrics.append(Metric("peak", float("-inf"), start, 0))
        params = [Param("lr", str(0.1 / (index + 1))), Param("layers", str(index % 3))]
        if index % 2 == 0:
            params.append(Param("optimizer", "adam"))
        client.log_batch(run_id, metrics=metrics, params=params, tags=[RunTag("idx", str(index))])
        if index != 7:
            client.set_terminated(run_id, end_time=start + index * 1000 + 500)

    first = store.run_ids["run-0"]
    nested = client.create_run(
        exp_a, run_name="child", start_time=start + 100_000, tags={"mlflow.parentRunId": first}
    )
    store.run_ids["child"] = nested.info.run_id
    client.log_metric(nested.info.run_id, "loss", 0.01, timestamp=start, step=0)
    client.set_terminated(nested.info.run_id)

    doomed = client.create_run(exp_a, run_name="doomed", start_time=start + 200_000)
    client.log_metric(doomed.info.run_id, "loss", 9.0, timestamp=start, step=0)
    client.delete_run(doomed.info.run_id)
    store.deleted_run_id = doomed.info.run_id
    client.delete_experiment(exp_gone)

    _log_dataset_and_artifacts(client, store)
    model = client.create_logged_model(exp_a, name="clf", source_run_id=first, model_type="demo")
    client.finalize_logged_model(model.model_id, "READY")
    client.log_outputs(first, [LoggedModelOutput(model.model_id, 3)])
    store.logged_model_id = model.model_id
    _register_models(client, store)
    _log_traces(mlflow, url, exp_b, store)
    return store


def _log_dataset_and_artifacts(client: object, store: RichStore) -> None:
    import tempfile

    import mlflow.data
    import pandas as pd
    from mlflow.entities import DatasetInput, InputTag

    run_id = store.run_ids["run-1"]
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(frame, name="train-set")
    client.log_inputs(  # type: ignore[attr-defined]
        run_id,
        datasets=[
            DatasetInput(dataset._to_mlflow_entity(), [InputTag("mlflow.data.context", "train")])
        ],
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "notes.txt").write_text("hello flowdeck\n")
        (root / "plots").mkdir()
        (root / "plots" / "curve.csv").write_text("step,loss\n0,1.0\n1,0.5\n")
        (root / "plots" / "deep").mkdir()
        (root / "plots" / "deep" / "x.json").write_text('{"a": 1}')
        client.log_artifacts(run_id, str(root))  # type: ignore[attr-defined]
    store.artifact_run_id = run_id


def _register_models(client: Any, store: RichStore) -> None:
    def add_version(name: str, tags: dict[str, str] | None = None) -> None:
        client.create_model_version(
            name,
            f"models:/{store.logged_model_id}",
            run_id=store.run_ids["run-0"],
            tags=tags,
            model_id=store.logged_model_id,
            await_creation_for=0,
        )

    client.create_registered_model(store.model_name, tags={"owner": "ml"}, description="the model")
    for _ in range(3):
        add_version(store.model_name, {"k": "v"})
    client.set_registered_model_alias(store.model_name, "champion", "2")
    client.delete_model_version(store.model_name, "3")
    for name, versions in ((store.quoted_model_name, 1), (store.both_quotes_name, 2)):
        client.create_registered_model(name)
        for _ in range(versions):
            add_version(name)
    for index in range(3):
        client.create_registered_model(f"bulk-{index:02d}")
    client.register_prompt(store.prompt_name, "Hello {{name}}!")


def _log_traces(mlflow: object, url: str, experiment_id: str, store: RichStore) -> None:
    from mlflow.entities import AssessmentSource

    previous = mlflow.get_tracking_uri()  # type: ignore[attr-defined]
    mlflow.set_tracking_uri(url)  # type: ignore[attr-defined]
    mlflow.set_experiment(experiment_id=experiment_id)  # type: ignore[attr-defined]
    try:
        for index in range(3):
            with mlflow.start_span(name=f"agent-{index}", span_type="AGENT") as root:  # type: ignore[attr-defined]
                root.set_inputs({"question": f"q{index}"})
                with mlflow.start_span(name="tool", span_type="TOOL") as child:  # type: ignore[attr-defined]
                    child.set_inputs({"n": index})
                    child.set_outputs([index, index + 1])
                root.set_outputs({"answer": f"a{index}"})
            store.trace_ids.append(root.trace_id)
            time.sleep(0.005)  # each its own millisecond: the tests check newest-first order
        mlflow.flush_trace_async_logging()  # type: ignore[attr-defined]
        mlflow.log_feedback(  # type: ignore[attr-defined]
            trace_id=store.trace_ids[0],
            name="quality",
            value=True,
            source=AssessmentSource(source_type="HUMAN", source_id="tester"),
            rationale="good",
        )
    finally:
        mlflow.set_tracking_uri(previous)  # type: ignore[attr-defined]
        import mlflow.tracking.fluent as fluent

        fluent._active_experiment_id = None


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A plain ``mlflow server`` (SQLite + proxied artifacts), started once per session."""
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow-server"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def rich_server(mlflow_server: ServerProcess) -> RichStore:
    """The session's server filled with a small rich store."""
    return populate(mlflow_server.url)


AUTH_ADMIN = "admin"
AUTH_PASSWORD = "flowdeck-admin-Pass-2024"


@pytest.fixture(scope="session")
def basic_auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``mlflow server --app-name basic-auth`` with an admin user, started once per session."""
    pytest.importorskip("flask_wtf", reason="mlflow's basic-auth app needs mlflow[auth]")
    workdir = tmp_path_factory.mktemp("mlflow-auth-server")
    config = workdir / "basic_auth.ini"
    config.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{workdir / 'basic_auth.db'}\n"
        f"admin_username = {AUTH_ADMIN}\n"
        f"admin_password = {AUTH_PASSWORD}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    env = {
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_AUTH_ADMIN_PASSWORD": AUTH_PASSWORD,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "flowdeck-test-secret",
    }
    server = start_mlflow_server(workdir, ("--app-name", "basic-auth"), env)
    try:
        yield server
    finally:
        server.stop()
