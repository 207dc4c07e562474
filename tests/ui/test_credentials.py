"""Remembered credentials live in the (test's in-memory) keyring, keyed by URL without password."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import keyring.backend
import pytest
from keyring.backends import fail
from keyring.errors import PasswordDeleteError

from flowdeck.ui.credentials import (
    SERVICE,
    Credentials,
    CredentialsUnavailable,
    credential_key,
    delete_credentials,
    load_credentials,
    save_credentials,
)


class DictKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps secrets in a dict (this test process only)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


@pytest.fixture
def dict_keyring() -> Iterator[DictKeyring]:
    previous = keyring.get_keyring()
    backend = DictKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_save_load_delete_round_trip(dict_keyring):
    url = "https://mlflow.example.org/"
    save_credentials(url, Credentials("ada", "s3cret", "tok"))
    assert load_credentials("https://mlflow.example.org") == Credentials("ada", "s3cret", "tok")
    assert list(dict_keyring.secrets) == [(SERVICE, "https://mlflow.example.org")]
    delete_credentials(url)
    assert load_credentials(url) is None
    delete_credentials(url)  # forgetting twice is harmless


def test_key_never_contains_the_password():
    key = credential_key("postgresql://ada:s3cret@db.example.org:5432/mlflow")
    assert key == "postgresql://ada@db.example.org:5432/mlflow"
    assert "s3cret" not in key


def test_repr_hides_secrets():
    text = repr(Credentials("ada", "s3cret", "tok-123"))
    assert "ada" in text and "s3cret" not in text and "tok-123" not in text


def test_without_a_keyring_saving_says_so_and_loading_finds_nothing():
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(CredentialsUnavailable, match="no system keyring"):
            save_credentials("http://127.0.0.1:5000", Credentials("a", "b"))
        assert load_credentials("http://127.0.0.1:5000") is None
    finally:
        keyring.set_keyring(previous)
