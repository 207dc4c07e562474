"""HTTP client for an MLflow tracking server: session, auth, TLS, timeouts, errors, paging."""

from __future__ import annotations

import base64
import configparser
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict, Unpack
from urllib.parse import unquote, urlparse

import requests

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
from flowdeck.core.redact import scrub
from flowdeck.core.task_state import TaskState
from flowdeck.store.rest.deadline import Deadline, DeadlineAdapter, watching

DEFAULT_TIMEOUT_S = 30.0
MAX_GET_RETRIES = 2
RETRY_DELAYS_S = (0.2, 0.6)
RETRY_STATUSES = frozenset({502, 503, 504})
MESSAGE_LIMIT = 300
#: Listing calls stop after this many pages (a server that never stops sending tokens).
MAX_PAGES = 10_000
#: Streamed downloads are read in chunks of this size; each must arrive within the timeout.
STREAM_CHUNK_BYTES = 1 << 16


class EndpointMissing(NotFound):
    """The server has no such route (an older MLflow); not a missing entity."""


class EndlessPaging(ServerError):
    """The server kept sending page tokens (the same one again, or more than ``max_pages``)."""


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

    ``username``/``password`` (Basic auth) or ``token`` (Bearer), ``timeout`` in seconds (the
    total time one request may take, connecting and reading included), ``verify`` (bool or CA
    bundle path). A user name and password in the URL's userinfo are used as Basic auth.
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
        self.base_url, url_user, url_password = _split_userinfo(base_url.rstrip("/"))
        timeout = options.get("timeout")
        self.timeout = float(timeout) if timeout is not None else self._env_timeout()
        self.max_pages = MAX_PAGES
        self.session = requests.Session()
        adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=8, max_retries=0)
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
        username, password = options.get("username"), options.get("password")
        if username is None and options.get("token") is None and url_user is not None:
            username, password = url_user, url_password
        authorization = self._authorization(username, password, options.get("token"))
        self._secrets: list[str] = []
        if authorization:
            self.session.headers["Authorization"] = authorization
            self._secrets = [authorization.split(" ", 1)[1]]
        self._secrets += [s for s in (password, options.get("token"), url_password) if s]

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
        """Send one request; idempotent GETs are retried briefly on transient failures.

        The whole request (retries, connecting and reading the answer) must finish within
        ``timeout``; a streamed answer's headers must, and then each chunk of its body.
        Error messages never hold the credentials in use.
        """
        deadline = Deadline(self.timeout)
        deadline.start()
        try:
            response = self._send(method, url, deadline, is_search, stream, kwargs)
        except FlowdeckError as error:
            deadline.stop()
            error.scrub_secrets(self._secrets)
            raise
        except BaseException:
            deadline.stop()
            raise
        if stream:
            self._watch_body(response, deadline)
        else:
            deadline.stop()
        return response

    def _timed_out(self, exc: BaseException | None = None) -> StoreTimeout:
        return StoreTimeout(
            f"The MLflow server at {self.base_url} did not answer within {self.timeout:g} s.",
            detail=str(exc) if exc is not None else None,
        )

    def _send(
        self,
        method: str,
        url: str,
        deadline: Deadline,
        is_search: bool,
        stream: bool,
        kwargs: dict[str, Any],
    ) -> requests.Response:
        retries = MAX_GET_RETRIES if method == "GET" else 0
        attempt = 0
        while True:
            try:
                with watching(deadline):
                    limit = deadline.remaining()
                    response = self.session.request(
                        method, url, timeout=(limit, limit), stream=True, **kwargs
                    )
                    if not stream or response.status_code >= 400:
                        response.content  # noqa: B018 - read the body within the deadline
            except requests.exceptions.RequestException as exc:
                if deadline.expired or isinstance(exc, requests.exceptions.Timeout):
                    raise self._timed_out(exc) from exc
                if isinstance(exc, requests.exceptions.SSLError):
                    raise StoreUnreachable(
                        f"Cannot reach the MLflow server at {self.base_url}: the TLS "
                        "certificate could not be verified (set MLFLOW_TRACKING_SERVER_CERT_PATH "
                        "to its CA bundle, or MLFLOW_TRACKING_INSECURE_TLS=true to skip the "
                        "check).",
                        detail=str(exc),
                    ) from exc
                if isinstance(exc, requests.exceptions.ConnectionError) and attempt < retries:
                    if deadline.remaining() <= RETRY_DELAYS_S[attempt]:
                        raise self._timed_out(exc) from exc
                    time.sleep(RETRY_DELAYS_S[attempt])
                    attempt += 1
                    continue
                reason = (
                    _connection_reason(exc)
                    if isinstance(exc, requests.exceptions.ConnectionError)
                    else str(exc)
                )
                raise StoreUnreachable(
                    f"Cannot reach the MLflow server at {self.base_url}: {reason}",
                    detail=str(exc),
                ) from exc
            if deadline.expired:
                response.close()
                raise self._timed_out()
            if (
                response.status_code in RETRY_STATUSES
                and attempt < retries
                and deadline.remaining() > RETRY_DELAYS_S[attempt]
            ):
                response.close()
                time.sleep(RETRY_DELAYS_S[attempt])
                attempt += 1
                continue
            if response.status_code >= 400:
                raise self._error(response, is_search)
            return response

    def _watch_body(self, response: requests.Response, deadline: Deadline) -> None:
        """Each chunk of a streamed body must arrive within ``timeout`` (read in small chunks,
        so a slow but steady download goes on while a trickle is cut off)."""
        chunks = response.iter_content
        close = response.close

        def iter_content(chunk_size: int | None = 1, decode_unicode: bool = False) -> Iterator:
            size = min(chunk_size or STREAM_CHUNK_BYTES, STREAM_CHUNK_BYTES)
            try:
                deadline.rearm(self.timeout)
                for chunk in chunks(size, decode_unicode):
                    deadline.rearm(self.timeout)
                    yield chunk
            except requests.exceptions.RequestException as exc:
                error = (
                    self._timed_out(exc)
                    if deadline.expired
                    else StoreUnreachable(
                        f"The MLflow server at {self.base_url} stopped sending: "
                        f"{_connection_reason(exc)}",
                        detail=str(exc),
                    )
                )
                error.scrub_secrets(self._secrets)
                raise error from exc
            finally:
                deadline.stop()

        def close_watched() -> None:
            deadline.stop()
            close()

        response.iter_content = iter_content  # type: ignore[method-assign]
        response.close = close_watched  # type: ignore[method-assign]

    def get_page(
        self, endpoint: str, params: dict[str, Any], items_key: str, page_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a GET search: its items and the next token (None on the last page)."""
        if page_token:
            params = {**params, "page_token": page_token}
        data = self.get(endpoint, params)
        items = _items(data, endpoint, items_key)
        token = _token(data, endpoint)
        return items, (None if token == page_token else token)

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

        ``state`` is checked before each request; raises Cancelled. A server that sends a page
        token it sent before, or more than ``max_pages`` pages, raises ``EndlessPaging``. A
        ``page_token`` in ``payload`` (a listing read on from there) counts as sent before.
        """
        payload = dict(payload)
        seen = 0
        tokens: set[str] = {payload["page_token"]} if payload.get("page_token") else set()
        for _page in range(self.max_pages):
            if state is not None:
                state.check()
            if method == "GET":
                data = self.get(endpoint, payload, version=version)
            else:
                data = self.post(endpoint, payload, version=version, is_search=is_search)
            items = _items(data, endpoint, items_key)
            if limit is not None and seen + len(items) >= limit:
                yield items[: limit - seen]
                return
            seen += len(items)
            yield items
            token = _token(data, endpoint)
            if not token:
                return
            if token in tokens:
                raise EndlessPaging(
                    f"The MLflow server at {self.base_url} sent the same page token twice while "
                    f"listing {endpoint}; Flowdeck stopped reading after {len(tokens) + 1} pages."
                )
            tokens.add(token)
            payload["page_token"] = token
        raise EndlessPaging(
            f"The MLflow server at {self.base_url} kept sending more pages of {endpoint}; "
            f"Flowdeck stopped reading after {self.max_pages} pages."
        )

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
        detail = scrub(f"HTTP {status} {code or ''} {response.text[:2000]}".strip(), self._secrets)
        message = scrub(message, self._secrets)
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


def _split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """``url`` without userinfo, and the (unquoted) user name and password it held."""
    parts = urlparse(url)
    if "@" not in parts.netloc:
        return url, None, None
    host = parts.netloc.rsplit("@", 1)[1]
    return (
        parts._replace(netloc=host).geturl(),
        unquote(parts.username or ""),
        (unquote(parts.password) if parts.password is not None else None),
    )


def _items(data: dict[str, Any], endpoint: str, key: str) -> list[dict[str, Any]]:
    """The item objects of one page; ``MalformedAnswer`` when they are not a list of objects."""
    from flowdeck.store.rest.fields import MalformedAnswer

    items = data.get(key)
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise MalformedAnswer(endpoint, key, "is not a list of objects")
    return items


def _token(data: dict[str, Any], endpoint: str) -> str | None:
    from flowdeck.store.rest.fields import MalformedAnswer

    token = data.get("next_page_token")
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise MalformedAnswer(endpoint, "next_page_token", "is not a string")
    return token


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
