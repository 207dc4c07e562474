"""Overview pages of the model registry and of logged models until their full pages arrive."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QTabWidget

from flowdeck.core.addresses import Address, experiment_address, model_address, run_address
from flowdeck.core.entities import Experiment, LoggedModel, ModelVersion
from flowdeck.store.base import Store
from flowdeck.ui.pages.overview_reads import (
    LATEST_VERSION_LIMIT,
    ModelRow,
    ModelsView,
    ModelView,
    VersionView,
    first_line,
    format_time,
    read_logged_model,
    read_logged_models,
    read_model,
    read_model_version,
    read_models,
    short_id,
)
from flowdeck.ui.pages.overview_widgets import Cell, LinkButton, OverviewPage, Section
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import page_type

MODELS_NEXT = (
    "The full model registry will add searching models and prompts, their tags, and editing "
    "of descriptions, aliases and tags."
)
MODEL_NEXT = (
    "The full model page will add editing of the description, aliases and tags, stage "
    "transitions, and comparing versions."
)
VERSION_NEXT = (
    "The full version page will add the model's signature and input example, tag and alias "
    "editing, and serving this version locally."
)
LOGGED_MODELS_NEXT = (
    "The full logged models page will add each model's metrics and params, searching and "
    "sorting, and the registered versions made from them."
)
LOGGED_MODEL_NEXT = (
    "The full logged model page will add its metrics, its artifacts with previews, and the "
    "registered versions made from it."
)
REGISTRY_KINDS = ("registered_model", "model_version")


def logged_model_address(model_id: str) -> Address:
    return Address("logged-model", (model_id,))


def _aliases(aliases: dict[str, int] | tuple[str, ...]) -> str:
    if isinstance(aliases, dict):
        return ", ".join(f"@{alias} → v{version}" for alias, version in sorted(aliases.items()))
    return ", ".join(f"@{alias}" for alias in aliases)


def _run_cell(run_id: str | None) -> str | Cell:
    return Cell(run_id, run_address(run_id)) if run_id else ""


class RegistryPage(OverviewPage):
    """A page that refreshes when a registered model or version changes."""

    def shows(self, change: Any) -> bool:
        return change.kind in REGISTRY_KINDS


@page_type
class ModelsPage(RegistryPage):
    """``models``: registered models and, apart, prompts."""

    family = "models"
    read_label = "Reading registered models"
    next_text = MODELS_NEXT

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.set_title("Models")
        self.set_heading("Models")
        headers = ["Name", "Latest version", "Aliases", "Last updated", "Description"]
        self.models = Section("Registered models", self.link_table(headers))
        self.prompts = Section("Prompts", self.link_table(headers))
        self.body_layout.addWidget(self.models, 3)
        self.body_layout.addWidget(self.prompts, 2)

    def start(self) -> None:
        self.read(read_models, on_result=self._show)

    def _show(self, view: ModelsView) -> None:
        for section, rows, noun in (
            (self.models, view.models, "registered models"),
            (self.prompts, view.prompts, "prompts"),
        ):
            section.table.set_rows([self._row(row) for row in rows])
            section.set_caption(f"{noun[0].upper()}{noun[1:]} ({len(rows)})")
            section.set_note("" if rows else f"This store has no {noun}.", hide_table=not rows)
        notes = []
        if view.more:
            notes.append("Only the first 1000 models are listed.")
        if view.latest_skipped:
            notes.append(f"Latest versions are looked up for the first {LATEST_VERSION_LIMIT}.")
        self.set_facts(
            [
                ("Store", self.store.display_name),
                ("Registered models", str(len(view.models))),
                ("Prompts", str(len(view.prompts))),
                ("Note", " ".join(notes)),
            ]
        )

    @staticmethod
    def _row(row: ModelRow) -> list[str | Cell]:
        model = row.model
        latest: str | Cell = ""
        if row.latest is not None:
            latest = Cell(f"v{row.latest}", model_address(model.name, str(row.latest)))
        return [
            Cell(model.name, model_address(model.name)),
            latest,
            _aliases(model.aliases),
            format_time(model.last_updated_time),
            first_line(model.description),
        ]


@page_type
class ModelPage(RegistryPage):
    """``model/<name>``: the model's facts and its versions with their source runs."""

    family = "model"
    read_label = "Reading the model's versions"
    next_text = MODEL_NEXT

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.name = address.first_id
        self.set_title(self.name)
        self.set_heading(self.name)
        headers = ["Version", "Aliases", "Stage", "Status", "Source run", "Created"]
        self.versions = Section("Versions", self.link_table(headers))
        self.body_layout.addWidget(self.versions)

    def start(self) -> None:
        self.read(read_model, self.name, on_result=self._show)

    def _show(self, view: ModelView) -> None:
        model = view.model
        latest = view.versions[0].version if view.versions else None
        self.set_facts(
            [
                ("Kind", "Prompt" if model is not None and model.is_prompt else "Registered model"),
                ("Versions", str(len(view.versions))),
                ("Latest version", f"v{latest}" if latest is not None else ""),
                ("Aliases", _aliases(model.aliases) if model else ""),
                ("Last updated", format_time(model.last_updated_time) if model else ""),
                ("Description", (model.description or "").strip() if model else ""),
            ]
        )
        self.versions.table.set_rows([self._row(version) for version in view.versions])
        self.versions.set_caption(f"Versions ({len(view.versions)})")
        empty = not view.versions
        self.versions.set_note("This model has no versions." if empty else "", hide_table=empty)

    @staticmethod
    def _row(version: ModelVersion) -> list[str | Cell]:
        return [
            Cell(f"v{version.version}", model_address(version.name, str(version.version))),
            _aliases(version.aliases),
            version.current_stage,
            version.status or "",
            _run_cell(version.run_id),
            format_time(version.creation_time),
        ]


