"""HTTP client for an MLflow tracking server: session, auth, TLS, timeouts, errors, paging."""

from __future__ import annotations

import base64
import configparser
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict, Unpack
from urllib.parse import urlparse

import requests
from requests.adapters import HTTPAdapter

from flowdeck.core.errors import (
    AuthenticationFailed,
    FlowdeckError,
    InvalidFilter,
    NotFound,
    PermissionDenied,
    ServerError,
    StoreTimeout,
    StoreUnreachable,
)
from flowdeck.core.task_state import TaskState

DEFAULT_TIMEOUT_S = 30.0
MAX_GET_RETRIES = 2
RETRY_DELAYS_S = (0.2, 0.6)
RETRY_STATUSES = frozenset({502, 503, 504})
MESSAGE_LIMIT = 300


class EndpointMissing(NotFound):
    """The server has no such route (an older MLflow); not a missing entity."""


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def _credentials_file() -> tuple[str | None, str | None]:
    """Username and password from ``~/.mlflow/credentials``, as MLflow's client reads them."""
    path = Path.home() / ".mlflow" / "credentials"
    if not path.is_file():
        return None, None
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        return None, None
    section = parser["mlflow"] if parser.has_section("mlflow") else {}
    return section.get("mlflow_tracking_username"), section.get("mlflow_tracking_password")


def _shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ClientOptions(TypedDict, total=False):
    """How to talk to the server; an option left out comes from MLflow's environment variables.

    ``username``/``password`` (Basic auth) or ``token`` (Bearer), ``timeout`` in seconds,
    ``verify`` (bool or CA bundle path).
    """

    username: str | None
    password: str | None
    token: str | None
    timeout: float | None
    verify: bool | str | None


