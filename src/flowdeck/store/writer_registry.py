"""Model-registry edits of the writer: models, versions, tags, aliases and stages."""

from __future__ import annotations

import getpass
import time
from collections.abc import Mapping, Sequence
from typing import Any

from flowdeck.core.entities import ModelVersion
from flowdeck.core.errors import PromotionConflict, WriteFailed
from flowdeck.core.model_versions import aliases_by_version, build_model_version
from flowdeck.core.promotion import PromotionTarget
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

    # --- promotion ----------------------------------------------------------------------------

    def promote(
        self,
        name: str,
        version: str | int,
        target: PromotionTarget,
        note: str,
        expected_holder: int | Sequence[int] | None,
        *,
        user: str | None = None,
    ) -> Change:
        """Move ``target`` (alias or stage) to ``version`` and record it on the version.

        The model is re-read first: when the versions holding the target are not
        ``expected_holder`` (the plan's ``holders``), ``PromotionConflict`` names the holder
        now and nothing is written. The record is a ``flowdeck.promotion.<ms>`` tag (see
        ``core.promotion_history``) signed by ``user`` (the login name when None).
        """
        from flowdeck.core.promotion import plan_promotion
        from flowdeck.core.promotion_history import promotion_tags, record_key

        if not note.strip():
            raise WriteFailed("A promotion needs a note saying why. Nothing was changed.")
        self.ensure_writable()
        plan = plan_promotion(self._current_versions(name), int(version), target)
        expected = _holder_tuple(expected_holder)
        if plan.holders != expected:
            raise PromotionConflict(
                f"Could not promote {name} v{version} to {target.label}: "
                f"{_holders_text(plan.holders)} now, but the plan showed "
                f"{_listed(expected) or 'no holder'}. Someone changed it meanwhile; nothing "
                "was changed. Review the new plan."
            )
        if plan.problem:
            raise WriteFailed(f"{plan.problem} Nothing was changed.")
        if plan.no_op:
            raise WriteFailed(f"{plan.effects[0]} Nothing was changed.")
        when = int(time.time() * 1000)
        while record_key(when) in plan.candidate.tags:
            when += 1
        tags = promotion_tags(
            user or _login_name(), when, target, plan.holder_versions, note.strip()
        )
        if target.alias is not None:
            self.set_alias(name, target.alias, version)
        else:
            self.transition_stage(name, version, str(target.stage), target.archive_existing)
        for key, value in tags.items():
            self.call(
                f"record the promotion on {name} version {version} (the {target.label} "
                "change itself was made)",
                lambda key=key, value=value: self.client.set_model_version_tag(
                    name, str(version), key, value
                ),
            )
        return Change("model_version", (_version_id(name, version),), "promote")

    def _current_versions(self, name: str) -> list[ModelVersion]:
        """The model's versions as MLflow's client returns them now, aliases included."""
        model = self.call(f"look up '{name}'", lambda: self.client.get_registered_model(name))
        aliases = aliases_by_version({a: int(v) for a, v in (model.aliases or {}).items()})
        records: list[Any] = []
        token: str | None = None
        while True:
            page = self.call(
                f"look up the versions of '{name}'",
                lambda token=token: self.client.search_model_versions(
                    f"name='{name}'", page_token=token
                ),
            )
            records.extend(page)
            token = page.token
            if not token:
                break
        return [
            build_model_version(
                {field: getattr(record, field, None) for field in _VERSION_FIELDS},
                record.tags or {},
                aliases.get(int(record.version), ()),
            )
            for record in records
        ]


_VERSION_FIELDS = (
    "name",
    "version",
    "creation_timestamp",
    "last_updated_timestamp",
    "current_stage",
    "description",
    "user_id",
    "source",
    "run_id",
    "status",
    "status_message",
    "run_link",
    "storage_location",
    "model_id",
)


def _holder_tuple(holder: int | Sequence[int] | None) -> tuple[int, ...]:
    if holder is None:
        return ()
    if isinstance(holder, int | str):
        return (int(holder),)
    return tuple(sorted(int(item) for item in holder))


def _listed(holders: tuple[int, ...]) -> str:
    return ", ".join(f"v{item}" for item in holders)


def _holders_text(holders: tuple[int, ...]) -> str:
    if not holders:
        return "no version holds it"
    return f"{_listed(holders)} {'holds' if len(holders) == 1 else 'hold'} it"


def _login_name() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return None
