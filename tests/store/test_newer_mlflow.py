"""MLflow 3.18 (mlflow-skinny in its own venv) writes a store; Flowdeck reads it and, with 3.18, edits it."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from tests.helpers.side_venv import REPO_ROOT, RegistryUnreachable, mlflow_venv, run_in_venv

from flowdeck.store import open_store

NEWER_MLFLOW = "3.18.0"
HEAD_318 = "f4a9b2c7d1e6"
SCRIPTS = Path(__file__).resolve().parents[1] / "helpers" / "side_scripts"
REQUIRE_SERVICES = os.environ.get("FLOWDECK_REQUIRE_SERVICES", "") == "1"


def _project() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_dependency_range_admits_the_newest_mlflow_and_tests_pin_the_old() -> None:
    app = [Requirement(r) for r in _project()["dependencies"]]
    (skinny,) = [r for r in app if r.name == "mlflow-skinny"]
    assert skinny.specifier.contains("3.17.2") and skinny.specifier.contains(NEWER_MLFLOW)
    test = [Requirement(r) for r in _project()["optional-dependencies"]["test"]]
    (full,) = [r for r in test if r.name == "mlflow"]
    assert str(full.specifier) == "==3.17.2"


@pytest.fixture(scope="session")
def newer_python() -> Path:
    """The venv with mlflow-skinny 3.18.0 (built once, cached across sessions)."""
    try:
        return mlflow_venv(NEWER_MLFLOW)
    except RegistryUnreachable as error:
        if REQUIRE_SERVICES:
            pytest.fail(f"FLOWDECK_REQUIRE_SERVICES=1 but {error}")
        pytest.skip(f"mlflow-skinny {NEWER_MLFLOW} cannot be installed: {error}")


def _json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_a_318_store_is_read_here_and_written_with_318(newer_python: Path, tmp_path: Path) -> None:
    path = tmp_path / "mlflow.db"
    made = _json(run_in_venv(newer_python, SCRIPTS / "make_store.py", str(path), cwd=tmp_path))
    assert made["mlflow"] == NEWER_MLFLOW and made["revision"] == HEAD_318
    runs: dict[str, dict[str, str]] = made["runs"]

    # Here (MLflow 3.17.2): every read works, and the newer schema is read-only, untouched.
    before = _digest(path)
    store = open_store(path)
    assert store.read_only_reason == (
        f"Written by a newer MLflow (3.18, revision {HEAD_318}); "
        "Flowdeck can read it but not edit it."
    )
    frame = store.runs([made["experiment_id"]])
    assert set(frame["run_id"]) == set(runs)
    for _, row in frame.iterrows():
        assert row["params.lr"] == runs[row["run_id"]]["lr"]
        assert row["tags.mlflow.runName"] == runs[row["run_id"]]["name"]
    first = next(iter(runs))
    history = store.metric_history([first], ["loss"])[(first, "loss")]
    assert list(history["step"]) == [0, 1, 2]
    assert list(history["value"]) == pytest.approx([1.0, 0.5, 1 / 3])
    (version,) = store.model_versions("classifier")
    assert version.run_id == first and version.aliases == ("champion",)
    store.close()
    assert _digest(path) == before

    # With MLflow 3.18 installed, the same Flowdeck finds the store writable and edits it.
    wrote = _json(run_in_venv(newer_python, SCRIPTS / "flowdeck_write.py", str(path), first,
                              cwd=tmp_path))  # fmt: skip
    assert wrote["mlflow"] == NEWER_MLFLOW and wrote["head"] == HEAD_318
    assert wrote["read_only_reason"] is None
    assert (wrote["tag"], wrote["staging"]) == ("by-flowdeck", "1")
    assert wrote["experiments"] == ["Default", "made-by-new-mlflow"]

    # And this Flowdeck reads the edits back.
    store = open_store(path)
    frame = store.runs([made["experiment_id"]]).set_index("run_id")
    assert frame.loc[first, "tags.reviewed"] == "by-flowdeck"
    assert sorted(store.model_versions("classifier")[0].aliases) == ["champion", "staging"]
    store.close()
