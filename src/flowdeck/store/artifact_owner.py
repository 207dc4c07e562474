"""Whose artifacts an artifact view shows: a run's, or a logged model's (MLflow 3)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flowdeck.core.entities import ArtifactEntry
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store


@dataclass(frozen=True)
class ArtifactOwner:
    """A run (``run_id``) or a logged model (``model_id``) of ``store``, read the same way."""

    store: Store
    run_id: str = ""
    model_id: str = ""

    @property
    def is_model(self) -> bool:
        return bool(self.model_id)

    @property
    def key(self) -> str:
        """The run or model ID (what cache entries and messages are named by)."""
        return self.model_id or self.run_id

    def list(self, path: str = "") -> list[ArtifactEntry]:
        """The direct children of ``path``."""
        if self.is_model:
            return self.store.list_logged_model_artifacts(self.model_id, path)
        return self.store.list_artifacts(self.run_id, path)

    def fetch(self, path: str, state: TaskState | None = None) -> Path:
        """A local file or folder with the artifact (in place, or from the cache)."""
        if self.is_model:
            return self.store.fetch_logged_model_artifact(self.model_id, path, state=state)
        return self.store.fetch_artifact(self.run_id, path, state=state)

    def root_uri(self) -> str | None:
        """The artifact root URI (what Copy URI starts with)."""
        if self.is_model:
            return self.store.logged_model(self.model_id).artifact_location
        return self.store.run(self.run_id).info.artifact_uri

    def tags(self) -> dict[str, str]:
        """The owner's tags (a run's ``mlflow.loggedArtifacts`` says which JSON are tables)."""
        if self.is_model:
            return dict(self.store.logged_model(self.model_id).tags)
        return dict(self.store.run(self.run_id).tags)
