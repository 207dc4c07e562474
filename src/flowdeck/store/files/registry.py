"""Model registry reads for FileStore: ``<root>/models/<name>/`` folders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flowdeck.core.entities import ModelVersion, Page, RegisteredModel
from flowdeck.core.errors import NotFound
from flowdeck.core.model_versions import (
    aliases_by_version,
    build_model_version,
    is_live,
    newest_first,
)
from flowdeck.core.registry_filter import filter_models
from flowdeck.core.task_state import TaskState
from flowdeck.store.files.fsread import parallel_map, read_bytes, read_text_folder
from flowdeck.store.files.meta import MetaError, parse_meta
from flowdeck.store.progress import Progress


def _meta(folder: str) -> dict[str, Any] | None:
    try:
        return parse_meta(read_bytes(os.path.join(folder, "meta.yaml")))
    except (OSError, MetaError):
        return None


def _aliases(model_folder: str) -> dict[str, int]:
    found = {}
    for alias, text in read_text_folder(os.path.join(model_folder, "aliases")).items():
        try:
            found[alias] = int(text.strip())
        except ValueError:
            continue
    return found


class FileRegistryMixin:
    """``registered_models``, ``model_versions`` and ``all_model_versions`` over the mlruns/
    registry folders."""

    root: Path

    def note_problem(self, where: str, text: str) -> None:  # provided by FileStore
        raise NotImplementedError

    def _registry_folder(self) -> str:
        self.check_root()  # type: ignore[attr-defined]
        return os.path.join(self.root, "models")

    def registered_models(
        self, filter_string: str = "", page_token: str | None = None, max_results: int = 1000
    ) -> Page[RegisteredModel]:
        """Registered models (prompts included) matching MLflow's model filter, by name."""
        models = []
        folder = self._registry_folder()
        entries = sorted(os.scandir(folder), key=lambda e: e.name) if os.path.isdir(folder) else []
        for entry in entries:
            if not entry.is_dir():
                continue
            meta = _meta(entry.path)
            if meta is None:
                self.note_problem(
                    f"registry:{entry.name}",
                    f"Registered model folder {entry.name}: meta.yaml is missing or damaged; "
                    "skipped.",
                )
                continue
            models.append(
                RegisteredModel(
                    name=str(meta.get("name", entry.name)),
                    creation_time=meta.get("creation_timestamp"),
                    last_updated_time=meta.get("last_updated_timestamp"),
                    description=meta.get("description"),
                    tags=read_text_folder(os.path.join(entry.path, "tags")),
                    aliases=_aliases(entry.path),
                )
            )
        return filter_models(models, filter_string, page_token, max_results)

    def model_versions(self, name: str) -> list[ModelVersion]:
        """Every live version of one model, newest first, with tags and aliases."""
        folder = os.path.join(self._registry_folder(), name)
        if "/" in name or name in ("", ".", "..") or _meta(folder) is None:
            raise NotFound(f"Registered model '{name}' does not exist.")
        return self._folder_versions(folder, name)

    def all_model_versions(
        self, *, state: TaskState | None = None
    ) -> dict[str, list[ModelVersion]]:
        """Every model's live versions keyed by name, model folders read in parallel."""
        folder = self._registry_folder()
        entries = sorted(os.scandir(folder), key=lambda e: e.name) if os.path.isdir(folder) else []
        models = []
        for entry in entries:
            meta = _meta(entry.path) if entry.is_dir() else None
            if meta is not None:  # registered_models() notes the damaged ones
                models.append((str(meta.get("name", entry.name)), entry.path))
        progress = Progress(state, len(models), "Reading model versions")
        progress.check()
        listed = parallel_map(
            lambda model: self._folder_versions(model[1], model[0]),
            models,
            getattr(self, "workers", 1),
            state,
            progress.advance,
        )
        return {name: versions for (name, _path), versions in zip(models, listed, strict=True)}

    def _folder_versions(self, folder: str, name: str) -> list[ModelVersion]:
        aliases = aliases_by_version(_aliases(folder))
        versions = []
        for entry in os.scandir(folder):
            if not (entry.is_dir() and entry.name.startswith("version-")):
                continue
            meta = _meta(entry.path)
            if meta is None:
                self.note_problem(
                    f"registry:{name}:{entry.name}",
                    f"Model '{name}' {entry.name}: meta.yaml is missing or damaged; skipped.",
                )
                continue
            if not is_live(meta):
                continue
            version = int(meta.get("version", entry.name.split("-", 1)[1]))
            record = {**meta, "name": meta.get("name", name), "version": version}
            tags = read_text_folder(os.path.join(entry.path, "tags"))
            versions.append(build_model_version(record, tags, aliases.get(version, [])))
        return newest_first(versions)
