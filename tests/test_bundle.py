"""The PyInstaller bundle (``make bundle``): it builds, and starts in a clean environment.

The bundle is built once per content of ``src/`` (resources too), ``packaging/``, the user guide
and ``pyproject.toml``: it is cached under ``build/bundle-cache/<hash>/`` so a rerun with the same
sources skips the build (a couple of minutes). Each smoke check runs ``flowdeck LOCATION
--screenshot out.png`` with no venv, no ``PYTHONPATH`` and a minimal ``PATH``.
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.scenario import Scenario

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "flowdeck.spec"
CACHE = ROOT / "build" / "bundle-cache"
HASHED = [
    ROOT / "src",
    ROOT / "packaging",
    ROOT / "docs" / "guide.md",
    ROOT / "docs" / "guide",
    ROOT / "pyproject.toml",
]
BUILD_TIMEOUT = 1500  # seconds: about 2 minutes on an idle 2-core machine
RUN_TIMEOUT = 300


def sources_hash() -> str:
    """A digest of every file the bundle is built from (caches and bytecode left out)."""
    digest = hashlib.sha256()
    for top in HASHED:
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]


@pytest.fixture(scope="module")
def bundle() -> Path:
    """``flowdeck`` in a one-folder bundle built from the current sources (cached)."""
    key = sources_hash()
    dist = CACHE / key
    executable = dist / "flowdeck" / "flowdeck"
    if executable.is_file() and (dist / "complete").is_file():
        return executable
    if CACHE.is_dir():  # bundles of older sources are ~450 MB each: keep only the current one
        for old in CACHE.iterdir():
            shutil.rmtree(old, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        str(SPEC),
        "--noconfirm",
        "--distpath",
        str(dist),
        "--workpath",
        str(ROOT / "build" / "pyinstaller-test"),
    ]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
    )
    assert result.returncode == 0, f"PyInstaller failed:\n{result.stderr[-6000:]}"
    assert executable.is_file()
    (dist / "complete").write_text(key)
    return executable


def run_bundle(executable: Path, home: Path, *arguments: str) -> subprocess.CompletedProcess:
    """Run the bundle as a user would: a clean environment, no venv, no PYTHONPATH."""
    env = {"HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [str(executable), *arguments],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def assert_screenshot(executable: Path, tmp_path: Path, *arguments: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    picture = tmp_path / "out.png"
    result = run_bundle(executable, home, *arguments, "--screenshot", str(picture))
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.stderr[-4000:]}"
    assert picture.is_file() and picture.stat().st_size > 0
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "load " in result.stderr  # --screenshot prints the load time once the page loaded


@pytest.mark.timeout(BUILD_TIMEOUT + RUN_TIMEOUT)
def test_bundle_opens_a_sqlite_store(bundle: Path, sqlite_scenario: Scenario, tmp_path: Path):
    database = sqlite_scenario.tracking_uri.removeprefix("sqlite:///")
    assert Path(database).is_file()
    assert_screenshot(bundle, tmp_path, database)


@pytest.mark.timeout(BUILD_TIMEOUT + RUN_TIMEOUT)
def test_bundle_opens_an_mlruns_folder(bundle: Path, file_store_scenario: Scenario, tmp_path: Path):
    assert_screenshot(bundle, tmp_path, file_store_scenario.location)


@pytest.mark.timeout(BUILD_TIMEOUT + RUN_TIMEOUT)
def test_bundle_builds_and_opens_the_demo_store(bundle: Path, tmp_path: Path):
    assert_screenshot(bundle, tmp_path, "--demo")
    assert (tmp_path / "home" / ".local" / "share" / "flowdeck" / "demo" / "mlflow.db").is_file()


@pytest.mark.timeout(BUILD_TIMEOUT + RUN_TIMEOUT)
def test_bundle_prints_its_version(bundle: Path, tmp_path: Path):
    from flowdeck import __version__

    result = run_bundle(bundle, tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout + result.stderr


@pytest.mark.timeout(BUILD_TIMEOUT + RUN_TIMEOUT)
def test_bundle_is_reasonably_small(bundle: Path):
    size = sum(
        p.stat().st_size for p in bundle.parent.rglob("*") if p.is_file() and not p.is_symlink()
    )
    assert size < 600 * 2**20, f"the bundle grew to {size / 2**20:.0f} MiB"
    internal = bundle.parent / "_internal"
    for unwanted in ("tkinter", "PySide6/QtWebEngineCore.abi3.so", "mlflow/server/js", "pytest"):
        assert not (internal / unwanted).exists(), unwanted


@pytest.mark.timeout(BUILD_TIMEOUT + 2 * RUN_TIMEOUT)
def test_bundle_serves_a_model_with_a_python_found_on_path(bundle: Path, tmp_path: Path):
    """The bundle has no Python for models: ``flowdeck serve`` runs MLflow's scoring server in
    the first Python on PATH with MLflow, and says so plainly when there is none."""
    import requests
    from tests.serving.served_models import FEATURES, log_classifier

    from flowdeck.serving import free_port

    classifier = log_classifier(tmp_path / "store")
    home = tmp_path / "home"
    home.mkdir()
    arguments = [str(bundle), "serve", str(classifier.db_path), "models:/clf@champion"]
    port = free_port()
    with_python = {"HOME": str(home), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    server = subprocess.Popen(
        [*arguments, "--port", str(port)],
        env=with_python,
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in server.stdout:  # "Serving ... at URL" once /ping answers
            lines.append(line)
            if "Serving" in line:
                break
        assert lines and "Serving" in lines[-1], "".join(lines)
        split = {"dataframe_split": FEATURES.iloc[:4].to_dict(orient="split")}
        answer = requests.post(f"http://127.0.0.1:{port}/invocations", json=split, timeout=60)
        assert answer.status_code == 200 and len(answer.json()["predictions"]) == 4
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    no_python_env = {"HOME": str(home), "PATH": str(tmp_path)}  # no Python at all on it
    no_python = subprocess.run(
        arguments, env=no_python_env, cwd=home, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    assert no_python.returncode == 2, no_python.stderr[-3000:]
    assert "standalone bundle" in no_python.stderr and "no Python with MLflow" in no_python.stderr
