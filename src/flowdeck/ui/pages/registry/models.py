"""The ``models`` page: registered models searchable in MLflow's filter grammar, prompts apart."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QSplitter, QWidget

from flowdeck.core.addresses import Address, model_address
from flowdeck.core.errors import InvalidFilter
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_time
from flowdeck.store.base import Store
from flowdeck.ui.labels import plain_label
from flowdeck.ui.pages.overview_widgets import OverviewPage, Section
from flowdeck.ui.pages.registry.reads import ModelSummary, ModelsView, read_models
from flowdeck.ui.pages.registry.tables import Link, LinkView, Row
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import page_type

REGISTRY_KINDS = ("registered_model", "model_version")
MODEL_HEADERS = (
    "Name",
    "Latest version",
    "Aliases",
    "Versions per stage",
    "Tags",
    "Last updated",
    "Description",
)
MODEL_WIDTHS = (220, 100, 160, 170, 160, 150)
PROMPT_HEADERS = ("Name", "Latest version", "Template", "Aliases", "Last updated", "Description")
PROMPT_WIDTHS = (200, 100, 320, 140, 150)
FILTER_HINT = "Filter, e.g.  name LIKE '%clf%'  or  tags.team = 'vision'  (Enter applies)"


def read_or_reject(
    state: TaskState, store: Store, filter_string: str
) -> ModelsView | InvalidFilter:
    """The models, or the filter's error to show beside the search box."""
    try:
        return read_models(state, store, filter_string)
    except InvalidFilter as error:
        return error


def _latest(row: ModelSummary) -> str | Link:
    if row.latest is None:
        return ""
    return Link(f"v{row.latest}", model_address(row.name, str(row.latest)))


def model_row(row: ModelSummary) -> Row:
    return Row(
        cells=(
            Link(row.name, model_address(row.name)),
            _latest(row),
            row.aliases,
            row.stages,
            row.tags,
            format_time(row.last_updated),
            row.description,
        ),
        keys=(
            row.name,
            row.latest,
            row.aliases,
            row.stages,
            row.tags,
            row.last_updated,
            row.description,
        ),
    )


def prompt_row(row: ModelSummary) -> Row:
    return Row(
        cells=(
            Link(row.name, model_address(row.name)),
            _latest(row),
            row.template,
            row.aliases,
            format_time(row.last_updated),
            row.description,
        ),
        keys=(row.name, row.latest, row.template, row.aliases, row.last_updated, row.description),
    )


@page_type
class ModelsPage(OverviewPage):
    """``models[?filter=…]``: every registered model, sortable, and prompts in their own list."""

    family = "models"
    read_label = "Reading registered models"

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.set_title("Models")
        self.set_heading("Models")
        self.search = QLineEdit(address.filter)
        self.search.setPlaceholderText(FILTER_HINT)
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self.apply_filter)
        apply = QPushButton("Search")
        apply.clicked.connect(self.apply_filter)
        search_row = QWidget()
        row_layout = QHBoxLayout(search_row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.search, 1)
        row_layout.addWidget(apply)
        self.filter_message = plain_label(wrap=True)
        self.filter_message.hide()
        self.models = Section("Registered models", self._view(MODEL_HEADERS))
        self.prompts = Section("Prompts", self._view(PROMPT_HEADERS))
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.models)
        splitter.addWidget(self.prompts)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        self.body_layout.addWidget(search_row)
        self.body_layout.addWidget(self.filter_message)
        self.body_layout.addWidget(splitter, 1)

    def _view(self, headers: tuple[str, ...]) -> LinkView:
        view = LinkView(headers, sortable=True)
        view.open_requested.connect(self.open_requested.emit)
        return view

    def start(self) -> None:
        self.read(read_or_reject, self.address.filter, on_result=self._show)

    def apply_filter(self) -> None:
        text = self.search.text().strip()
        self.read(read_or_reject, text, on_result=lambda view: self._show(view, text))

    def _show(self, view: ModelsView | InvalidFilter, text: str | None = None) -> None:
        if isinstance(view, InvalidFilter):
            # The tab keeps the last filter that worked: a bad one never becomes its address.
            self.filter_message.setText(view.message)
            self.filter_message.show()
            return
        if text is not None and text != self.address.filter:
            self.address = Address("models", filter=text)
            self.address_changed.emit(self.address)
        self.filter_message.hide()
        self.models.table.set_rows([model_row(row) for row in view.models], MODEL_WIDTHS)
        self.prompts.table.set_rows([prompt_row(row) for row in view.prompts], PROMPT_WIDTHS)
        matching = " match the filter" if self.address.filter else ""
        for section, count, noun in (
            (self.models, len(view.models), "registered models"),
            (self.prompts, len(view.prompts), "prompts"),
        ):
            section.set_caption(f"{noun[0].upper()}{noun[1:]} ({count})")
            empty = f"No {noun}{matching}." if matching else f"This store has no {noun}."
            section.set_note("" if count else empty, hide_table=not count)
        self.set_facts(
            [
                ("Store", self.store.display_name),
                ("Filter", self.address.filter),
            ]
        )

    def shows(self, change: Any) -> bool:
        return change.kind in REGISTRY_KINDS
