"""The model registry (registered models, versions, aliases, tags) over a tracking server's REST API."""

from __future__ import annotations

import base64
import json
from typing import Any

from flowdeck.core.entities import ModelVersion, Page, RegisteredModel
from flowdeck.core.errors import InvalidFilter
from flowdeck.core.model_versions import (
    aliases_by_version,
    build_model_version,
    is_live,
    newest_first,
)
from flowdeck.core.registry_filter import PROMPT_FILTER, mentions_prompt_tag, parse_model_filter
from flowdeck.store.rest.client import RestClient
from flowdeck.store.rest.runs import key_values

MODELS_PAGE_MAX = 1000
VERSIONS_PAGE_MAX = 200000
SEARCH_ENDPOINT = "registered-models/search"


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
        while not self.buffer and self.next_token:
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


def model_versions(client: RestClient, name: str) -> list[ModelVersion]:
    """Every live version of one model, newest first, with tags and aliases."""
    model = client.get("registered-models/get", {"name": name}).get("registered_model") or {}
    aliases = aliases_by_version(_aliases(model))
    params = {"filter": name_filter(name), "max_results": VERSIONS_PAGE_MAX}
    versions = []
    for page in client.iter_pages("GET", "model-versions/search", params, "model_versions"):
        for item in page:
            if not is_live(item) or item.get("name") != name:
                continue
            version = int(item["version"])
            tags = key_values(item.get("tags"))
            versions.append(build_model_version(item, tags, aliases.get(version, [])))
    return newest_first(versions)
