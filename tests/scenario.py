"""One rich MLflow scenario written by real MLflow into any store, and what tests expect of it."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from tests.helpers import scenario_extras as extras
from tests.helpers.scenario_runs import (
    EXP_DOOMED,
    EXP_MAIN,
    EXP_SIDE,
    T0,
    Point,
    RunSpec,
    latest_point,
    run_plan,
    sorted_history,
)

EXPERIMENT_DESCRIPTION = "Main **experiment** of the Flowdeck scenario."
EXPERIMENT_TAGS = {
    "mlflow.note.content": EXPERIMENT_DESCRIPTION,
    "project": "flowdeck",
    "ünïcødé": "ja ✓",
}
RUN_SPACING_MS = 60_000
RUN_DURATION_MS = 30_000


class TinyModel(mlflow.pyfunc.PythonModel):
    """Doubles column ``x``: the smallest model a serving test can call.

    ``predict`` has no type hints on purpose: MLflow would turn them into a schema.
    """

    def predict(self, context, model_input, params=None):  # noqa: ANN001
        return model_input[["x"]] * 2.0


@dataclass(frozen=True)
class Scenario:
    """What was written, and what any reader of the store must find."""

    tracking_uri: str
    location: str  # what to pass to flowdeck.store.open_store
    experiment_ids: dict[str, str]
    experiment_tags: dict[str, str]  # of EXP_MAIN, description included
    deleted_experiments: frozenset[str]
    specs: dict[str, RunSpec]
    run_ids: dict[str, str]
    start_times: dict[str, int]
    artifact_uris: dict[str, str]
    latest_metrics: dict[str, dict[str, float]]
    histories: dict[tuple[str, str], tuple[Point, ...]]
    artifact_run: str = "with-artifacts"
    artifacts: dict[str, bytes] = field(default_factory=dict)
    dataset_run: str = "with-dataset"
    dataset_name: str = extras.DATASET_NAME
    dataset_context: str = extras.DATASET_CONTEXT
    logged_model_name: str = "model"
    logged_model_id: str | None = None
    model_name: str = extras.MODEL_NAME
    model_description: str = extras.MODEL_DESCRIPTION
    model_tags: dict[str, str] = field(default_factory=lambda: dict(extras.MODEL_TAGS))
    version_stages: dict[int, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    deleted_version: int | None = None
    trace_experiment: str = EXP_MAIN
    trace_ids: dict[str, str] = field(default_factory=dict)  # label ("ok", "failed") -> id
    trace_statuses: dict[str, str] = field(default_factory=dict)
    span_parents: dict[str, str | None] = field(
        default_factory=lambda: dict(extras.AGENT_SPAN_PARENTS)
    )
    error_span: str = extras.ERROR_SPAN
    assessments: dict[str, tuple[str, ...]] = field(default_factory=dict)
    token_usage: dict[str, int] = field(default_factory=lambda: dict(extras.TOKEN_USAGE))
    unsupported: dict[str, str] = field(default_factory=dict)  # part -> why it is missing

    # --- conveniences for tests -----------------------------------------------------------

    def run_id(self, name: str) -> str:
        return self.run_ids[name]

    def run_names(
        self, experiments: tuple[str, ...] = (EXP_MAIN, EXP_SIDE), view: str = "active"
    ) -> set[str]:
        """Names of runs in the experiments, by the run's own lifecycle."""
        names = set()
        for name, spec in self.specs.items():
            if spec.experiment not in experiments:
                continue
            if view == "all" or (view == "deleted") == spec.deleted:
                names.add(name)
        return names

    def skip_reason(self, part: str) -> str | None:
        return self.unsupported.get(part)


