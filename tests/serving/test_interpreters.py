"""Which Python serves a model: Flowdeck's own, or from the bundle the first on PATH with MLflow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowdeck.serving import ServingError
from flowdeck.serving.interpreters import (
    child_environment,
    find_python_with_mlflow,
    python_candidates,
    serving_python,
)
from flowdeck.serving.options import LaunchOptions, serve_argv

TEST_PYTHON_BIN = Path(sys.executable).parent  # this venv: it has MLflow


@pytest.fixture(scope="module")
def python_without_mlflow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a real, empty virtualenv (no MLflow in it)."""
    folder = tmp_path_factory.mktemp("bare-venv")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    return folder / "bin"


def test_the_first_python_on_path_that_has_mlflow_is_chosen(python_without_mlflow):
    search = os.pathsep.join([str(python_without_mlflow), str(TEST_PYTHON_BIN)])
    candidates = python_candidates(search)
    assert [c.parent for c in candidates[:1]] == [python_without_mlflow]
    assert TEST_PYTHON_BIN in {c.parent for c in candidates}  # same base Python, other venv
    found = find_python_with_mlflow(search)
    assert found is not None and found.parent == TEST_PYTHON_BIN


def test_no_python_with_mlflow_gives_none(python_without_mlflow, tmp_path):
    assert find_python_with_mlflow(str(python_without_mlflow)) is None
    assert find_python_with_mlflow(str(tmp_path)) is None  # no Python at all


def test_a_python_install_serves_with_its_own_interpreter():
    argv = serve_argv(Path("/models/m"), LaunchOptions(), 5001, "127.0.0.1")
    assert argv[:3] == [sys.executable, "-m", "mlflow"]


def test_the_bundle_serves_with_a_python_found_on_path(monkeypatch, python_without_mlflow):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    monkeypatch.setenv("PATH", os.pathsep.join([str(python_without_mlflow), str(TEST_PYTHON_BIN)]))
    argv = serve_argv(Path("/models/m"), LaunchOptions(), 5001, "127.0.0.1")
    assert Path(argv[0]).parent == TEST_PYTHON_BIN
    assert LaunchOptions().env_label == "a Python with MLflow on PATH"

    monkeypatch.setenv("PATH", str(python_without_mlflow))
    with pytest.raises(ServingError, match="standalone bundle.*no Python with MLflow"):
        serving_python()


def test_programs_started_from_the_bundle_get_the_users_library_path(monkeypatch):
    monkeypatch.setenv("LD_LIBRARY_PATH", "/bundle/_internal")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/opt/cuda/lib64")
    assert child_environment()["LD_LIBRARY_PATH"] == "/bundle/_internal"  # not a bundle
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    env = child_environment({"PYTHONUNBUFFERED": "1"})
    assert env["LD_LIBRARY_PATH"] == "/opt/cuda/lib64"
    assert "LD_LIBRARY_PATH_ORIG" not in env and env["PYTHONUNBUFFERED"] == "1"
    monkeypatch.delenv("LD_LIBRARY_PATH_ORIG")
    assert "LD_LIBRARY_PATH" not in child_environment()
