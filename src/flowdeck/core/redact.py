"""The one redaction rule: secrets never reach a label, a log line, a saved setting or a message."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit

MASK = "***"

#: Query parameter names that always carry a secret (compared lower-case, ``-`` as ``_``).
SECRET_QUERY_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "sslpassword",
        "api_key",
        "apikey",
        "access_token",
        "accesstoken",
        "auth_token",
        "refresh_token",
        "id_token",
        "token",
        "secret",
        "client_secret",
        "key",
        "sig",
        "signature",
        "x_amz_signature",
        "x_amz_security_token",
        "credential",
        "credentials",
    }
)
#: Parts of a parameter name that mark it as secret wherever they appear in it.
_SECRET_PARTS = ("password", "passwd", "secret", "token", "api_key", "apikey", "private_key")

_USERINFO_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s/:@?#]*):[^\s/@?#]*@")
_QUERY_PARAM = re.compile(r"([?&;])([A-Za-z0-9_.\-]+)=([^&;#\s'\"<>]*)")
_AUTH_HEADER = re.compile(
    r"""((?:proxy-)?authorization["']?\s*[:=]\s*["']?)"""
    r"""(?:(bearer|basic|token|digest)\s+)?[^\s"',}\]]+""",
    re.IGNORECASE,
)
_AUTH_VALUE = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]{6,}")


def is_secret_key(name: str) -> bool:
    """True for a query parameter (or option) name that carries a secret."""
    normal = name.strip().lower().replace("-", "_")
    return normal in SECRET_QUERY_KEYS or any(part in normal for part in _SECRET_PARTS)


def redact_location(location: str) -> str:
    """``location`` without the password of its userinfo and without secret query parameters.

    Paths (POSIX or Windows) and URLs without secrets come back unchanged; the user name stays,
    so the result still says which account a store is opened with.
    """
    parts = urlsplit(location)
    if not parts.scheme or len(parts.scheme) == 1 or (not parts.netloc and not parts.query):
        return location
    head, question, rest = location.partition("?")
    query, hash_sign, fragment = rest.partition("#")
    if parts.netloc and "@" in parts.netloc:
        scheme_part, _, after = head.partition("://")
        userinfo, _, host_and_path = after.partition("@")
        while "@" in host_and_path.split("/", 1)[0]:  # a password holding "@"
            more, _, host_and_path = host_and_path.partition("@")
            userinfo += "@" + more
        user = userinfo.split(":", 1)[0]
        head = f"{scheme_part}://{user + '@' if user else ''}{host_and_path}"
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not is_secret_key(k)]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    return head + (question if query else "") + query + hash_sign + fragment


def location_secrets(location: str) -> list[str]:
    """The secrets written into a location: its userinfo password and secret query values."""
    parts = urlsplit(location)
    if not parts.scheme or len(parts.scheme) == 1:
        return []
    found = []
    try:
        password = parts.password
    except ValueError:
        password = None
    if password:
        found.append(password)
    found.extend(v for k, v in parse_qsl(parts.query, keep_blank_values=True) if is_secret_key(k))
    return [secret for secret in found if secret]


def secret_forms(secret: str) -> set[str]:
    """A secret as it may appear in text: raw, URL-quoted, and inside a Basic header."""
    return {secret, quote(secret, safe=""), quote_plus(secret, safe="")}


def basic_secret(username: str, password: str) -> str:
    """The base64 text of a Basic ``Authorization`` header, itself a secret."""
    return base64.standard_b64encode(f"{username}:{password}".encode()).decode("ascii")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets, URL passwords, secret query parameters and
    ``Authorization`` values replaced by ``***`` (for messages, details and log lines)."""
    if not text:
        return text
    forms = {
        form for secret in secrets if secret and len(secret) >= 3 for form in secret_forms(secret)
    }
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    text = _AUTH_HEADER.sub(
        lambda m: m.group(1) + (f"{m.group(2)} " if m.group(2) else "") + MASK, text
    )
    text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _USERINFO_PASSWORD.sub(r"\1:" + MASK + "@", text)
    return _QUERY_PARAM.sub(
        lambda m: f"{m.group(1)}{m.group(2)}={MASK}" if is_secret_key(m.group(2)) else m.group(0),
        text,
    )
