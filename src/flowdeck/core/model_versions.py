"""ModelVersion entities built the same way from any backend's record, and their ordering."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flowdeck.core.entities import ModelVersion

DELETED_STAGE = "Deleted_Internal"


def model_id_from_source(source: str | None) -> str | None:
    """``m-…`` when the source is a logged-model URI ``models:/m-…`` (one path segment)."""
    if source and source.startswith("models:/"):
        rest = source[len("models:/") :].strip("/")
        if rest.startswith("m-") and "/" not in rest:
            return rest
    return None


def is_live(record: Mapping[str, Any]) -> bool:
    """False for a version MLflow has soft-deleted (stage ``Deleted_Internal``)."""
    return record.get("current_stage") != DELETED_STAGE


def aliases_by_version(aliases: Mapping[str, int]) -> dict[int, list[str]]:
    """``{alias: version}`` turned around: the aliases that point at each version."""
    found: dict[int, list[str]] = {}
    for alias, version in aliases.items():
        found.setdefault(int(version), []).append(alias)
    return found


def build_model_version(
    record: Mapping[str, Any], tags: Mapping[str, str], aliases: Iterable[str]
) -> ModelVersion:
    """A ModelVersion from MLflow's field names (``creation_timestamp``, ``source``, …).

    A missing storage location falls back to the source (older schemas have no such field);
    a missing ``model_id`` is read from a ``models:/m-…`` source.
    """
    source = record.get("source")
    return ModelVersion(
        name=str(record["name"]),
        version=int(record["version"]),
        creation_time=record.get("creation_timestamp"),
        last_updated_time=record.get("last_updated_timestamp"),
        current_stage=record.get("current_stage") or "None",
        description=record.get("description"),
        user_id=record.get("user_id"),
        source=source,
        run_id=record.get("run_id") or None,
        status=record.get("status"),
        status_message=record.get("status_message"),
        run_link=record.get("run_link") or None,
        storage_location=record.get("storage_location") or source,
        model_id=record.get("model_id") or model_id_from_source(source),
        tags=dict(tags),
        aliases=tuple(sorted(aliases)),
    )


def newest_first(versions: Iterable[ModelVersion]) -> list[ModelVersion]:
    """Versions ordered from the highest version number down."""
    return sorted(versions, key=lambda version: version.version, reverse=True)
