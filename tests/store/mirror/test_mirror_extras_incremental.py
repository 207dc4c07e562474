"""A second sync copies only what changed in the registry, traces and logged models."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from flowdeck.store import open_store
from flowdeck.store.mirror import MirrorOptions, MirrorReport, sync_mirror
from flowdeck.store.mirror.registry_copy import GONE_TAG

MODEL = "incremental-model"
GONE_MODEL = "short-lived-model"


@dataclass
class Source:
    """A throw-away SQLite store written by MLflow in the test, and its mirror's path."""

    uri: str
    client: MlflowClient
    experiment_id: str
    mirror: Path
    logged_model_id: str = ""

    def sync(self) -> MirrorReport:
        store = open_store(self.uri)
        try:
            return sync_mirror(store, self.mirror, MirrorOptions())
        finally:
            store.close()

    def mirror_client(self) -> MlflowClient:
        uri = f"sqlite:///{self.mirror}"
        return MlflowClient(tracking_uri=uri, registry_uri=uri)

    def log_trace(self, question: str) -> str:
        mlflow.set_tracking_uri(self.uri)
        mlflow.set_experiment(experiment_id=self.experiment_id)
        with mlflow.start_span("answer", span_type="CHAIN") as span:
            span.set_inputs({"question": question})
            with mlflow.start_span("lookup") as child:
                child.set_attribute("k", 3)
            span.set_outputs("42")
        return str(mlflow.get_last_active_trace_id())


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Source:
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")
    uri = f"sqlite:///{tmp_path / 'source.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("incremental", str(tmp_path / "artifacts"))
    run = client.create_run(experiment_id, run_name="trainer")
    client.create_registered_model(MODEL, tags={"team": "a"}, description="first")
    for _ in range(2):
        client.create_model_version(MODEL, source="/models/m", run_id=run.info.run_id)
    client.set_registered_model_alias(MODEL, "champion", "1")
    client.create_registered_model(GONE_MODEL)
    model = client.create_logged_model(experiment_id, name="first", params={"lr": "0.1"})
    found = Source(uri, client, experiment_id, tmp_path / "mirror.db", model.model_id)
    found.log_trace("first?")
    return found


def table_checksums(path: Path) -> dict[str, tuple[int, str]]:
    """(row count, digest of all rows) of each MLflow table of the mirror (not Flowdeck's)."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        names = [
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith(("flowdeck_", "sqlite_"))
        ]
        found = {}
        for name in names:
            rows = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{name}"'))
            digest = hashlib.sha1("\n".join(rows).encode(), usedforsecurity=False).hexdigest()
            found[name] = (len(rows), digest)
        return found
    finally:
        conn.close()


def test_a_sync_with_nothing_new_changes_no_row(source: Source) -> None:
    first = source.sync()
    assert first.extras == {"models": 2, "traces": 1, "logged models": 1}
    before = table_checksums(source.mirror)
    assert before["trace_info"][0] == 1 and before["model_versions"][0] == 2
    again = source.sync()
    assert again.extras == {"models": 0, "traces": 0, "logged models": 0}
    assert table_checksums(source.mirror) == before


def test_changes_at_the_source_appear_after_the_next_sync(source: Source) -> None:
    source.sync()
    client = source.client
    client.create_model_version(MODEL, source="/models/m3", tags={"new": "yes"})
    client.set_registered_model_alias(MODEL, "champion", "3")
    client.delete_model_version(MODEL, "2")
    client.delete_registered_model(GONE_MODEL)
    new_trace = source.log_trace("second?")
    client.log_model_params(source.logged_model_id, {"epochs": "3"})

    report = source.sync()
    assert report.extras == {"models": 1, "traces": 1, "logged models": 1}
    mirror = source.mirror_client()
    model = mirror.get_registered_model(MODEL)
    assert model.aliases == {"champion": 3}
    version = mirror.get_model_version(MODEL, "3")
    assert (version.source, version.tags, version.aliases) == (
        "/models/m3",
        {"new": "yes"},
        ["champion"],
    )
    kept = mirror.get_model_version(MODEL, "2")  # deleted at the source: kept, marked gone
    assert int(kept.tags[GONE_TAG]) > 0
    assert int(mirror.get_registered_model(GONE_MODEL).tags[GONE_TAG]) > 0
    traces = mirror.search_traces(locations=[source.experiment_id])
    assert new_trace in {trace.info.trace_id for trace in traces}
    spans = mirror.get_trace(new_trace).data.spans
    assert sorted(span.name for span in spans) == ["answer", "lookup"]
    assert next(s for s in spans if s.name == "lookup").attributes["k"] == 3
    logged = mirror.get_logged_model(source.logged_model_id)
    assert logged.params == {"lr": "0.1", "epochs": "3"}


def test_a_logged_model_deleted_at_the_source_is_kept_as_deleted(source: Source) -> None:
    source.sync()
    model_id = source.logged_model_id
    source.client.delete_logged_model(model_id)
    report = source.sync()
    assert report.extras["logged models"] == 0
    conn = sqlite3.connect(source.mirror)
    try:
        stage = conn.execute(
            "SELECT lifecycle_stage FROM logged_models WHERE model_id = ?", (model_id,)
        ).fetchone()
    finally:
        conn.close()
    assert stage == ("deleted",)
    assert source.mirror_client().search_logged_models([source.experiment_id]) == []
