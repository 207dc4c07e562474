"""RestStore against a real ``mlflow server --app-name basic-auth``: wrong and right passwords."""

from __future__ import annotations

import pytest

from flowdeck.core.errors import AuthenticationFailed
from flowdeck.store.rest import RestStore

pytestmark = [pytest.mark.server, pytest.mark.slow]

ADMIN = "admin"
PASSWORD = "flowdeck-admin-Pass-2024"  # the same as conftest.AUTH_PASSWORD


@pytest.fixture(autouse=True)
def no_credentials_in_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_no_credentials_is_authentication_failed(basic_auth_server) -> None:
    with pytest.raises(AuthenticationFailed, match="refused the credentials"):
        RestStore(basic_auth_server.url).experiments()


def test_wrong_password_is_authentication_failed(basic_auth_server) -> None:
    store = RestStore(basic_auth_server.url, username=ADMIN, password="not-the-password")
    with pytest.raises(AuthenticationFailed):
        store.runs(["0"])


def test_right_password_reads(basic_auth_server) -> None:
    store = RestStore(basic_auth_server.url, username=ADMIN, password=PASSWORD)
    assert list(store.experiments()["name"]) == ["Default"]
    assert store.runs(["0"]).empty
    assert store.registered_models().items == []


def test_credentials_from_mlflows_environment_variables(
    basic_auth_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    assert list(RestStore(basic_auth_server.url).experiments()["experiment_id"]) == ["0"]
