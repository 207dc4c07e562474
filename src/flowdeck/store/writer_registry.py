"""Model-registry edits of the writer: models, versions, tags, aliases and stages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdeck.core.errors import WriteFailed
from flowdeck.store.writer_core import NOT_FOUND_CODES, Change, GlobalUriClient, WriterCore

STAGES = ("None", "Staging", "Production", "Archived")


def _version_id(name: str, version: str | int) -> str:
    return f"{name}/{version}"


class RegistryWrites(WriterCore):
    """Registered models and their versions, through MLflow's registry client."""

    # --- registered models ---------------------------------------------------------------------

    def create_registered_model(
        self, name: str, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> Change:
        self.write(
            f"create registered model '{name}'",
            lambda: self.client.create_registered_model(
                name, tags=dict(tags or {}), description=description
            ),
        )
        return Change("registered_model", (name,), "create")

    def rename_registered_model(self, name: str, new_name: str) -> Change:
        if self.store.kind == "files":
            self._check_file_rename(name)
        self.write(
            f"rename registered model '{name}'",
            lambda: self.client.rename_registered_model(name, new_name),
        )
        return Change("registered_model", (name, new_name), "rename")

    def _check_file_rename(self, name: str) -> None:
        """MLflow's file registry renames badly (loses aliases, half-renames with version
        tags): refuse before touching anything unless the model carries none of those."""
        self.ensure_writable()
        model = self.call(f"look up '{name}'", lambda: self.client.get_registered_model(name))
        versions = self.call(
            f"look up the versions of '{name}'",
            lambda: self.client.search_model_versions(f"name='{name}'"),
        )
        if model.aliases or model.tags or any(version.tags for version in versions):
            raise WriteFailed(
                f"Could not rename '{name}': MLflow's file store cannot rename a model with "
                "tags or aliases without losing them or leaving both names behind. Remove "
                "them first, or migrate the store to SQLite. Nothing was changed."
            )

    def delete_registered_model(self, name: str) -> Change:
        """Delete a model with all its versions, tags and aliases (MLflow keeps nothing)."""
        self.write(
            f"delete registered model '{name}'",
            lambda: self.client.delete_registered_model(name),
        )
        return Change("registered_model", (name,), "delete")

    def update_registered_model(self, name: str, description: str) -> Change:
        """Replace the model's description."""
        self.write(
            f"update the description of '{name}'",
            lambda: self.client.update_registered_model(name, description=description),
        )
        return Change("registered_model", (name,), "describe")

    def set_registered_model_tag(self, name: str, key: str, value: str) -> Change:
        self.write(
            f"set tag '{key}' on '{name}'",
            lambda: self.client.set_registered_model_tag(name, key, value),
        )
        return Change("registered_model", (name,), "set_tag")

    def delete_registered_model_tag(self, name: str, key: str) -> Change:
        self.write(
            f"delete tag '{key}' of '{name}'",
            lambda: self.client.delete_registered_model_tag(name, key),
        )
        return Change("registered_model", (name,), "delete_tag")

    # --- versions ----------------------------------------------------------------------------------

    def register_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        model_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Change:
        """Register ``runs:/<run_id>/<path>`` or ``models:/m-…`` as a new version of ``name``.

        The registered model is created when it does not exist yet, as ``mlflow.register_model``
        does. ``change.id`` is ``"<name>/<version>"``.
        """
        self.ensure_writable()
        source, run_id, model_id = self._resolve_source(source, run_id, model_id)
        self._create_model_if_missing(name)
        version = self.call(
            f"register a version of '{name}'",
            lambda: self._with_global_uri(model_id is not None).create_model_version(
                name,
                source,
                run_id=run_id,
                tags=dict(tags or {}),
                description=description,
                model_id=model_id,
                await_creation_for=0,
            ),
        )
        return Change("model_version", (_version_id(name, version.version),), "create")

    def _with_global_uri(self, needed: bool) -> Any:
        """The client; MLflow's registries look logged models up via the global tracking URI."""
        if needed and self.store.kind != "rest":
            return GlobalUriClient(self.client, self.store.tracking_uri)
        return self.client

    def _resolve_source(
        self, source: str, run_id: str | None, model_id: str | None
    ) -> tuple[str, str | None, str | None]:
        if source.startswith("runs:/"):
            run_part, _, artifact_path = source[len("runs:/") :].partition("/")
            if run_id and run_id != run_part:
                raise WriteFailed(f"The source {source} belongs to run {run_part}, not {run_id}.")
            run = self.call(f"look up run {run_part}", lambda: self.client.get_run(run_part))
            base = run.info.artifact_uri.rstrip("/")
            resolved = f"{base}/{artifact_path}" if artifact_path else base
            return resolved, run_part, model_id
        if source.startswith("models:/m-"):
            source_model = source[len("models:/") :].split("/", 1)[0]
            if model_id and model_id != source_model:
                raise WriteFailed(f"The source {source} is model {source_model}, not {model_id}.")
            logged = self.call(
                f"look up logged model {source_model}",
                lambda: self.client.get_logged_model(source_model),
            )
            return source, run_id or logged.source_run_id, source_model
        return source, run_id, model_id

    def _create_model_if_missing(self, name: str) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(name)
        except MlflowException as error:
            if error.error_code not in NOT_FOUND_CODES:
                raise WriteFailed(f"Could not look up '{name}': {error.message}") from error
            self.call(
                f"create registered model '{name}'",
                lambda: self.client.create_registered_model(name),
            )

    def update_model_version(self, name: str, version: str | int, description: str) -> Change:
        """Replace a version's description."""
        self.write(
            f"update the description of {name} version {version}",
            lambda: self.client.update_model_version(name, str(version), description=description),
        )
        return Change("model_version", (_version_id(name, version),), "describe")

    def set_model_version_tag(self, name: str, version: str | int, key: str, value: str) -> Change:
        self.write(
            f"set tag '{key}' on {name} version {version}",
            lambda: self.client.set_model_version_tag(name, str(version), key, value),
        )
        return Change("model_version", (_version_id(name, version),), "set_tag")

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> Change:
        self.write(
            f"delete tag '{key}' of {name} version {version}",
            lambda: self.client.delete_model_version_tag(name, str(version), key),
        )
        return Change("model_version", (_version_id(name, version),), "delete_tag")

    def set_alias(self, name: str, alias: str, version: str | int) -> Change:
        """Point ``alias`` at ``version``; MLflow moves it off any other version."""
        self.write(
            f"set alias '{alias}' of '{name}'",
            lambda: self.client.set_registered_model_alias(name, alias, str(version)),
        )
        return Change("registered_model", (name,), "set_alias")

    def delete_alias(self, name: str, alias: str) -> Change:
        self.write(
            f"delete alias '{alias}' of '{name}'",
            lambda: self.client.delete_registered_model_alias(name, alias),
        )
        return Change("registered_model", (name,), "delete_alias")

    def transition_stage(
        self,
        name: str,
        version: str | int,
        stage: str,
        archive_existing_versions: bool = False,
    ) -> Change:
        """Move a version to a stage; optionally archive the others in that stage.

        The change names every version of the model, since archiving may touch them all.
        """
        self.write(
            f"move {name} version {version} to {stage}",
            lambda: self.client.transition_model_version_stage(
                name, str(version), stage, archive_existing_versions=archive_existing_versions
            ),
        )
        return Change("registered_model", (name,), "transition_stage")

    def delete_model_version(self, name: str, version: str | int) -> Change:
        self.write(
            f"delete {name} version {version}",
            lambda: self.client.delete_model_version(name, str(version)),
        )
        return Change("model_version", (_version_id(name, version),), "delete")
