"""The demo store, built once per session and checked with MLflow's own client."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def demo_db(isolated_user_dirs: Path) -> Path:
    from flowdeck.demo import ensure_demo_store

    messages: list[str] = []
    tracking_uri_before = os.environ.get("MLFLOW_TRACKING_URI")
    db_path = ensure_demo_store(progress=messages.append)
    assert os.environ.get("MLFLOW_TRACKING_URI") == tracking_uri_before
    assert messages and messages[-1].startswith("demo store ready")
    return db_path


@pytest.fixture(scope="session")
def client(demo_db: Path):
    from mlflow import MlflowClient

    uri = f"sqlite:///{demo_db}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _all_runs(client):
    from mlflow.entities import ViewType

    experiments = client.search_experiments(view_type=ViewType.ALL)
    return client.search_runs(
        [e.experiment_id for e in experiments], run_view_type=ViewType.ALL, max_results=5000
    )


def test_store_lives_in_the_user_data_folder_and_nothing_is_left_over(demo_db, isolated_user_dirs):
    from flowdeck import paths

    assert demo_db == paths.demo_store_path()
    assert demo_db.is_relative_to(isolated_user_dirs)
    assert (demo_db.parent / "artifacts").is_dir()
    beside = [p.name for p in demo_db.parent.parent.iterdir()]
    assert "demo" in beside
    assert not [name for name in beside if name.startswith(".demo-build-")]  # no temp folders


def test_second_call_reuses_the_existing_store(demo_db):
    from flowdeck.demo import ensure_demo_store

    before = demo_db.stat().st_mtime_ns
    messages: list[str] = []
    assert ensure_demo_store(progress=messages.append) == demo_db
    assert messages == []
    assert demo_db.stat().st_mtime_ns == before


def test_no_path_points_into_the_temporary_build_folder(demo_db):
    with sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True) as connection:
        locations = [row[0] for row in connection.execute("SELECT artifact_uri FROM runs")]
    assert locations and all(str(demo_db.parent / "artifacts") in loc for loc in locations)
    leftovers = [
        path
        for path in (demo_db.parent / "artifacts").rglob("MLmodel")
        if ".demo-build-" in path.read_text()
    ]
    assert leftovers == []


def test_experiments_and_runs(client):
    from mlflow.entities import ViewType

    names = {e.name for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)}
    assert {"image-classifier", "llm-agent", "tabular-regression"} <= names
    runs = _all_runs(client)
    assert 90 <= len(runs) <= 120
    statuses = {run.info.status for run in runs}
    assert {"FINISHED", "FAILED", "RUNNING"} <= statuses
    assert sum(run.info.lifecycle_stage == "deleted" for run in runs) >= 3
    children = [run for run in runs if "mlflow.parentRunId" in run.data.tags]
    parent_ids = {run.data.tags["mlflow.parentRunId"] for run in children}
    assert len(children) >= 20 and len(parent_ids) >= 3
    assert parent_ids <= {run.info.run_id for run in runs}
    sample = next(run for run in runs if run.info.run_name.startswith("resnet50-trial"))
    assert {"lr", "batch_size", "optimizer", "model"} <= set(sample.data.params)
    for tag in (
        "mlflow.source.git.commit",
        "mlflow.source.name",
        "mlflow.source.type",
        "mlflow.user",
    ):
        assert sample.data.tags[tag]


def test_long_metric_curves_decay(client):
    runs = _all_runs(client)
    trial = next(
        run
        for run in runs
        if run.info.run_name == "resnet18-trial-00" and run.info.status == "FINISHED"
    )
    history = client.get_metric_history(trial.info.run_id, "train/loss")
    assert len(history) >= 1000
    steps = [m.step for m in history]
    assert steps == sorted(steps)
    values = [m.value for m in history]
    assert sum(values[:50]) / 50 > 2 * sum(values[-50:]) / 50  # it learns
    assert len({m.timestamp for m in history}) == len(history)  # explicit timestamps
    assert {"val/loss", "val/accuracy", "lr"} <= set(trial.data.metrics)


def test_registered_model_versions_aliases_and_stage(client):
    model = client.get_registered_model("house-price-scorer")
    assert {"champion", "challenger"} <= set(model.aliases)
    versions = client.search_model_versions("name='house-price-scorer'")
    assert len(versions) >= 3
    assert "Production" in {v.current_stage for v in versions}
    champion = client.get_model_version_by_alias("house-price-scorer", "champion")
    assert champion.current_stage == "Production"
    for version in versions:  # logging the model kept the run's own end time
        run = client.get_run(version.run_id).info
        assert 0 < run.end_time - run.start_time < 3_600_000


def test_champion_model_loads_and_predicts_on_its_input_example(demo_db, client):
    import mlflow
    from mlflow.models import Model

    champion = client.get_model_version_by_alias("house-price-scorer", "champion")
    logged = client.get_logged_model(champion.source.removeprefix("models:/"))
    model_dir = Path(logged.artifact_location.removeprefix("file://"))
    assert model_dir.is_relative_to(demo_db.parent)
    meta = Model.load(str(model_dir / "MLmodel"))
    assert meta.signature.inputs.input_names() == ["sqft", "bedrooms", "age_years"]
    assert meta.signature.outputs.input_names() == ["price"]
    example = meta.load_input_example(str(model_dir))
    predictions = mlflow.pyfunc.load_model(str(model_dir)).predict(example)
    assert list(predictions.columns) == ["price"]
    assert len(predictions) == len(example)
    assert (predictions["price"] > 0).all()


def test_traces_have_spans_an_error_and_feedback(client):
    experiment = client.get_experiment_by_name("llm-agent")
    assert experiment.lifecycle_stage == "active"
    infos = client.search_traces(locations=[experiment.experiment_id], max_results=100)
    assert len(infos) >= 5
    traces = [client.get_trace(info.info.trace_id) for info in infos]
    span_types = {span.span_type for trace in traces for span in trace.data.spans}
    assert {"AGENT", "RETRIEVER", "TOOL", "CHAT_MODEL"} <= span_types
    error_spans = [
        span for trace in traces for span in trace.data.spans if span.status.status_code == "ERROR"
    ]
    assert len(error_spans) >= 1
    llm_span = next(
        span for trace in traces for span in trace.data.spans if span.span_type == "CHAT_MODEL"
    )
    assert llm_span.get_attribute("mlflow.chat.tokenUsage")["total_tokens"] > 0
    assert llm_span.inputs and llm_span.outputs
    feedback = [
        a for trace in traces for a in trace.info.assessments if a.name == "user_satisfaction"
    ]
    assert feedback and feedback[0].source.source_type == "HUMAN"


def test_interrupted_build_leaves_nothing_behind(tmp_path):
    from flowdeck.demo import build_demo_store

    def interrupt_after_first_experiment(message: str) -> None:
        if message.startswith("image-classifier"):
            raise KeyboardInterrupt

    target = tmp_path / "demo"
    env_before = dict(os.environ)
    with pytest.raises(KeyboardInterrupt):
        build_demo_store(target, progress=interrupt_after_first_experiment, steps=60)
    assert list(tmp_path.iterdir()) == []
    assert dict(os.environ) == env_before
