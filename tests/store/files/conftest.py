"""Fixtures for FileStore tests: one MLflow-written mlruns/ folder per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from tests.store.files.filestore_data import FileStoreData, write_file_store


@pytest.fixture(scope="session")
def written(tmp_path_factory: pytest.TempPathFactory) -> FileStoreData:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    return write_file_store(tmp_path_factory.mktemp("filestore") / "mlruns")


@pytest.fixture
def copied(written: FileStoreData, tmp_path: Path) -> FileStoreData:
    """A private copy of the written store that a test may damage or extend."""
    target = tmp_path / "mlruns"
    shutil.copytree(written.root, target, symlinks=True)
    data = FileStoreData(**{**written.__dict__, "root": target})
    return data


def mlflow_search(root: Path, experiment_ids, **kwargs):
    """mlflow.search_runs on a folder (MLflow's own file store)."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import mlflow

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(root.as_uri())
    try:
        return mlflow.search_runs(experiment_ids=list(experiment_ids), **kwargs)
    finally:
        mlflow.set_tracking_uri(previous)


def assert_same_runs(ours, theirs) -> None:
    """Equal frames; columns first seen in the same run may come in any order.

    (mlflow.search_runs adds a run's new keys in set-iteration order, which changes with
    PYTHONHASHSEED, so only the column set and the values are MLflow's contract.)
    """
    import pandas as pd

    assert sorted(ours.columns) == sorted(theirs.columns)
    pd.testing.assert_frame_equal(ours, theirs[list(ours.columns)])
