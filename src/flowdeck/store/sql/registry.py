"""Model registry reads for SqlStore: registered models and their live versions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import or_, select

from flowdeck.core.entities import ModelVersion, Page, RegisteredModel
from flowdeck.core.errors import NotFound
from flowdeck.core.model_versions import DELETED_STAGE, build_model_version, newest_first
from flowdeck.core.registry_filter import filter_models
from flowdeck.core.task_state import TaskState
from flowdeck.store.progress import Progress

DEFAULT_WORKSPACE = "default"


class SqlRegistryMixin:
    """Registry methods of SqlStore: ``registered_models``, ``model_versions`` and
    ``all_model_versions``.

    Uses ``self.connect()`` (a read-only connection whose driver errors become typed errors)
    and ``self.schema`` (a ``SqlSchema`` with ``has_table``/``has_column``/``revision``)
    provided by ``SqlStore``.
    """

    connect: Callable[[], AbstractContextManager[Any]]
    schema: Any

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
        if not self._has_registry():
            return filter_models([], filter_string, page_token, max_results)
        models = self.schema.present_table(
            "registered_models",
            "name",
            "creation_time",
            "last_updated_time",
            "description",
            "workspace",
        )
        tags = self.schema.present_table(
            "registered_model_tags", "name", "key", "value", "workspace"
        )
        with self.connect() as connection:
            rows = (
                connection.execute(
                    select(models).where(*self._workspace_clause(models)).order_by(models.c.name)
                )
                .mappings()
                .all()
            )
            tag_rows = (
                connection.execute(
                    select(tags.c.name, tags.c.key, tags.c.value).where(
                        *self._workspace_clause(tags)
                    )
                ).all()
                if self.schema.has_table("registered_model_tags")
                else []
            )
            alias_rows = self._alias_rows(connection, None)
        tags_by_model: dict[str, dict[str, str]] = {}
        for name, key, value in tag_rows:
            tags_by_model.setdefault(name, {})[key] = value
        aliases_by_model: dict[str, dict[str, int]] = {}
        for name, alias, version in alias_rows:
            aliases_by_model.setdefault(name, {})[alias] = int(version)
        models_found = [
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
        return filter_models(models_found, filter_string, page_token, max_results)

    def _alias_rows(self, connection: Any, name: str | None) -> list[Any]:
        if not self.schema.has_table("registered_model_aliases"):
            return []
        aliases = self.schema.present_table(
            "registered_model_aliases", "name", "alias", "version", "workspace"
        )
        query = select(aliases.c.name, aliases.c.alias, aliases.c.version).where(
            *self._workspace_clause(aliases)
        )
        if name is not None:
            query = query.where(aliases.c.name == name)
        return list(connection.execute(query).all())

    def _version_tables(self) -> tuple[Any, Any]:
        """The ``model_versions`` and ``model_version_tags`` tables, with the columns present."""
        versions = self.schema.present_table(
            "model_versions",
            "name",
            "version",
            "creation_time",
            "last_updated_time",
            "description",
            "user_id",
            "current_stage",
            "source",
            "run_id",
            "status",
            "status_message",
            "run_link",
            "storage_location",
            "workspace",
        )
        tags = self.schema.present_table(
            "model_version_tags", "name", "version", "key", "value", "workspace"
        )
        return versions, tags

    def _live_versions_query(self, versions: Any) -> Any:
        return select(versions).where(
            or_(
                versions.c.current_stage.is_(None),
                versions.c.current_stage != DELETED_STAGE,
            ),
            *self._workspace_clause(versions),
        )

    def model_versions(self, name: str) -> list[ModelVersion]:
        """Every live version of one model (never soft-deleted ones), newest first."""
        if not self._has_registry():
            raise NotFound(f"Registered model {name!r} does not exist.")
        models = self.schema.present_table("registered_models", "name", "workspace")
        versions, tags = self._version_tables()
        with self.connect() as connection:
            exists = connection.execute(
                select(models.c.name).where(models.c.name == name, *self._workspace_clause(models))
            ).first()
            if exists is None:
                raise NotFound(f"Registered model {name!r} does not exist.")
            rows = (
                connection.execute(
                    self._live_versions_query(versions)
                    .where(versions.c.name == name)
                    .order_by(versions.c.version.desc())
                )
                .mappings()
                .all()
            )
            tag_rows = (
                connection.execute(
                    select(tags.c.name, tags.c.version, tags.c.key, tags.c.value).where(
                        tags.c.name == name, *self._workspace_clause(tags)
                    )
                ).all()
                if self.schema.has_table("model_version_tags")
                else []
            )
            alias_rows = self._alias_rows(connection, name)
        found = _build_versions(rows, tag_rows, alias_rows)
        return found.get(name, [])

    def all_model_versions(
        self, *, state: TaskState | None = None
    ) -> dict[str, list[ModelVersion]]:
        """Every model's live versions keyed by name, in four queries (see ``Store``)."""
        if not self._has_registry():
            return {}
        models = self.schema.present_table("registered_models", "name", "workspace")
        versions, tags = self._version_tables()
        progress = Progress(state, 4, "Reading model versions")
        with self.connect() as connection:
            progress.check()
            names = connection.execute(
                select(models.c.name).where(*self._workspace_clause(models))
            ).scalars()
            found: dict[str, list[ModelVersion]] = {str(name): [] for name in names}
            progress.advance()
            rows = connection.execute(self._live_versions_query(versions)).mappings().all()
            progress.advance()
            tag_rows = (
                connection.execute(
                    select(tags.c.name, tags.c.version, tags.c.key, tags.c.value).where(
                        *self._workspace_clause(tags)
                    )
                ).all()
                if self.schema.has_table("model_version_tags")
                else []
            )
            progress.advance()
            alias_rows = self._alias_rows(connection, None)
            progress.advance()
        for name, listed in _build_versions(rows, tag_rows, alias_rows).items():
            if name in found:  # a version whose model row is missing is not shown anywhere
                found[name] = listed
        return dict(sorted(found.items()))


def _build_versions(
    rows: Sequence[Any], tag_rows: Sequence[Any], alias_rows: Sequence[Any]
) -> dict[str, list[ModelVersion]]:
    """Version rows with their tags and aliases, grouped by model name, newest first."""
    tags_by_version: dict[tuple[str, int], dict[str, str]] = {}
    for name, version, key, value in tag_rows:
        tags_by_version.setdefault((name, int(version)), {})[key] = value
    aliases_by_version: dict[tuple[str, int], list[str]] = {}
    for name, alias, version in alias_rows:
        aliases_by_version.setdefault((name, int(version)), []).append(alias)
    found: dict[str, list[ModelVersion]] = {}
    for row in rows:
        key = (row["name"], int(row["version"]))
        record = {
            **row,
            "creation_timestamp": row.get("creation_time"),
            "last_updated_timestamp": row.get("last_updated_time"),
        }
        found.setdefault(key[0], []).append(
            build_model_version(
                record, tags_by_version.get(key, {}), aliases_by_version.get(key, [])
            )
        )
    return {name: newest_first(listed) for name, listed in found.items()}
