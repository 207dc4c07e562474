"""A cached venv with another MLflow release and Flowdeck's Qt-free dependencies, for version tests."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# Override with FLOWDECK_TEST_VENVS; kept outside the checkout so CI reruns reuse it.
VENVS = Path(os.environ.get("FLOWDECK_TEST_VENVS", Path.home() / ".cache" / "flowdeck-test-venvs"))
QT_PACKAGES = ("pyside6", "pyqtgraph")
INSTALL_TIMEOUT_S = 900
COMPLETE = ".complete"


class RegistryUnreachable(RuntimeError):
    """The package registry did not answer, so the venv cannot be built here."""


def runtime_requirements(mlflow_skinny: str) -> list[str]:
    """Flowdeck's runtime dependencies without Qt, with ``mlflow-skinny`` pinned."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [f"mlflow-skinny=={mlflow_skinny}"]
    for requirement in project["project"]["dependencies"]:
        name = requirement.split(";")[0].strip().lower()
        if name.startswith(QT_PACKAGES) or name.startswith("mlflow-skinny"):
            continue
        wanted.append(requirement.split("#")[0].strip())
    return wanted


def mlflow_venv(mlflow_skinny: str) -> Path:
    """The Python of a venv holding ``mlflow-skinny==<version>`` and Flowdeck's Qt-free deps.

    Built once per version, requirement list and Python, under ``VENVS``; Flowdeck itself is
    not installed there (run it with ``PYTHONPATH=<checkout>/src``), so a cached venv never
    points at another checkout.
    """
    requirements = runtime_requirements(mlflow_skinny)
    key = hashlib.sha256("\n".join([sys.version, *requirements]).encode()).hexdigest()[:10]
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    folder = VENVS / f"mlflow-skinny-{mlflow_skinny}-{tag}-{key}"
    python = folder / "bin" / "python"
    VENVS.mkdir(parents=True, exist_ok=True)
    with open(VENVS / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be building the same venv
        if (folder / COMPLETE).is_file() and python.exists():
            return python
        shutil.rmtree(folder, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(folder)], "create the venv")
        _install(python, requirements)
        (folder / COMPLETE).write_text("\n".join(requirements) + "\n")
    return python


def _install(python: Path, requirements: list[str]) -> None:
    # Not --quiet: pip's "Retrying … connection broken" warnings tell an unreachable registry.
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    result = subprocess.run(
        [*command, *requirements],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        check=False,
    )
    if result.returncode == 0:
        return
    output = result.stdout + result.stderr
    lowered = output.lower()
    if any(sign in lowered for sign in UNREACHABLE_SIGNS):
        raise RegistryUnreachable(f"the package registry is unreachable: {_tail(output, 3)}")
    raise RuntimeError(f"pip could not install {requirements}:\n{_tail(output)}")


UNREACHABLE_SIGNS = (
    "connection broken",
    "failed to establish a new connection",
    "connection refused",
    "temporary failure in name resolution",
    "name or service not known",
    "network is unreachable",
    "max retries exceeded",
    "read timed out",
    "connecttimeout",
)


def _run(command: list[str], doing: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"Could not {doing}: {_tail(result.stdout + result.stderr)}")


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_in_venv(python: Path, script: Path, *args: str, cwd: Path) -> str:
    """Run ``script`` with the venv's Python and this checkout's Flowdeck; its stdout."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MLFLOW_", "PYTHON", "VIRTUAL_ENV"))
    }
    environment["PYTHONPATH"] = str(REPO_ROOT / "src")
    result = subprocess.run(
        [str(python), str(script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"{script.name} failed:\n{_tail(result.stdout + result.stderr, 40)}")
    return result.stdout
