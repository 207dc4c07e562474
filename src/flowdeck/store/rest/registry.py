"""The model registry (registered models, versions, aliases, tags) over a tracking server's REST API."""

from __future__ import annotations

from typing import Any

from flowdeck.core.entities import ModelVersion, Page, RegisteredModel
from flowdeck.store.rest.client import RestClient
from flowdeck.store.rest.runs import key_values

MODELS_PAGE_MAX = 1000
VERSIONS_PAGE_MAX = 200000
DELETED_STAGE = "Deleted_Internal"


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
    """One page of registered models matching MLflow's registry filter grammar."""
    params: dict[str, Any] = {"max_results": max(1, min(int(max_results), MODELS_PAGE_MAX))}
    if filter_string:
        params["filter"] = filter_string
    if page_token:
        params["page_token"] = page_token
    data = client.get("registered-models/search", params)
    items = [registered_model(item) for item in data.get("registered_models") or ()]
    return Page(items, data.get("next_page_token") or None)


def _model_id(item: dict[str, Any]) -> str | None:
    if item.get("model_id"):
        return str(item["model_id"])
    source = item.get("source") or ""
    if source.startswith("models:/m-") and "/" not in source[len("models:/") :]:
        return source[len("models:/") :]
    return None


def model_version(item: dict[str, Any], aliases: dict[int, tuple[str, ...]]) -> ModelVersion:
    version = int(item["version"])
    return ModelVersion(
        name=item["name"],
        version=version,
        creation_time=item.get("creation_timestamp"),
        last_updated_time=item.get("last_updated_timestamp"),
        current_stage=item.get("current_stage") or "None",
        description=item.get("description"),
        user_id=item.get("user_id"),
        source=item.get("source"),
        run_id=item.get("run_id") or None,
        status=item.get("status"),
        status_message=item.get("status_message"),
        run_link=item.get("run_link") or None,
        storage_location=item.get("storage_location"),
        model_id=_model_id(item),
        tags=key_values(item.get("tags")),
        aliases=tuple(sorted(aliases.get(version, ()))),
    )


def model_versions(client: RestClient, name: str) -> list[ModelVersion]:
    """Every live version of one model, newest first, with tags and aliases."""
    model = client.get("registered-models/get", {"name": name}).get("registered_model") or {}
    by_version: dict[int, list[str]] = {}
    for alias, version in _aliases(model).items():
        by_version.setdefault(version, []).append(alias)
    aliases = {version: tuple(names) for version, names in by_version.items()}
    params = {"filter": name_filter(name), "max_results": VERSIONS_PAGE_MAX}
    versions = []
    for page in client.iter_pages("GET", "model-versions/search", params, "model_versions"):
        for item in page:
            if item.get("current_stage") == DELETED_STAGE or item.get("name") != name:
                continue
            versions.append(model_version(item, aliases))
    versions.sort(key=lambda version: version.version, reverse=True)
    return versions
