"""The model registry (registered models, versions, aliases, tags) over a tracking server's REST API."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from typing import Any

from flowdeck.core.entities import ModelVersion, Page, RegisteredModel
from flowdeck.core.errors import FlowdeckError, InvalidFilter, NotFound, ServerError
from flowdeck.core.model_versions import (
    aliases_by_version,
    build_model_version,
    is_live,
    newest_first,
)
from flowdeck.core.registry_filter import PROMPT_FILTER, mentions_prompt_tag, parse_model_filter
from flowdeck.core.task_state import TaskState
from flowdeck.store.progress import Progress
from flowdeck.store.rest.client import EndlessPaging, RestClient
from flowdeck.store.rest.runs import key_values

MODELS_PAGE_MAX = 1000
VERSIONS_PAGE_MAX = 200000  # the most MLflow's server accepts in one version search
FALLBACK_VERSIONS_PAGE = 1000  # pages of the per-model reads after a refused bulk search
SEARCH_ENDPOINT = "registered-models/search"


LISTING_REUSE_S = 10.0  # how long a finished listing may stand in for all_model_versions' own


class ServerRefused(FlowdeckError):
    """The server rejected a bulk search (a lower ``max_results`` limit, an older API)."""


class ListingMemo:
    """Names and aliases of the latest complete, unfiltered models listing, for one reuse.

    ``all_model_versions`` needs every model's name and aliases. Right after a caller paged
    through ``registered_models("")`` (the models page does just that, then asks for the
    versions), that listing is taken instead of a second one: on MLflow's server a listing of
    1,000 models costs as much as the search of their 20,000 versions. It is used once, and only
    within ``LISTING_REUSE_S`` of its last page.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._partial: dict[str, dict[str, int]] | None = None
        self._expected: str | None = None
        self._done: dict[str, dict[str, int]] | None = None
        self._done_at = 0.0

    def record(
        self, filter_string: str, page_token: str | None, page: Page[RegisteredModel]
    ) -> None:
        if filter_string.strip():
            return
        with self._lock:
            if page_token is None:
                self._partial = {}
            elif self._partial is None or page_token != self._expected:
                self._partial = None  # a page out of sequence: not one complete listing
                return
            self._partial.update((model.name, dict(model.aliases)) for model in page.items)
            self._expected = page.next_token
            if not page.next_token:
                self._done, self._done_at, self._partial = self._partial, time.monotonic(), None

    def take(self) -> dict[str, dict[str, int]] | None:
        """The finished listing (name → aliases) if it is fresh; each listing is taken once."""
        with self._lock:
            done, self._done = self._done, None
            fresh = time.monotonic() - self._done_at <= LISTING_REUSE_S
            return done if done is not None and fresh else None


def name_filter(name: str) -> str:
    """A filter that matches ``name`` (MLflow's grammar has no escapes inside quotes).

    A name holding both quote characters is matched with LIKE, ``_`` standing for each quote;
    the caller keeps only exact matches.
    """
    if "'" not in name:
        return f"name='{name}'"
    if '"' not in name:
        return f'name="{name}"'
    return "name LIKE '" + name.replace("'", "_").replace('"', "_") + "'"


def _aliases(item: dict[str, Any]) -> dict[str, int]:
    aliases = {}
    for alias in item.get("aliases") or ():
        try:
            aliases[alias["alias"]] = int(alias["version"])
        except (KeyError, TypeError, ValueError):
            continue
    return aliases


def registered_model(item: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=item["name"],
        creation_time=item.get("creation_timestamp"),
        last_updated_time=item.get("last_updated_timestamp"),
        description=item.get("description"),
        tags=key_values(item.get("tags")),
        aliases=_aliases(item),
    )


