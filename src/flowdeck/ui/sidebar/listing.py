"""What the sidebar loads per store: experiments, read-only reason, capabilities and models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowdeck.core.entities import RegisteredModel
from flowdeck.core.errors import FlowdeckError, NotFound
from flowdeck.store.base import Store

DESCRIPTION_TAG = "mlflow.note.content"


@dataclass(frozen=True)
class ExperimentEntry:
    """One experiment as the sidebar shows it."""

    experiment_id: str
    name: str
    deleted: bool
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreListing:
    """What a background load returns for one store."""

    experiments: list[ExperimentEntry]
    read_only_reason: str | None
    capabilities: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ModelsListing:
    """A store's registered models and prompts, each sorted by name."""

    models: list[RegisteredModel]
    prompts: list[RegisteredModel]


def load_listing(state: Any, store: Store) -> StoreListing:
    """Worker-thread body: every experiment (active and deleted), read-only reason, capabilities."""
    records = store.experiment_records(view="all")
    state.check()
    try:
        reason = store.read_only_reason
    except FlowdeckError as error:
        reason = error.message
    try:
        capabilities = frozenset(store.capabilities)
    except FlowdeckError:
        capabilities = frozenset()
    entries = []
    for row in records:
        tags = {str(k): str(v) for k, v in dict(row.get("tags") or {}).items()}
        entries.append(
            ExperimentEntry(
                experiment_id=str(row["experiment_id"]),
                name=str(row["name"]),
                deleted=str(row["lifecycle_stage"]) == "deleted",
                description=tags.get(DESCRIPTION_TAG, ""),
                tags=tags,
            )
        )
    entries.sort(key=lambda entry: (entry.name.casefold(), entry.experiment_id))
    return StoreListing(entries, reason, capabilities)


def load_models(state: Any, store: Store) -> ModelsListing:
    """Worker-thread body: every registered model and prompt, through all pages."""
    found: list[RegisteredModel] = []
    token: str | None = None
    seen: set[str] = set()
    while True:
        page = store.registered_models(page_token=token)
        state.check()
        found.extend(page.items)
        token = page.next_token
        if not token or token in seen:
            break
        seen.add(token)
    found.sort(key=lambda model: (model.name.casefold(), model.name))
    return ModelsListing(
        [model for model in found if not model.is_prompt],
        [model for model in found if model.is_prompt],
    )


def load_latest_versions(state: Any, store: Store, names: list[str]) -> dict[str, int | None]:
    """Worker-thread body: the highest live version of each model (None: it has none).

    Stops at the first error other than a vanished model; the names read so far are returned.
    """
    latest: dict[str, int | None] = {}
    for done, name in enumerate(names):
        state.check()
        try:
            versions = store.model_versions(name)
        except NotFound:
            continue
        except FlowdeckError:
            break
        latest[name] = max((int(version.version) for version in versions), default=None)
        state.progress(done + 1, len(names), "Reading the latest model versions")
    return latest
