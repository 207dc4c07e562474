"""Which Python runs a model server: Flowdeck's own, or from the standalone bundle one found here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flowdeck.serving.errors import ServingError

# Tried in each folder of PATH, in this order (the first that has MLflow wins).
PYTHON_NAMES = ("python3", "python", "python3.13", "python3.12", "python3.11", "python3.10")
PROBE_TIMEOUT_S = 15.0
HAS_MLFLOW = "import importlib.util, sys; sys.exit(importlib.util.find_spec('mlflow') is None)"
NO_PYTHON_WITH_MLFLOW = (
    "This Flowdeck is a standalone bundle: it carries no Python of its own to run models in, "
    "and no Python with MLflow was found on this machine's PATH. Choose the Python interpreter "
    "of an environment with MLflow and the model's libraries, for example the one the model "
    "was trained in (in the Serve dialog: Another Python interpreter…; with flowdeck serve: "
    "--env /path/to/python), or install MLflow for python3."
)


def running_from_bundle() -> bool:
    """True inside the PyInstaller bundle (whose executable is Flowdeck, not a Python)."""
    return bool(getattr(sys, "frozen", False))


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a program Flowdeck starts: from the bundle, the library path the
    user had (the bundle's own libraries would otherwise shadow the system's in the child)."""
    env = dict(os.environ)
    if running_from_bundle():
        original = env.pop("LD_LIBRARY_PATH_ORIG", None)
        if original:
            env["LD_LIBRARY_PATH"] = original
        else:
            env.pop("LD_LIBRARY_PATH", None)
    env.update(extra or {})
    return env


def has_mlflow(python: Path) -> bool:
    """Whether ``python`` runs and can import MLflow (it is not imported, only looked up)."""
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [str(python), "-c", HAS_MLFLOW],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=child_environment(),
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def python_candidates(search_path: str | None = None) -> list[Path]:
    """Executable Pythons on ``search_path`` (PATH by default), the active virtualenv's first;
    each interpreter once."""
    folders: list[str] = []
    active = os.environ.get("VIRTUAL_ENV") or os.environ.get("CONDA_PREFIX")
    if active and search_path is None:
        folders.append(str(Path(active) / "bin"))
    folders += (search_path if search_path is not None else os.environ.get("PATH", "")).split(
        os.pathsep
    )
    found: list[Path] = []
    seen: set[tuple[Path, Path]] = set()
    for folder in filter(None, folders):
        for name in PYTHON_NAMES:
            candidate = Path(folder) / name
            if not (candidate.is_file() and os.access(candidate, os.X_OK)):
                continue
            # A virtualenv's python links to the base one but is another environment: the
            # folder it is found in tells them apart.
            key = (candidate.parent.resolve(), candidate.resolve())
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


def find_python_with_mlflow(search_path: str | None = None) -> Path | None:
    """The first Python on ``search_path`` (PATH by default) that can import MLflow."""
    return next((p for p in python_candidates(search_path) if has_mlflow(p)), None)


def serving_python() -> str:
    """The Python that runs ``mlflow models serve``: Flowdeck's own, or from the bundle the
    first one found with MLflow (raises ``ServingError`` in plain words when there is none)."""
    if not running_from_bundle():
        return sys.executable
    python = find_python_with_mlflow()
    if python is None:
        raise ServingError(NO_PYTHON_WITH_MLFLOW)
    return str(python)