def search_registered_models(
    client: RestClient, filter_string: str, page_token: str | None, max_results: int
) -> Page[RegisteredModel]:
    """One page of registered models and prompts matching MLflow's registry filter, by name.

    The server leaves prompts out of a search unless the filter asks for
    ``tags.`mlflow.prompt.is_prompt` = 'true'``. So when the filter does not mention that tag,
    two searches run, the filter as given (models) and the filter AND that tag (prompts), and
    their pages are merged by name; the page token then records where each search stands
    (a Flowdeck token, not the server's). A filter that mentions the tag goes to the server
    alone, with its rules: ``= 'true'`` (or ``!= 'false'``) returns only prompts, any other
    comparison on that tag only models. Pages hold at most 1000 items (the server's limit).
    """
    size = max(1, min(int(max_results), MODELS_PAGE_MAX))
    if mentions_prompt_tag(parse_model_filter(filter_string)):
        return _search(client, filter_string, page_token, size)
    cursors = _decode_cursors(page_token)
    prompts_filter = (
        f"{filter_string.strip()} AND {PROMPT_FILTER}" if filter_string.strip() else PROMPT_FILTER
    )
    streams = {
        "models": _SearchStream(client, filter_string, size, cursors["models"]),
        "prompts": _SearchStream(client, prompts_filter, size, cursors["prompts"]),
    }
    items: list[RegisteredModel] = []
    while len(items) < size:
        heads = [(stream.peek(), stream) for stream in streams.values()]
        live = [(model, stream) for model, stream in heads if model is not None]
        if not live:
            break
        items.append(min(live, key=lambda pair: pair[0].name)[1].pop())
    after = {key: stream.cursor() for key, stream in streams.items()}
    return Page(items, _encode_cursors(after) if any(after.values()) else None)


def _search(
    client: RestClient, filter_string: str, page_token: str | None, size: int
) -> Page[RegisteredModel]:
    params: dict[str, Any] = {"max_results": size}
    if filter_string:
        params["filter"] = filter_string
    items, next_token = client.get_page(SEARCH_ENDPOINT, params, "registered_models", page_token)
    return Page([registered_model(item) for item in items], next_token)


class _SearchStream:
    """One server search read in name order, resumable part-way through a server page."""

    def __init__(
        self, client: RestClient, filter_string: str, size: int, cursor: list[Any] | None
    ) -> None:
        self.client, self.filter_string, self.size = client, filter_string, size
        self.finished = cursor is None
        self.page_token: str | None = cursor[0] if cursor else None
        self.taken: int = cursor[1] if cursor else 0
        self.buffer: list[RegisteredModel] = []
        self.next_token: str | None = None
        self.loaded = False

    def _load(self) -> None:
        page = _search(self.client, self.filter_string, self.page_token, self.size)
        self.buffer, self.next_token = page.items[self.taken :], page.next_token
        self.loaded = True

    def peek(self) -> RegisteredModel | None:
        if self.finished:
            return None
        if not self.loaded:
            self._load()
        seen = {self.page_token}
        while not self.buffer and self.next_token:
            if self.next_token in seen or len(seen) > self.client.max_pages:
                raise EndlessPaging(
                    f"{self.client.base_url} kept sending empty pages of registered models with "
                    "more to come; Flowdeck stopped reading."
                )
            seen.add(self.next_token)
            self.page_token, self.taken = self.next_token, 0
            self._load()
        return self.buffer[0] if self.buffer else None

    def pop(self) -> RegisteredModel:
        self.taken += 1
        return self.buffer.pop(0)

    def cursor(self) -> list[Any] | None:
        """``[server page token, items taken from that page]``, or None when nothing is left."""
        if self.finished:
            return None
        if not self.loaded or self.buffer:
            return [self.page_token, self.taken]
        return [self.next_token, 0] if self.next_token else None


def _encode_cursors(cursors: dict[str, list[Any] | None]) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursors).encode()).decode()


def _decode_cursors(token: str | None) -> dict[str, list[Any] | None]:
    if not token:
        return {"models": [None, 0], "prompts": [None, 0]}
    try:
        cursors = json.loads(base64.urlsafe_b64decode(token))
        for key in ("models", "prompts"):
            cursor = cursors[key]
            if cursor is not None and not (
                isinstance(cursor[0], str | None) and isinstance(cursor[1], int) and cursor[1] >= 0
            ):
                raise ValueError(cursor)
        return cursors
    except Exception as exc:
        raise InvalidFilter(f"Invalid page token {token!r}.") from exc