@page_type
class ModelVersionPage(RegistryPage):
    """``model/<name>/<version>``: the version's facts with a link to its source run."""

    family = "model-version"
    read_label = "Reading the model version"
    next_text = VERSION_NEXT

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.name, self.version = address.ids[0], address.ids[1]
        self.set_title(f"{self.name} v{self.version}")
        self.set_heading(f"{self.name} v{self.version}")
        self.tags = Section("Tags", self.link_table(["Tag", "Value"]))
        self.body_layout.addWidget(self.tags)

    def start(self) -> None:
        self.read(read_model_version, self.name, self.version, on_result=self._show)

    def _show(self, view: VersionView) -> None:
        version = view.version
        facts: list[tuple[str, Any]] = [
            ("Model", LinkButton(version.name, model_address(version.name))),
            ("Version", str(version.version)),
            ("Aliases", _aliases(version.aliases)),
            ("Stage", version.current_stage),
            ("Status", " — ".join(filter(None, [version.status, version.status_message]))),
        ]
        if version.run_id:
            label = f"{view.run_name} ({version.run_id})" if view.run_name else version.run_id
            facts.append(("Source run", LinkButton(label, run_address(version.run_id))))
        if version.model_id:
            address = logged_model_address(version.model_id)
            facts.append(("Logged model", LinkButton(version.model_id, address)))
        facts += [
            ("Source", version.source or ""),
            ("Created", format_time(version.creation_time)),
            ("Last updated", format_time(version.last_updated_time)),
            ("User", version.user_id or ""),
            ("Description", (version.description or "").strip()),
        ]
        self.set_facts(facts)
        tags = sorted(version.tags.items())
        self.tags.table.set_rows([[key, value] for key, value in tags])
        self.tags.set_caption(f"Tags ({len(tags)})")
        self.tags.set_note("" if tags else "This version has no tags.", hide_table=not tags)


@page_type
class LoggedModelsPage(OverviewPage):
    """``logged-models/<experiment_id>``: the experiment's logged models."""

    family = "logged-models"
    read_label = "Reading logged models"
    next_text = LOGGED_MODELS_NEXT

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.experiment_id = address.first_id
        self.set_title("Logged models")
        self.set_heading("Logged models")
        headers = ["Name", "Model ID", "Status", "Type", "Source run", "Created"]
        self.models = Section("", self.link_table(headers))
        self.body_layout.addWidget(self.models)

    def start(self) -> None:
        self.read(read_logged_models, self.experiment_id, on_result=self._show)

    def _show(self, answer: tuple[Experiment, list[LoggedModel]]) -> None:
        experiment, models = answer
        self.set_heading(f"Logged models — {experiment.name}")
        address = experiment_address([experiment.experiment_id])
        self.set_facts(
            [
                ("Experiment", LinkButton(experiment.name, address)),
                ("Logged models", str(len(models))),
            ]
        )
        self.models.table.set_rows(
            [
                [
                    Cell(model.name, logged_model_address(model.model_id)),
                    model.model_id,
                    model.status,
                    model.model_type or "",
                    _run_cell(model.source_run_id),
                    format_time(model.creation_time),
                ]
                for model in models
            ]
        )
        empty = not models
        self.models.set_note(
            "This experiment has no logged models." if empty else "", hide_table=empty
        )


@page_type
class LoggedModelPage(OverviewPage):
    """``logged-model/<model_id>``: one logged model's facts, params and tags."""

    family = "logged-model"
    read_label = "Reading the logged model"
    next_text = LOGGED_MODEL_NEXT

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.model_id = address.first_id
        self.set_title(short_id(self.model_id))
        self.params = Section("", self.link_table(["Param", "Value"]), inset=True)
        self.tags = Section("", self.link_table(["Tag", "Value"]), inset=True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.params, "Params")
        self.tabs.addTab(self.tags, "Tags")
        self.body_layout.addWidget(self.tabs)

    def start(self) -> None:
        self.read(read_logged_model, self.model_id, on_result=self._show)

    def _show(self, answer: tuple[LoggedModel, str]) -> None:
        model, experiment_name = answer
        self.set_title(model.name or short_id(model.model_id))
        self.set_heading(model.name or model.model_id)
        experiment = LinkButton(
            experiment_name or f"Experiment {model.experiment_id}",
            experiment_address([model.experiment_id]),
        )
        facts: list[tuple[str, Any]] = [
            ("Model ID", model.model_id),
            ("Experiment", experiment),
            ("Status", " — ".join(filter(None, [model.status, model.status_message]))),
            ("Type", model.model_type or ""),
        ]
        if model.source_run_id:
            run = LinkButton(model.source_run_id, run_address(model.source_run_id))
            facts.append(("Source run", run))
        facts += [
            ("Created", format_time(model.creation_time)),
            ("Last updated", format_time(model.last_updated_time)),
            ("Artifact location", model.artifact_location or ""),
        ]
        self.set_facts(facts)
        for index, (section, values, noun) in enumerate(
            ((self.params, model.params, "params"), (self.tags, model.tags, "tags"))
        ):
            items = sorted(values.items())
            section.table.set_rows([[key, value] for key, value in items])
            section.set_note("" if items else f"This model has no {noun}.", hide_table=not items)
            self.tabs.setTabText(index, f"{noun.capitalize()} ({len(items)})")
