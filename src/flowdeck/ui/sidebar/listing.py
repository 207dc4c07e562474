"""What the sidebar loads per store: its experiments (active and deleted) and read-only reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowdeck.core.errors import FlowdeckError
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


def load_listing(state: Any, store: Store) -> StoreListing:
    """Worker-thread body: every experiment (active and deleted) and the read-only reason."""
    frame = store.experiments(view="all")
    state.check()
    try:
        reason = store.read_only_reason
    except FlowdeckError as error:
        reason = error.message
    entries = []
    for row in frame.itertuples(index=False):
        tags = {str(k): str(v) for k, v in dict(getattr(row, "tags", None) or {}).items()}
        entries.append(
            ExperimentEntry(
                experiment_id=str(row.experiment_id),
                name=str(row.name),
                deleted=str(row.lifecycle_stage) == "deleted",
                description=tags.get(DESCRIPTION_TAG, ""),
                tags=tags,
            )
        )
    entries.sort(key=lambda entry: (entry.name.casefold(), entry.experiment_id))
    return StoreListing(entries, reason)
