"""Start-up path: the window is usable before pyqtgraph, MLflow or the page types are imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TIMEOUT_S = 120
# Imported on the warm-up thread once the window is usable, never on the way to it.
AFTER_START = (
    "pandas",
    "numpy",
    "pyqtgraph",
    "mlflow",
    "keyring",
    "flowdeck.ui.pages",
    "flowdeck.ui.charts",
    "flowdeck.ui.runs",
    "flowdeck.core.run_filter",
    "flowdeck.store.writer",
)
# What `import flowdeck.ui.app` must not bring in: run_app imports the window itself.
NOT_FOR_APP = ("pandas", "numpy", "sqlalchemy", "flowdeck.store.base", "flowdeck.ui.main_window")


def _run(script: str, tmp_path: Path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("MLFLOW_TRACKING_URI", None)
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _loaded(names: tuple[str, ...]) -> str:
    return f"sorted(n for n in {names!r} if n in sys.modules)"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two experiments, one run each, written by MLflow."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("startup-store")
    db_path = folder / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{db_path}")
    for name in ("vision", "speech"):
        experiment = client.create_experiment(name, artifact_location=str(folder / name))
        run = client.create_run(experiment, run_name=f"{name}-run")
        client.set_terminated(run.info.run_id)
    return db_path


def test_importing_the_app_module_loads_neither_the_window_nor_pandas(tmp_path):
    loaded = _run(
        f"import json, sys\nimport flowdeck.ui.app\nprint(json.dumps({_loaded(NOT_FOR_APP)}))",
        tmp_path,
    )
    assert loaded == []


def test_the_main_window_modules_leave_charts_pages_and_mlflow_for_later(tmp_path):
    script = f"""
import json, sys
from flowdeck.ui.app import application
from flowdeck.ui.main_window import MainWindow
app = application()
window = MainWindow()
window.show()
app.processEvents()
print(json.dumps({_loaded(AFTER_START)}))
"""
    assert _run(script, tmp_path) == []


@pytest.mark.parametrize("kind", ["sqlite", "mlruns"])
def test_the_window_is_usable_before_the_warm_up_and_complete_after_it(
    kind, store_path, tmp_path, request
):
    """Opening a store (SQLite or an mlruns/ folder) lists its experiments with none of
    AFTER_START imported (pandas included); the warm-up then imports them on its thread, and
    an experiment page opens from the sidebar."""
    if kind == "sqlite":
        location, expected, first = str(store_path), ["Default", "speech", "vision"], "vision"
    else:
        scenario = request.getfixturevalue("file_store_scenario")
        location = scenario.location
        expected = sorted({"Default", *scenario.experiment_ids}, key=str.casefold)
        first = next(n for n in expected if n not in scenario.deleted_experiments)
    script = f"""
import json, sys
from PySide6.QtCore import QTimer
from flowdeck.ui import startup
from flowdeck.ui.app import application
from flowdeck.ui.main_window import MainWindow
app = application()
window = MainWindow()
window.persist_state = False
report = {{}}
warm_up = startup.Warmup._run

def run_warm_up(self):  # on the warm-up thread, as it starts: Qt types not yet created there
    modules = [sys.modules.get(name) for name in startup.QT_MODULES]
    report["qt_types_left_to_the_thread"] = sorted(
        f"{{module.__name__}}.{{name}}" if module else "a Qt module not imported"
        for module in modules
        for name in (dir(module) if module else [""])
        if module is None or name not in vars(module)
    )
    warm_up(self)

startup.Warmup._run = run_warm_up

def usable():
    store = window.stores()[0]
    report["listed"] = sorted(e.name for e in window.sidebar.model.experiments_of(store))
    report["loaded_when_usable"] = {_loaded(AFTER_START)}
    report["usable_s"] = window.startup.usable_s is not None
    window.select_experiment_named(store, {first!r})  # waits for the page types
    report["page_at_once"] = window.host.current_page() is not None
    window.startup.warmup.when_ready(done, parser=True)

def done():
    page = window.host.current_page()
    report["page_after"] = None if page is None else str(page.address)
    report["loaded_after"] = {_loaded(AFTER_START)}
    report["qt_modules"] = sorted(m for m in sys.modules if m.startswith("PySide6.Qt"))
    app.quit()

window.startup.usable.connect(usable)
QTimer.singleShot({TIMEOUT_S - 20} * 1000, app.quit)
window.show()
window.open_location({location!r})
app.exec()
print(json.dumps(report))
"""
    report = _run(script, tmp_path)
    assert report["listed"] == expected
    assert report["loaded_when_usable"] == []
    assert report["usable_s"] is True
    assert report["page_at_once"] is False
    assert report["page_after"] is not None and report["page_after"].startswith("experiment/")
    warmed = {"pyqtgraph", "mlflow", "flowdeck.ui.pages", "flowdeck.ui.charts", "flowdeck.ui.runs"}
    assert warmed | {"flowdeck.core.run_filter"} <= set(report["loaded_after"])
    # PySide6 creating one type on two threads at once crashed the app now and then: the Qt
    # types the pages use are all created on the GUI thread before the warm-up thread starts.
    from flowdeck.ui.startup import QT_MODULES

    assert report["qt_types_left_to_the_thread"] == []
    assert set(report["qt_modules"]) <= set(QT_MODULES)
