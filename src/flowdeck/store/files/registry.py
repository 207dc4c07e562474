"""Model registry reads for FileStore: ``<root>/models/<name>/`` folders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flowdeck.core.entities import ModelVersion, Page, RegisteredModel
from flowdeck.core.errors import NotFound
from flowdeck.store.files.fsread import read_bytes, read_text_folder
from flowdeck.store.files.meta import MetaError, parse_meta

# Pure helpers shared with the SQL backend (filter parsing, MLflow's page tokens).
from flowdeck.store.sql.registry import (
    DELETED_STAGE,
    _model_matches,
    _parse_model_filter,
    decode_offset_token,
    encode_offset_token,
    model_id_from_source,
)


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
    """``registered_models`` and ``model_versions`` over the mlruns/ registry folders."""

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
        clauses = _parse_model_filter(filter_string)
        offset = decode_offset_token(page_token)
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
        models = [model for model in models if _model_matches(model, clauses)]
        models.sort(key=lambda model: model.name)
        page = models[offset : offset + max_results]
        more = offset + max_results < len(models)
        return Page(page, encode_offset_token(offset + max_results) if more else None)

    def model_versions(self, name: str) -> list[ModelVersion]:
        """Every live version of one model, newest first, with tags and aliases."""
        folder = os.path.join(self._registry_folder(), name)
        if "/" in name or name in ("", ".", "..") or _meta(folder) is None:
            raise NotFound(f"Registered model '{name}' does not exist.")
        aliases_by_version: dict[int, list[str]] = {}
        for alias, version in _aliases(folder).items():
            aliases_by_version.setdefault(version, []).append(alias)
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
            if meta.get("current_stage") == DELETED_STAGE:
                continue
            version = int(meta.get("version", entry.name.split("-", 1)[1]))
            source = meta.get("source")
            versions.append(
                ModelVersion(
                    name=str(meta.get("name", name)),
                    version=version,
                    creation_time=meta.get("creation_timestamp"),
                    last_updated_time=meta.get("last_updated_timestamp"),
                    current_stage=meta.get("current_stage") or "None",
                    description=meta.get("description"),
                    user_id=meta.get("user_id"),
                    source=source,
                    run_id=meta.get("run_id") or None,
                    status=meta.get("status"),
                    status_message=meta.get("status_message"),
                    run_link=meta.get("run_link") or None,
                    storage_location=meta.get("storage_location") or source,
                    model_id=meta.get("model_id") or model_id_from_source(source),
                    tags=read_text_folder(os.path.join(entry.path, "tags")),
                    aliases=tuple(sorted(aliases_by_version.get(version, []))),
                )
            )
        versions.sort(key=lambda v: v.version, reverse=True)
        return versions