def model_versions(
    client: RestClient, name: str, page_size: int | None = None
) -> list[ModelVersion]:
    """Every live version of one model, newest first, with tags and aliases."""
    model = client.get("registered-models/get", {"name": name}).get("registered_model") or {}
    aliases = aliases_by_version(_aliases(model))
    filter_string = name_filter(name)
    if registered_model({"name": name, **model}).is_prompt:  # left out of searches unless asked
        filter_string = f"{filter_string} AND {PROMPT_FILTER}"
    params = {"filter": filter_string, "max_results": page_size or VERSIONS_PAGE_MAX}
    versions = []
    for page in client.iter_pages("GET", "model-versions/search", params, "model_versions"):
        for item in page:
            if not is_live(item) or item.get("name") != name:
                continue
            version = int(item["version"])
            tags = key_values(item.get("tags"))
            versions.append(build_model_version(item, tags, aliases.get(version, [])))
    return newest_first(versions)


def all_model_versions(
    client: RestClient,
    state: TaskState | None = None,
    listing: dict[str, dict[str, int]] | None = None,
) -> dict[str, list[ModelVersion]]:
    """Every model's live versions keyed by name, in a handful of requests.

    Aliases come from the registered-models listing (version searches carry none; ``listing``,
    name → aliases, stands in for it when the caller has just made one), versions
    from two unfiltered ``model-versions/search`` reads (models, then prompts, which the server
    leaves out unless asked) in pages of ``VERSIONS_PAGE_MAX``. A server that refuses such a
    search (a lower page limit) gets one ``model_versions`` read per model instead, in pages of
    ``FALLBACK_VERSIONS_PAGE``.
    """
    progress = Progress(state, 3, "Reading model versions")
    if listing is None:
        listing = _listing(client, progress)
    progress.advance()
    aliases = {name: aliases_by_version(listed) for name, listed in listing.items()}
    try:
        items = _all_version_items(client, "", state)
        progress.advance()
        items += _all_version_items(client, PROMPT_FILTER, state)
    except (InvalidFilter, ServerRefused):
        return _per_model(client, list(aliases), state)
    progress.advance()
    found: dict[str, list[ModelVersion]] = {name: [] for name in aliases}
    seen: set[tuple[str, int]] = set()
    for item in items:
        name, version = item.get("name"), int(item["version"])
        if name not in found or (name, version) in seen or not is_live(item):
            continue  # a model created since the listing waits for the next read
        seen.add((name, version))
        tags = key_values(item.get("tags"))
        found[name].append(build_model_version(item, tags, aliases[name].get(version, [])))
    return {name: newest_first(versions) for name, versions in sorted(found.items())}


def _listing(client: RestClient, progress: Progress) -> dict[str, dict[str, int]]:
    listing: dict[str, dict[str, int]] = {}
    token: str | None = None
    seen: set[str] = set()
    while True:
        progress.check()
        page = search_registered_models(client, "", token, MODELS_PAGE_MAX)
        listing.update((model.name, dict(model.aliases)) for model in page.items)
        token = page.next_token
        if not token or not page.items:
            return listing
        if token in seen or len(seen) >= client.max_pages:
            raise EndlessPaging(
                f"{client.base_url} kept sending pages of registered models; Flowdeck stopped "
                "reading."
            )
        seen.add(token)


def _all_version_items(
    client: RestClient, filter_string: str, state: TaskState | None
) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"max_results": VERSIONS_PAGE_MAX}
    if filter_string:
        params["filter"] = filter_string
    items: list[dict[str, Any]] = []
    try:
        for page in client.iter_pages(
            "GET", "model-versions/search", params, "model_versions", state=state
        ):
            items.extend(page)
    except FlowdeckError as error:
        if type(error) in (FlowdeckError, ServerError):  # not auth, permission or network
            raise ServerRefused(str(error)) from error
        raise
    return items


def _per_model(
    client: RestClient, names: list[str], state: TaskState | None
) -> dict[str, list[ModelVersion]]:
    progress = Progress(state, len(names), "Reading model versions")
    found: dict[str, list[ModelVersion]] = {}
    for name in sorted(names):
        progress.check()
        with contextlib.suppress(NotFound):  # deleted since the listing
            found[name] = model_versions(client, name, FALLBACK_VERSIONS_PAGE)
        progress.advance()
    return found
