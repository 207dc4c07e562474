"""Remembered store credentials in the OS keyring (never in settings or logs), one entry per URL."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit, urlunsplit

from flowdeck.core.errors import FlowdeckError

SERVICE = "flowdeck"


class CredentialsUnavailable(FlowdeckError):
    """The system keyring cannot store or read secrets."""


@dataclass(frozen=True)
class Credentials:
    """What a store needs to log in: Basic auth (username/password) and/or a bearer token."""

    username: str = ""
    password: str = ""
    token: str = ""

    def is_empty(self) -> bool:
        return not (self.username or self.password or self.token)

    def __repr__(self) -> str:  # keep secrets out of logs and tracebacks
        return f"Credentials(username={self.username!r}, password=***, token=***)"


def credential_key(store_url: str) -> str:
    """The keyring account for a store URL: the URL without password, query or trailing slash."""
    text = store_url.strip()
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc:
        return text.rstrip("/")
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username
    netloc = f"{user}@{host}" if user else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))


def save_credentials(store_url: str, credentials: Credentials) -> None:
    """Remember credentials for a store; raises ``CredentialsUnavailable`` without a keyring."""
    import keyring  # its first import takes ~65 ms: not on the start-up path
    from keyring.errors import KeyringError

    secret = json.dumps(asdict(credentials))
    try:
        keyring.set_password(SERVICE, credential_key(store_url), secret)
    except KeyringError as error:
        raise CredentialsUnavailable(
            "The credentials could not be remembered: no system keyring is available."
        ) from error


def load_credentials(store_url: str) -> Credentials | None:
    """Remembered credentials for a store, or None (also when there is no keyring)."""
    import keyring
    from keyring.errors import KeyringError

    try:
        secret = keyring.get_password(SERVICE, credential_key(store_url))
    except KeyringError:
        return None
    if not secret:
        return None
    try:
        values = json.loads(secret)
    except ValueError:
        return None
    if not isinstance(values, dict):
        return None
    return Credentials(
        username=str(values.get("username") or ""),
        password=str(values.get("password") or ""),
        token=str(values.get("token") or ""),
    )


def delete_credentials(store_url: str) -> None:
    """Forget a store's credentials; nothing happens when none were remembered."""
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, credential_key(store_url))
    except PasswordDeleteError:
        pass
    except KeyringError:
        pass