class RestClient:
    """A ``requests.Session`` bound to one server base URL, raising ``FlowdeckError``s."""

    def __init__(self, base_url: str, **options: Unpack[ClientOptions]) -> None:
        unknown = options.keys() - ClientOptions.__annotations__.keys()
        if unknown:
            raise TypeError(f"Unknown RestClient options: {', '.join(sorted(unknown))}")
        self.base_url = base_url.rstrip("/")
        timeout = options.get("timeout")
        self.timeout = float(timeout) if timeout is not None else self._env_timeout()
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=8, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "flowdeck"
        self.session.verify = self._verify(options.get("verify"))
        client_cert = os.environ.get("MLFLOW_TRACKING_CLIENT_CERT_PATH")
        if client_cert:
            self.session.cert = client_cert
        workspace = os.environ.get("MLFLOW_WORKSPACE")
        if workspace:
            self.session.headers["X-MLFLOW-WORKSPACE"] = workspace
        authorization = self._authorization(
            options.get("username"), options.get("password"), options.get("token")
        )
        if authorization:
            self.session.headers["Authorization"] = authorization

    # --- configuration -------------------------------------------------------------------

    @staticmethod
    def _env_timeout() -> float:
        raw = os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT", "").strip()
        try:
            return float(raw) if raw else DEFAULT_TIMEOUT_S
        except ValueError:
            return DEFAULT_TIMEOUT_S

    @staticmethod
    def _verify(verify: bool | str | None) -> bool | str:
        if verify is not None:
            return verify
        if _env_flag("MLFLOW_TRACKING_INSECURE_TLS"):
            return False
        return os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or True

    @staticmethod
    def _authorization(username: str | None, password: str | None, token: str | None) -> str | None:
        """Basic auth wins over a token, explicit arguments over the environment."""
        if username is None and token is None:
            username = os.environ.get("MLFLOW_TRACKING_USERNAME")
            password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
            token = os.environ.get("MLFLOW_TRACKING_TOKEN")
            if username is None and token is None:
                username, password = _credentials_file()
        if username:
            pair = f"{username}:{password or ''}".encode()
            return "Basic " + base64.standard_b64encode(pair).decode("ascii")
        if token:
            return f"Bearer {token}"
        return None

    def close(self) -> None:
        self.session.close()

    # --- requests --------------------------------------------------------------------------

    def api_url(self, endpoint: str, version: str = "2.0") -> str:
        return f"{self.base_url}/api/{version}/mlflow/{endpoint.lstrip('/')}"

    def get(
        self, endpoint: str, params: dict[str, Any] | None = None, *, version: str = "2.0"
    ) -> dict[str, Any]:
        """GET an MLflow API endpoint and return its JSON object."""
        response = self.request("GET", self.api_url(endpoint, version), params=params)
        return self._json(response)

    def post(
        self,
        endpoint: str,
        body: dict[str, Any],
        *,
        version: str = "2.0",
        is_search: bool = False,
    ) -> dict[str, Any]:
        """POST a JSON body to an MLflow API endpoint (reads only: searches)."""
        response = self.request(
            "POST", self.api_url(endpoint, version), json=body, is_search=is_search
        )
        return self._json(response)

    def request(
        self, method: str, url: str, *, is_search: bool = False, stream: bool = False, **kwargs: Any
    ) -> requests.Response:
        """Send one request; idempotent GETs are retried briefly on transient failures."""
        retries = MAX_GET_RETRIES if method == "GET" else 0
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method, url, timeout=self.timeout, stream=stream, **kwargs
                )
            except requests.exceptions.Timeout as exc:
                raise StoreTimeout(
                    f"The MLflow server at {self.base_url} did not answer within "
                    f"{self.timeout:g} s.",
                    detail=str(exc),
                ) from exc
            except requests.exceptions.SSLError as exc:
                raise StoreUnreachable(
                    f"Cannot reach the MLflow server at {self.base_url}: the TLS certificate "
                    "could not be verified (set MLFLOW_TRACKING_SERVER_CERT_PATH to its CA "
                    "bundle, or MLFLOW_TRACKING_INSECURE_TLS=true to skip the check).",
                    detail=str(exc),
                ) from exc
            except requests.exceptions.ConnectionError as exc:
                if attempt < retries:
                    time.sleep(RETRY_DELAYS_S[attempt])
                    attempt += 1
                    continue
                raise StoreUnreachable(
                    f"Cannot reach the MLflow server at {self.base_url}: {_connection_reason(exc)}",
                    detail=str(exc),
                ) from exc
            except requests.exceptions.RequestException as exc:
                raise StoreUnreachable(
                    f"Cannot reach the MLflow server at {self.base_url}: {exc}", detail=str(exc)
                ) from exc
            if response.status_code in RETRY_STATUSES and attempt < retries:
                response.close()
                time.sleep(RETRY_DELAYS_S[attempt])
                attempt += 1
                continue
            if response.status_code >= 400:
                raise self._error(response, is_search)
            return response

    def get_page(
        self, endpoint: str, params: dict[str, Any], items_key: str, page_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a GET search: its items and the next token (None on the last page)."""
        if page_token:
            params = {**params, "page_token": page_token}
        data = self.get(endpoint, params)
        return list(data.get(items_key) or ()), data.get("next_page_token") or None

    def iter_pages(
        self,
        method: str,
        endpoint: str,
        payload: dict[str, Any],
        items_key: str,
        *,
        version: str = "2.0",
        is_search: bool = False,
        limit: int | None = None,
        state: TaskState | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the items of each page until ``next_page_token`` is absent or ``limit`` is hit.

        ``state`` is checked before each request; raises Cancelled.
        """
        payload = dict(payload)
        seen = 0
        while True:
            if state is not None:
                state.check()
            if method == "GET":
                data = self.get(endpoint, payload, version=version)
            else:
                data = self.post(endpoint, payload, version=version, is_search=is_search)
            items = data.get(items_key) or []
            if limit is not None and seen + len(items) >= limit:
                yield items[: limit - seen]
                return
            seen += len(items)
            yield items
            token = data.get("next_page_token")
            if not token:
                return
            payload["page_token"] = token

    # --- answers ----------------------------------------------------------------------------

    def _json(self, response: requests.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise ServerError(self._not_mlflow_message(response)) from None
        if not isinstance(data, dict):
            raise ServerError(self._not_mlflow_message(response))
        return data

    def _not_mlflow_message(self, response: requests.Response) -> str:
        kind = response.headers.get("Content-Type", "").split(";")[0] or "no content type"
        return (
            f"The server at {self.base_url} did not answer like an MLflow tracking server "
            f"(it sent {kind} instead of JSON). Check the URL, or whether a proxy or login "
            "page is in the way."
        )

    def _error(self, response: requests.Response, is_search: bool) -> FlowdeckError:
        status = response.status_code
        code, message = _parse_error(response)
        detail = f"HTTP {status} {code or ''} {response.text[:2000]}".strip()
        where = self.base_url
        if status == 401:
            return AuthenticationFailed(
                f"The MLflow server at {where} refused the credentials: check the user name "
                "and password (or token).",
                detail=detail,
            )
        if status == 403 or code == "PERMISSION_DENIED":
            return PermissionDenied(
                f"The MLflow server at {where} does not allow this: "
                f"{message or 'permission denied'}.",
                detail=detail,
            )
        if code == "RESOURCE_DOES_NOT_EXIST" or (status == 404 and code):
            return NotFound(message or "Not found on the server.", detail=detail)
        if status == 404:
            return EndpointMissing(
                f"The MLflow server at {where} does not offer {urlparse(response.url).path}.",
                detail=detail,
            )
        if status >= 500:
            text = message or _shorten(response.text) or response.reason or "no details"
            return ServerError(
                f"The MLflow server at {where} failed ({status}): {text}", detail=detail
            )
        if is_search and code in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST", None):
            return InvalidFilter(message or f"The server rejected the search ({status}).")
        return FlowdeckError(
            f"The MLflow server at {where} rejected the request ({status}): "
            f"{message or _shorten(response.text) or response.reason}",
            detail=detail,
        )


def _parse_error(response: requests.Response) -> tuple[str | None, str]:
    """MLflow's ``{error_code, message}``, or (None, "") for anything else."""
    try:
        data = response.json()
    except ValueError:
        return None, ""
    if not isinstance(data, dict):
        return None, ""
    code = data.get("error_code")
    return (str(code) if code else None), _shorten(str(data.get("message") or ""))


def _connection_reason(exc: requests.exceptions.ConnectionError) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused (is the server running, and is the port right?)"
    if (
        "name or service not known" in text
        or "nodename nor servname" in text
        or ("failed to resolve" in text or "getaddrinfo" in text)
    ):
        return "the host name could not be resolved"
    if "reset" in text or "aborted" in text or "remotedisconnected" in text:
        return "the connection was closed by the server"
    if "unreachable" in text:
        return "the network is unreachable"
    return _shorten(str(exc), 200)
