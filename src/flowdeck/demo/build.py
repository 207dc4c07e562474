"""Build the demo store into a temporary folder with MLflow's client, then move it into place."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flowdeck import paths
from flowdeck.demo.relocate import relocate_files, relocate_paths

Progress = Callable[[str], None]

EXPERIMENTS = {
    "image-classifier": "CIFAR-10 classifiers: learning-rate sweeps and baselines.",
    "tabular-regression": "House prices: gradient boosting sweep and a registered scorer.",
    "llm-agent": "A retrieval support agent: evaluation runs and traces.",
    "scratch": "Throw-away experiments (deleted).",
}


def stderr_progress(message: str) -> None:
    """Progress printer used by the command line."""
    print(f"flowdeck: {message}", file=sys.stderr, flush=True)


def ensure_demo_store(progress: Progress = stderr_progress) -> Path:
    """The demo store's SQLite file, building it first when it does not exist yet."""
    db_path = paths.demo_store_path()
    if db_path.is_file():
        return db_path
    return build_demo_store(paths.demo_dir(), progress) / "mlflow.db"


def build_demo_store(target: Path, progress: Progress = stderr_progress, steps: int = 1200) -> Path:
    """Write the demo store (``mlflow.db`` + ``artifacts/``) to ``target`` and return it.

    Everything is written into a sibling temporary folder first and renamed into place at the
    end, so an interrupted build never leaves a half-written store behind.
    """
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".demo-build-", dir=target.parent))
    started = time.monotonic()
    quiet = _quiet_mlflow()
    try:
        progress(f"building the demo store in {target} (this takes a moment)...")
        with quiet, _isolated_mlflow(scratch) as tracking_uri:
            _write_everything(tracking_uri, progress, steps)
        relocate_paths(scratch / "mlflow.db", scratch, target)
        relocate_files(scratch / "artifacts", scratch, target)
        if target.exists():
            if (target / "mlflow.db").is_file():  # another process finished first
                shutil.rmtree(scratch, ignore_errors=True)
                return target
            shutil.rmtree(target)
        os.replace(scratch, target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    progress(f"demo store ready ({time.monotonic() - started:.0f} s)")
    return target


def _write_everything(tracking_uri: str, progress: Progress, steps: int) -> None:
    from mlflow import MlflowClient

    from flowdeck.demo import models, runs, traces

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    experiment_ids = {"Default": "0"}
    for name, description in EXPERIMENTS.items():
        experiment_ids[name] = client.create_experiment(
            name, tags={"mlflow.note.content": description, "project": "flowdeck-demo"}
        )
    start_ms = int(time.time() * 1000) - 30 * runs.DAY_MS

    writer = runs.RunWriter(client, experiment_ids["image-classifier"], start_ms, seed=1)
    runs.image_classifier(writer, steps)
    progress(f"image-classifier: {len(writer.run_ids)} runs written")
    writer = runs.RunWriter(client, experiment_ids["tabular-regression"], start_ms, seed=2)
    model_runs = runs.tabular_regression(writer, max(steps // 6, 50))
    progress(f"tabular-regression: {len(writer.run_ids)} runs written")
    writer = runs.RunWriter(client, experiment_ids["llm-agent"], start_ms, seed=3)
    linked_run = runs.llm_agent(writer)
    progress(f"llm-agent: {len(writer.run_ids)} runs written")
    runs.default_and_scratch(client, experiment_ids, start_ms, progress)

    models.register_models(client, model_runs)
    progress(f"model '{models.MODEL_NAME}' registered with {len(model_runs)} versions")
    trace_ids = traces.write_traces(experiment_ids["llm-agent"], linked_run)
    progress(f"llm-agent: {len(trace_ids)} traces written")
    _dispose_engines(client)


@contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """Silence MLflow's INFO chatter and deprecation warnings; our progress lines suffice."""
    import logging
    import warnings

    saved_disable = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            # The scorer's predict() is deliberately untyped: its signature is given explicitly.
            warnings.filterwarnings("ignore", ".*Add type hints", UserWarning)
            yield
    finally:
        logging.disable(saved_disable)


@contextmanager
def _isolated_mlflow(folder: Path) -> Iterator[str]:
    """Point MLflow at ``folder`` for the build; restore env vars and global state after."""
    import mlflow
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved_env = dict(os.environ)
    saved_tracking_uri = tracking_utils._tracking_uri
    tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
    os.environ["_MLFLOW_SERVER_ARTIFACT_ROOT"] = str(folder / "artifacts")
    os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
    os.environ.pop("MLFLOW_EXPERIMENT_NAME", None)
    os.environ.pop("MLFLOW_RUN_ID", None)
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def fast_pragmas(connection, _record) -> None:  # noqa: ANN001 - DBAPI connection
        # The build is thrown away if interrupted, so durability per commit is not needed.
        if isinstance(connection, sqlite3.Connection):
            connection.execute("PRAGMA synchronous = OFF")
            connection.execute("PRAGMA journal_mode = MEMORY")

    event.listen(Engine, "connect", fast_pragmas)
    try:
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
        yield tracking_uri
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(saved_tracking_uri)
        mlflow.set_registry_uri(None)
        mlflow.tracking.fluent._active_experiment_id = None
        mlflow.tracing.reset()
        event.remove(Engine, "connect", fast_pragmas)
        os.environ.clear()
        os.environ.update(saved_env)


def _dispose_engines(client: object) -> None:
    """Close MLflow's cached SQLAlchemy engines so the folder can be renamed (Windows)."""
    for attr in ("_tracking_client", "_get_registry_client"):
        holder = getattr(client, attr, None)
        holder = holder() if callable(holder) else holder
        engine = getattr(getattr(holder, "store", None), "engine", None)
        if engine is not None:
            engine.dispose()
