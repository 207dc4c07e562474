"""Mirroring a server that wants a password: a 401 is a plain message and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient

from flowdeck.store.mirror.cli import mirror_from_cli

pytestmark = [pytest.mark.server, pytest.mark.slow]

ADMIN = "admin"
PASSWORD = "flowdeck-admin-Pass-2024"  # the same as conftest.AUTH_PASSWORD


@pytest.fixture(autouse=True)
def no_credentials_in_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_a_refused_password_leaves_the_mirror_as_it_was(
    basic_auth_server,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    client = MlflowClient(tracking_uri=basic_auth_server.url)
    experiment_id = client.create_experiment("guarded-mirror")
    client.log_metric(client.create_run(experiment_id).info.run_id, "loss", 0.5)
    destination = tmp_path / "guarded.db"
    assert mirror_from_cli([basic_auth_server.url, str(destination)]) == 0
    before = destination.read_bytes()
    copied = MlflowClient(f"sqlite:///{destination}").search_runs([experiment_id])
    assert [run.data.metrics["loss"] for run in copied] == [0.5]

    capsys.readouterr()
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "not-the-password")
    try:
        assert mirror_from_cli([basic_auth_server.url, str(destination)]) == 1
    finally:  # the server is shared with tests that expect it empty
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
        client.delete_experiment(experiment_id)
    message = capsys.readouterr().err
    assert "refused the credentials" in message and "not-the-password" not in message
    assert "Traceback" not in message
    assert destination.read_bytes() == before
