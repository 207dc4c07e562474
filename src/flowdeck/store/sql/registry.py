"""Model registry reads for SqlStore: registered models and their live versions."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select

from flowdeck.core.entities import ModelVersion, Page, RegisteredModel
from flowdeck.core.errors import InvalidFilter, NotFound
from flowdeck.store.sql.schema import table_of

DELETED_STAGE = "Deleted_Internal"
DEFAULT_WORKSPACE = "default"


def encode_offset_token(offset: int) -> str:
    """MLflow's page token format: base64 of ``{"offset": N}``."""
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_offset_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.b64decode(token))["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(offset)
        return offset
    except Exception as exc:
        raise InvalidFilter(f"Invalid page token {token!r}.") from exc


def model_id_from_source(source: str | None) -> str | None:
    """``m-…`` when the source is a logged-model URI ``models:/m-…`` (one path segment)."""
    if source and source.startswith("models:/"):
        rest = source[len("models:/") :].strip("/")
        if rest.startswith("m-") and "/" not in rest:
            return rest
    return None


def _parse_model_filter(filter_string: str) -> list[dict[str, Any]]:
    if not filter_string or not filter_string.strip():
        return []
    from mlflow.utils.search_utils import SearchModelUtils  # slow import: keep it lazy

    try:
        parsed = SearchModelUtils.parse_search_filter(filter_string)
    except Exception as exc:
        raise InvalidFilter(f"Invalid model filter: {getattr(exc, 'message', exc)}") from exc
    for clause in parsed:
        clause["comparator"] = clause["comparator"].upper()
        allowed = ("=", "!=", "LIKE", "ILIKE") + (("IN", "NOT IN") if clause["type"] != "tag" else ())
        if clause["type"] == "attribute" and clause["key"] != "name":
            raise InvalidFilter(f"Invalid attribute name: {clause['key']}")
        if clause["type"] not in ("attribute", "tag") or clause["comparator"] not in allowed:
            raise InvalidFilter(f"Invalid comparator for {clause['type']}: {clause['comparator']}")
    return parsed


def _model_matches(model: RegisteredModel, clauses: list[dict[str, Any]]) -> bool:
    from flowdeck.core.trace_filter import compare

    for clause in clauses:
        lhs = model.name if clause["type"] == "attribute" else model.tags.get(clause["key"])
        if not compare(lhs, clause["comparator"], clause["value"]):
            return False
    return True


class SqlRegistryMixin:
    """Registry methods of SqlStore: ``registered_models`` and ``model_versions``.

    Uses ``self.engine`` (a read-only SQLAlchemy Engine) and ``self.schema`` (a ``SqlSchema``
    with ``has_table``/``has_column``/``revision``) provided by ``SqlStore``.
    """

    engine: Any
    schema: Any

    def _registry_table(self, name: str, *columns: str):
        present = [c for c in columns if self.schema.has_column(name, c)]
        return table_of(name, *present)

    def _workspace_clause(self, table: Any) -> list[Any]:
        if "workspace" in table.c:
            return [table.c.workspace == DEFAULT_WORKSPACE]
        return []

    def _has_registry(self) -> bool:
        return self.schema.has_table("registered_models") and self.schema.has_table(
            "model_versions"
        )

    def registered_models(
        self, filter_string: str = "", page_token: str | None = None, max_results: int = 1000
    ) -> Page[RegisteredModel]:
        """Registered models (prompts included) matching MLflow's model filter, by name."""
        clauses = _parse_model_filter(filter_string)
        offset = decode_offset_token(page_token)
        if not self._has_registry():
            return Page([], None)
        models = self._registry_table(
            "registered_models", "name", "creation_time", "last_updated_time", "description",
            "workspace",
        )
        tags = self._registry_table("registered_model_tags", "name", "key", "value", "workspace")
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(models).where(*self._workspace_clause(models)).order_by(models.c.name)
            ).mappings().all()
            tag_rows = connection.execute(
                select(tags.c.name, tags.c.key, tags.c.value).where(*self._workspace_clause(tags))
            ).all() if self.schema.has_table("registered_model_tags") else []
            alias_rows = self._alias_rows(connection, None)
        tags_by_model: dict[str, dict[str, str]] = {}
        for name, key, value in tag_rows:
            tags_by_model.setdefault(name, {})[key] = value
        aliases_by_model: dict[str, dict[str, int]] = {}
        for name, alias, version in alias_rows:
            aliases_by_model.setdefault(name, {})[alias] = int(version)
        result = [
            RegisteredModel(
                name=row["name"],
                creation_time=row.get("creation_time"),
                last_updated_time=row.get("last_updated_time"),
                description=row.get("description"),
                tags=tags_by_model.get(row["name"], {}),
                aliases=aliases_by_model.get(row["name"], {}),
            )
            for row in rows
        ]
        result = [model for model in result if _model_matches(model, clauses)]
        result.sort(key=lambda model: model.name)
        page = result[offset : offset + max_results]
        more = offset + max_results < len(result)
        return Page(page, encode_offset_token(offset + max_results) if more else None)

    def _alias_rows(self, connection: Any, name: str | None) -> list[Any]:
        if not self.schema.has_table("registered_model_aliases"):
            return []
        aliases = self._registry_table(
            "registered_model_aliases", "name", "alias", "version", "workspace"
        )
        query = select(aliases.c.name, aliases.c.alias, aliases.c.version).where(
            *self._workspace_clause(aliases)
        )
        if name is not None:
            query = query.where(aliases.c.name == name)
        return list(connection.execute(query).all())

    def model_versions(self, name: str) -> list[ModelVersion]:
        """Every live version of one model (never soft-deleted ones), newest first."""
        if not self._has_registry():
            raise NotFound(f"Registered model {name!r} does not exist.")
        models = self._registry_table("registered_models", "name", "workspace")
        versions = self._registry_table(
            "model_versions", "name", "version", "creation_time", "last_updated_time",
            "description", "user_id", "current_stage", "source", "run_id", "status",
            "status_message", "run_link", "storage_location", "workspace",
        )
        tags = self._registry_table(
            "model_version_tags", "name", "version", "key", "value", "workspace"
        )
        with self.engine.connect() as connection:
            exists = connection.execute(
                select(models.c.name).where(models.c.name == name, *self._workspace_clause(models))
            ).first()
            if exists is None:
                raise NotFound(f"Registered model {name!r} does not exist.")
            rows = connection.execute(
                select(versions)
                .where(
                    versions.c.name == name,
                    or_(
                        versions.c.current_stage.is_(None),
                        versions.c.current_stage != DELETED_STAGE,
                    ),
                    *self._workspace_clause(versions),
                )
                .order_by(versions.c.version.desc())
            ).mappings().all()
            tag_rows = connection.execute(
                select(tags.c.version, tags.c.key, tags.c.value).where(
                    tags.c.name == name, *self._workspace_clause(tags)
                )
            ).all() if self.schema.has_table("model_version_tags") else []
            alias_rows = self._alias_rows(connection, name)
        tags_by_version: dict[int, dict[str, str]] = {}
        for version, key, value in tag_rows:
            tags_by_version.setdefault(int(version), {})[key] = value
        aliases_by_version: dict[int, list[str]] = {}
        for _name, alias, version in alias_rows:
            aliases_by_version.setdefault(int(version), []).append(alias)
        return [self._model_version(row, tags_by_version, aliases_by_version) for row in rows]

    @staticmethod
    def _model_version(
        row: Mapping[str, Any],
        tags_by_version: Mapping[int, dict[str, str]],
        aliases_by_version: Mapping[int, list[str]],
    ) -> ModelVersion:
        version = int(row["version"])
        source = row.get("source")
        return ModelVersion(
            name=row["name"],
            version=version,
            creation_time=row.get("creation_time"),
            last_updated_time=row.get("last_updated_time"),
            current_stage=row.get("current_stage") or "None",
            description=row.get("description"),
            user_id=row.get("user_id"),
            source=source,
            run_id=row.get("run_id") or None,
            status=row.get("status"),
            status_message=row.get("status_message"),
            run_link=row.get("run_link") or None,
            storage_location=row.get("storage_location") or source,
            model_id=model_id_from_source(source),
            tags=tags_by_version.get(version, {}),
            aliases=tuple(sorted(aliases_by_version.get(version, []))),
        )
