"""Stores MLflow users committed publicly, mirrored: MLflow reads the copy as Flowdeck reads them."""

from __future__ import annotations

import hashlib
import math
import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import ViewType
from tests.helpers.realworld import REALWORLD

from flowdeck.store import open_store
from flowdeck.store.mirror import MirrorOptions, sync_mirror

STORES = {
    "dspy-2026-sqlite": "mlflow.db",
    "housing-2025-sqlite": "mlflow.db",
    "genre-2021-files": "mlruns",
    "usedcar-2025-files": "mlruns",
}
DBL_MAX = 1.7976931348623157e308


def _digest(path: Path) -> str:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(path.parent)).encode() + file.read_bytes())
    return digest.hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(STORES))
def test_a_real_world_store_mirrors_as_it_reads(name: str, tmp_path: Path) -> None:
    original = REALWORLD / name / STORES[name]
    if not original.exists():
        pytest.skip("the real-world stores are not beside the project")
    before = _digest(original)
    source = open_store(str(original))
    destination = tmp_path / "mirror.db"
    try:
        report = sync_mirror(source, destination, MirrorOptions())
        ids = sorted(source.experiments(view="all")["experiment_id"], key=int)
        expected = source.runs(ids, view="all")
        models = source.registered_models().items if "registry" in source.capabilities else []
    finally:
        source.close()
    assert _digest(original) == before  # the source is never written

    mirror = f"sqlite:///{destination}"
    mlflow.set_tracking_uri(mirror)
    try:
        found = mlflow.search_runs(ids, run_view_type=ViewType.ALL, max_results=100_000)
    finally:
        mlflow.set_tracking_uri(None)
    assert report.runs_seen == len(expected) == len(found)
    assert _normal(found, expected.columns).equals(_normal(expected, expected.columns))
    client = MlflowClient(mirror)
    assert {model.name for model in client.search_registered_models()} == {
        model.name for model in models if not model.is_prompt
    }
    copy = open_store(str(destination))
    try:
        held = copy.registered_models().items if models else []
        assert [(m.name, m.is_prompt) for m in held] == [(m.name, m.is_prompt) for m in models]
    finally:
        copy.close()
    shutil.rmtree(tmp_path, ignore_errors=True)


def _normal(frame: pd.DataFrame, columns) -> pd.DataFrame:  # noqa: ANN001
    """Rows by run id, the source's columns, values as text (+-inf as SQL keeps them)."""
    frame = frame.reindex(columns=[c for c in columns if c != "artifact_uri"])
    frame = frame.sort_values("run_id").reset_index(drop=True)
    for column in frame.columns:
        frame[column] = frame[column].map(_text)
    return frame


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and math.isinf(value):
        return repr(math.copysign(DBL_MAX, value))
    if isinstance(value, pd.Timestamp):
        return str(int(value.value // 1_000_000))
    return str(value)
