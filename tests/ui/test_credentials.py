"""Remembered credentials live in the (test's in-memory) keyring, keyed by URL without password."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backends import fail
from tests.helpers.dict_keyring import DictKeyring, installed_dict_keyring

from flowdeck.ui.credentials import (
    SERVICE,
    Credentials,
    CredentialsUnavailable,
    credential_key,
    delete_credentials,
    load_credentials,
    save_credentials,
)


@pytest.fixture
def dict_keyring() -> Iterator[DictKeyring]:
    with installed_dict_keyring() as backend:
        yield backend


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
