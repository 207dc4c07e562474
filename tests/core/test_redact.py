"""The one redaction rule: locations lose their secrets, messages lose credentials and headers."""

from __future__ import annotations

import pytest

from flowdeck.core.errors import FlowdeckError
from flowdeck.core.redact import redact_location, scrub


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("http://alice:pw@host:5000/prefix", "http://alice@host:5000/prefix"),
        (
            "postgresql://a:b@h/db?sslpassword=zz&sslmode=require",
            "postgresql://a@h/db?sslmode=require",
        ),
        (
            "mysql+pymysql://root@h/db?API_KEY=k&charset=utf8",
            "mysql+pymysql://root@h/db?charset=utf8",
        ),
        ("sqlite:///x.db?access_token=t", "sqlite:///x.db"),
        ("https://h/?Secret=s&client_secret=c&x-api-key=k", "https://h/"),
        ("http://u:p@ss@h/x", "http://u@h/x"),
        ("/home/alice/mlruns", "/home/alice/mlruns"),
        (r"C:\Users\alice\mlruns", r"C:\Users\alice\mlruns"),
    ],
)
def test_locations_lose_passwords_and_secret_parameters(location: str, shown: str) -> None:
    assert redact_location(location) == shown


def test_messages_lose_the_credentials_in_use_and_authorization_values() -> None:
    text = (
        "failed: {'Authorization': 'Bearer abc.def-123'} at http://u:hunter22@h/?token=T&x=1; "
        "Authorization: Basic dXNlcjpwdw== and the raw s3cr%et"
    )
    clean = scrub(text, ["s3cr%et"])
    for secret in ("abc.def-123", "hunter22", "token=T", "dXNlcjpwdw==", "s3cr%et"):
        assert secret not in clean
    assert "x=1" in clean and "http://u:***@h/" in clean


def test_every_flowdeck_error_is_scrubbed_once_made() -> None:
    error = FlowdeckError(
        "Cannot open postgresql://a:hunter22@h/db?sslpassword=zz", detail="Bearer abcdefgh"
    )
    assert "hunter22" not in str(error) and "zz" not in error.message
    assert error.detail == "Bearer ***"
