"""Overview pages of logged models until their full pages arrive."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QTabWidget

from flowdeck.core.addresses import Address, experiment_address, run_address
from flowdeck.core.entities import Experiment, LoggedModel
from flowdeck.store.base import Store
from flowdeck.ui.pages.overview_reads import (
    format_time,
    read_logged_model,
    read_logged_models,
    short_id,
)
from flowdeck.ui.pages.overview_widgets import Cell, LinkButton, OverviewPage, Section
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import page_type

LOGGED_MODELS_NEXT = (
    "The full logged models page will add each model's metrics and params, searching and "
    "sorting, and the registered versions made from them."
)
LOGGED_MODEL_NEXT = (
    "The full logged model page will add its metrics, its artifacts with previews, and the "
    "registered versions made from it."
)


def logged_model_address(model_id: str) -> Address:
    return Address("logged-model", (model_id,))


def _run_cell(run_id: str | None) -> str | Cell:
    return Cell(run_id, run_address(run_id)) if run_id else ""


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
