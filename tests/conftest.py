"""Project-wide fixtures: isolated user folders, and one rich MLflow scenario per backend."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # lets every test import ``tests.scenario`` / ``tests.helpers``
    sys.path.insert(0, str(REPO_ROOT))

from tests.helpers import databases  # noqa: E402
from tests.helpers.servers import ServerProcess, start_mlflow_server  # noqa: E402
from tests.scenario import Scenario, write_scenario  # noqa: E402

# Set to 1 (e.g. in CI) to turn "database server unreachable" skips into failures.
REQUIRE_SERVICES = os.environ.get("FLOWDECK_REQUIRE_SERVICES", "") == "1"

# backend param -> (module, class) that ``open_store`` dispatches to
BACKEND_CLASSES = {
    "files": ("flowdeck.store.files", "FileStore"),
    "sqlite": ("flowdeck.store.sql", "SqlStore"),
    "postgres": ("flowdeck.store.sql", "SqlStore"),
    "mysql": ("flowdeck.store.sql", "SqlStore"),
    "rest": ("flowdeck.store.rest", "RestStore"),
}
BACKENDS = [
    pytest.param("files", id="files"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres, pytest.mark.slow]),
    pytest.param("mysql", id="mysql", marks=[pytest.mark.mysql, pytest.mark.slow]),
    pytest.param("rest", id="rest", marks=[pytest.mark.server, pytest.mark.slow]),
]
SCENARIO_FIXTURES = {
    "files": "file_store_scenario",
    "sqlite": "sqlite_scenario",
    "postgres": "postgres_scenario",
    "mysql": "mysql_scenario",
    "rest": "server_scenario",
}


@pytest.fixture(scope="session", autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point Flowdeck's cache/data/config folders at a tmp folder; run Qt offscreen."""
    home = tmp_path_factory.mktemp("user-dirs")
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
            folder = home / variable.lower()
            folder.mkdir()
            patch.setenv(variable, str(folder))
        patch.setenv("QT_QPA_PLATFORM", "offscreen")
        # MLflow's defaults (./mlflow.db, ./mlruns) land here, never in the checkout.
        (home / "cwd").mkdir()
        patch.chdir(home / "cwd")
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.delenv("MLFLOW_REGISTRY_URI", raising=False)
        yield home


# MLflow's fluent API keeps process-wide state (env vars, the active experiment, a run stack).
_MLFLOW_ENV = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_REGISTRY_URI",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_RUN_ID",
)


def _reset_mlflow_globals() -> None:
    """Back to the session's start: no MLflow variables set, no active run or experiment."""
    fluent = sys.modules.get("mlflow.tracking.fluent")
    if fluent is not None:
        for _ in range(10):  # a run left open by a failed test; its store may be gone already
            if fluent.active_run() is None:
                break
            try:
                fluent.end_run()
            except Exception:  # noqa: BLE001 - the stack is popped before the store is called
                break
        fluent._active_experiment_id = None
        sys.modules["mlflow"].set_tracking_uri(None)
    registry = sys.modules.get("mlflow.tracking._model_registry.utils")
    if registry is not None:
        registry._registry_uri = None  # set_registry_uri(None) would not clear it
    for name in _MLFLOW_ENV:  # after set_tracking_uri, which writes the variable again
        os.environ.pop(name, None)


@pytest.fixture(autouse=True)
def clean_mlflow_state(isolated_user_dirs: Path) -> Iterator[None]:
    """Each test starts, and leaves, MLflow's global state as the session began.

    Reset after the test too: session fixtures built during the next test's setup run before
    any function-scoped fixture of that test could clean up.
    """
    _reset_mlflow_globals()
    yield
    _reset_mlflow_globals()


def _skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(reason)
    pytest.skip(reason)


# --- one scenario per backend (each written once per test session, on first use) ----------


@pytest.fixture(scope="session")
def file_store_scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The scenario in a fresh ``mlruns/`` folder; ``location`` is the folder path."""
    mlruns = tmp_path_factory.mktemp("file-store") / "mlruns"
    scenario = write_scenario(mlruns.as_uri())
    return dataclasses.replace(scenario, location=str(mlruns))


@pytest.fixture(scope="session")
def sqlite_scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The scenario in a fresh ``mlflow.db`` with an ``artifacts/`` folder beside it."""
    folder = tmp_path_factory.mktemp("sqlite-store")
    return write_scenario(f"sqlite:///{folder / 'mlflow.db'}", str(folder / "artifacts"))


@pytest.fixture(scope="session")
def postgres_scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """The scenario in a throw-away PostgreSQL database, dropped at session end."""
    reason = databases.postgres_unreachable_reason()
    if reason:
        _skip_or_fail(reason)
    name = databases.unique_database_name()
    url = databases.create_postgres_database(name)
    try:
        artifacts = tmp_path_factory.mktemp("postgres-artifacts")
        scenario = write_scenario(url, str(artifacts))
        # Flowdeck is opened with the URL a user would type, without a driver name.
        yield dataclasses.replace(scenario, location=url.replace("+psycopg2", "", 1))
    finally:
        databases.drop_postgres_database(name)


@pytest.fixture(scope="session")
def mysql_scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """The scenario in a throw-away MariaDB/MySQL database, dropped at session end."""
    reason = databases.mysql_unreachable_reason()
    if reason:
        _skip_or_fail(reason)
    name = databases.unique_database_name()
    url = databases.create_mysql_database(name)
    try:
        artifacts = tmp_path_factory.mktemp("mysql-artifacts")
        yield write_scenario(url, str(artifacts))
    finally:
        databases.drop_mysql_database(name)


@pytest.fixture(scope="session")
def mlflow_scenario_server(
    sqlite_scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A real ``mlflow server`` over a copy of the SQLite scenario database."""
    workdir = tmp_path_factory.mktemp("scenario-server")
    source_db = Path(sqlite_scenario.tracking_uri.removeprefix("sqlite:///"))
    shutil.copy2(source_db, workdir / "mlflow.db")
    server = start_mlflow_server(
        workdir,
        backend_uri=f"sqlite:///{workdir / 'mlflow.db'}",
        artifacts_destination=workdir / "served-artifacts",
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def server_scenario(sqlite_scenario: Scenario, mlflow_scenario_server: ServerProcess) -> Scenario:
    """The SQLite scenario served by a real tracking server; ``location`` is its URL."""
    url = mlflow_scenario_server.url
    return dataclasses.replace(sqlite_scenario, tracking_uri=url, location=url)


# --- the parametrized store fixture of the contract suite ------------------------------------


def backend_missing_reason(backend: str) -> str | None:
    """Why the backend cannot be tested yet (module or class not written), else None."""
    module_name, class_name = BACKEND_CLASSES[backend]
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None:
        return f"{module_name} is not written yet"
    module = importlib.import_module(module_name)
    if not hasattr(module, class_name):
        return f"{module_name} does not define {class_name} yet"
    return None


@pytest.fixture(scope="session", params=BACKENDS)
def scenario_store(request: pytest.FixtureRequest) -> Iterator[tuple[object, Scenario]]:
    """``(flowdeck.store.open_store(location), scenario)`` for each backend in turn."""
    backend = request.param
    reason = backend_missing_reason(backend)
    if reason:  # a renamed or missing backend is a failure, never a silent skip
        pytest.fail(f"{backend} backend: {reason}")
    scenario: Scenario = request.getfixturevalue(SCENARIO_FIXTURES[backend])
    from flowdeck.store import open_store

    store = open_store(scenario.location)
    try:
        yield store, scenario
    finally:
        store.close()
