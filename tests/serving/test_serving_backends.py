"""Resolving and fetching a registered PythonModel on every backend; serving it from a server."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from flowdeck.serving import LaunchOptions, ServerProcess, fetch_model, flavor_runs_code, resolve
from flowdeck.store import open_store

pytestmark = pytest.mark.slow

SCENARIOS = {"files": "file_store_scenario", "sqlite": "sqlite_scenario", "rest": "server_scenario"}
BACKENDS = [
    pytest.param("files"),
    pytest.param("sqlite"),
    pytest.param("rest", marks=[pytest.mark.server]),
]


@pytest.fixture(params=BACKENDS)
def scenario(request: pytest.FixtureRequest):
    found = request.getfixturevalue(SCENARIOS[request.param])
    if "registry" in found.unsupported:
        pytest.skip(found.unsupported["registry"])
    return found


def test_alias_and_stage_uris_resolve_and_fetch(scenario):
    store = open_store(scenario.location)
    name = scenario.model_name
    champion = resolve(store, f"models:/{name}@champion")
    assert champion.resolved_version == str(scenario.aliases["champion"])
    staged = resolve(store, f"models:/{name}/Staging")
    assert staged.resolved_version == str(scenario.aliases["challenger"])
    folder = fetch_model(store, champion)
    assert (folder / "MLmodel").is_file()
    assert "cloudpickle" in (flavor_runs_code(folder) or "")


def test_python_model_fetched_from_a_tracking_server_serves_pyfunc_answers(
    server_scenario, monkeypatch
):
    import mlflow

    # The scenario's model class is pickled by reference to ``tests.scenario``.
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))

    store = open_store(server_scenario.location)
    ref = resolve(store, f"models:/{server_scenario.model_name}@champion")
    folder = fetch_model(store, ref)
    frame = pd.DataFrame({"x": [1.0, 2.5], "y": ["a", "b"]})
    expected = mlflow.pyfunc.load_model(str(folder)).predict(frame)
    server = ServerProcess.start(folder, LaunchOptions(), ref=ref)
    try:
        assert server.wait_until_ready(300.0), server.log_text()
        payload = {"dataframe_split": frame.to_dict(orient="split")}
        request = urllib.request.Request(
            server.url + "/invocations",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        assert answer["predictions"] == expected.to_dict(orient="records")
        assert server.inference_log.entries()[-1].status == 200
    finally:
        server.stop()