@contextlib.contextmanager
def _mlflow_pointed_at(tracking_uri: str) -> Iterator[None]:
    """Point MLflow's fluent API at the store for the duration, then restore everything."""
    saved_env = {name: os.environ.get(name) for name in _ENV}
    os.environ.update(_ENV)
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    try:
        yield
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        import mlflow.tracking.fluent as fluent

        fluent._active_experiment_id = None
        os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
        mlflow.set_tracking_uri(previous_uri)
        mlflow.set_registry_uri(previous_uri)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_ENV = {"MLFLOW_ALLOW_FILE_STORE": "true", "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "false"}


def write_scenario(tracking_uri: str, artifact_location: str | None = None) -> Scenario:
    """Write the whole scenario into the (empty) store at ``tracking_uri`` with real MLflow."""
    with _mlflow_pointed_at(tracking_uri):
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        experiment_ids = _create_experiments(client, artifact_location)
        specs = {spec.name: spec for spec in run_plan()}
        run_ids, start_times = _create_runs(client, experiment_ids, specs)
        unsupported: dict[str, str] = {}
        extras.log_dataset(run_ids["with-dataset"])
        artifacts = extras.log_artifacts(client, run_ids["with-artifacts"])
        parts = _write_optional_parts(client, experiment_ids, run_ids, unsupported)
        _finish_runs(client, specs, run_ids, start_times)
        for name, spec in specs.items():
            if spec.deleted:
                client.delete_run(run_ids[name])
        client.delete_experiment(experiment_ids[EXP_DOOMED])
        artifact_uris = {
            name: client.get_run(rid).info.artifact_uri for name, rid in run_ids.items()
        }
    latest = {
        name: {key: latest_point(points)[2] for key, points in spec.metrics.items()}
        for name, spec in specs.items()
    }
    histories = {
        (name, key): tuple(sorted_history(points))
        for name, spec in specs.items()
        for key, points in spec.metrics.items()
    }
    return Scenario(
        tracking_uri=tracking_uri,
        location=tracking_uri,
        experiment_ids=experiment_ids,
        experiment_tags=dict(EXPERIMENT_TAGS),
        deleted_experiments=frozenset({EXP_DOOMED}),
        specs=specs,
        run_ids=run_ids,
        start_times=start_times,
        artifact_uris=artifact_uris,
        latest_metrics=latest,
        histories=histories,
        artifacts=artifacts,
        unsupported=unsupported,
        **parts,
    )


def _create_experiments(client: MlflowClient, artifact_location: str | None) -> dict[str, str]:
    ids = {}
    for name in (EXP_MAIN, EXP_SIDE, EXP_DOOMED):
        location = f"{artifact_location.rstrip('/')}/{name}" if artifact_location else None
        tags = EXPERIMENT_TAGS if name == EXP_MAIN else {}
        ids[name] = client.create_experiment(name, artifact_location=location, tags=tags)
    return ids


def _create_runs(
    client: MlflowClient, experiment_ids: dict[str, str], specs: dict[str, RunSpec]
) -> tuple[dict[str, str], dict[str, int]]:
    run_ids: dict[str, str] = {}
    start_times: dict[str, int] = {}
    for index, spec in enumerate(specs.values()):
        start = T0 + index * RUN_SPACING_MS
        tags = dict(spec.tags)
        if spec.parent:
            tags["mlflow.parentRunId"] = run_ids[spec.parent]
        run = client.create_run(
            experiment_ids[spec.experiment], start_time=start, tags=tags, run_name=spec.name
        )
        run_ids[spec.name] = run.info.run_id
        start_times[spec.name] = start
        metrics = [
            Metric(key, value, timestamp, step)
            for key, points in spec.metrics.items()
            for step, timestamp, value in points
        ]
        params = [Param(key, value) for key, value in spec.params.items()]
        for offset in range(0, max(len(metrics), 1), 1000):
            client.log_batch(
                run.info.run_id,
                metrics=metrics[offset : offset + 1000],
                params=params if offset == 0 else [],
            )
    return run_ids, start_times


def _write_optional_parts(
    client: MlflowClient,
    experiment_ids: dict[str, str],
    run_ids: dict[str, str],
    unsupported: dict[str, str],
) -> dict[str, Any]:
    """Logged model, registry and traces; a part a store cannot hold is recorded, not fatal."""
    parts: dict[str, Any] = {}
    try:
        parts["logged_model_id"] = extras.log_pyfunc_model(run_ids["with-artifacts"], TinyModel())
    except Exception as error:  # noqa: BLE001 - recorded for the tests to skip on
        unsupported["logged_models"] = f"MLflow could not log a model here: {error!r}"
        unsupported["registry"] = "no logged model to register"
    if "logged_model_id" in parts:
        try:
            registry = extras.register_versions(
                client, parts["logged_model_id"], run_ids["with-artifacts"]
            )
            parts["version_stages"] = registry["stages"]
            parts["aliases"] = registry["aliases"]
            parts["deleted_version"] = registry["deleted_version"]
        except Exception as error:  # noqa: BLE001
            unsupported["registry"] = f"MLflow could not register models here: {error!r}"
    try:
        traces = extras.log_traces(experiment_ids[EXP_MAIN])
        parts["trace_ids"] = traces["trace_ids"]
        parts["trace_statuses"] = traces["statuses"]
        parts["assessments"] = traces["assessments"]
    except Exception as error:  # noqa: BLE001
        unsupported["traces"] = f"MLflow could not log traces here: {error!r}"
    return parts


def _finish_runs(
    client: MlflowClient,
    specs: dict[str, RunSpec],
    run_ids: dict[str, str],
    start_times: dict[str, int],
) -> None:
    for name, spec in specs.items():
        if spec.status == "RUNNING":
            continue
        client.set_terminated(
            run_ids[name], status=spec.status, end_time=start_times[name] + RUN_DURATION_MS
        )


def is_nan(value: float) -> bool:
    return isinstance(value, float) and math.isnan(value)
