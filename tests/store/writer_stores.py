"""Small stores written by real MLflow for the writer and schema-guard tests (built once)."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flowdeck.store import schema_guard


@dataclass(frozen=True)
class Template:
    """A store on disk plus the ids MLflow gave its content."""

    path: Path  # the .db file or the mlruns folder
    experiment_id: str
    run_ids: tuple[str, ...]
    trace_id: str
    model_id: str


def _fill(uri: str) -> tuple[str, tuple[str, ...], str, str]:
    import mlflow
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("base", tags={"team": "vision"})
    run_ids = []
    for index in range(3):
        run = client.create_run(experiment_id, run_name=f"run-{index}")
        client.log_param(run.info.run_id, "lr", str(0.1 * (index + 1)))
        client.log_metric(run.info.run_id, "loss", 1.0 / (index + 1), step=index)
        client.set_terminated(run.info.run_id)
        run_ids.append(run.info.run_id)
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)  # the trace exporter writes to the global tracking URI
    try:
        root = client.start_trace("agent", experiment_id=experiment_id, inputs={"q": 1})
        client.end_trace(root.trace_id, outputs={"a": 2})
        mlflow.flush_trace_async_logging()
        client.get_trace(root.trace_id)  # fails loudly if the trace did not land in this store
    finally:
        mlflow.set_tracking_uri(previous_uri)
    model = client.create_logged_model(experiment_id, name="clf", source_run_id=run_ids[0])
    return experiment_id, tuple(run_ids), root.trace_id, model.model_id


@functools.cache
def sqlite_template() -> Template:
    """A SQLite store at the installed head, written once per test process (MLflow: ~15 s)."""
    folder = Path(tempfile.mkdtemp(prefix="flowdeck-writer-sql-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "mlflow.db"
    cwd = os.getcwd()
    os.chdir(folder)  # MLflow puts the Default experiment's artifacts under ./mlruns
    try:
        experiment_id, run_ids, trace_id, model_id = _fill(f"sqlite:///{path}")
    finally:
        os.chdir(cwd)
    return Template(path, experiment_id, run_ids, trace_id, model_id)


@functools.cache
def files_template() -> Template:
    """An mlruns folder written by MLflow's FileStore, once per test process."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    folder = Path(tempfile.mkdtemp(prefix="flowdeck-writer-files-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "mlruns"
    experiment_id, run_ids, trace_id, model_id = _fill(str(path))
    return Template(path, experiment_id, run_ids, trace_id, model_id)


def copy_template(template: Template, destination: Path) -> Path:
    """A private copy of the template's store under ``destination``."""
    target = destination / template.path.name
    if template.path.is_dir():
        shutil.copytree(template.path, target)
    else:
        shutil.copy2(template.path, target)
    return target


class FolderStore:
    """Stand-in for flowdeck.store.files.FileStore until it lands: identity and guard only."""

    kind = "files"

    def __init__(self, path: Path) -> None:
        self.location = str(path)

    @property
    def tracking_uri(self) -> str:
        return self.location

    @property
    def read_only_reason(self) -> str | None:
        return schema_guard.file_read_only_reason(self)


def open_file_store(path: Path) -> object:
    """Flowdeck's file store when it exists, else the stand-in above."""
    try:
        from flowdeck.store.files import FileStore
    except ImportError:
        return FolderStore(path)
    return FileStore(str(path))
