"""The ``logged-models/<experiment_id>`` page: search, sort, compare and register logged models."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLineEdit, QPushButton, QWidget

from flowdeck.core.addresses import Address, experiment_address, model_address, run_address
from flowdeck.core.errors import InvalidFilter
from flowdeck.core.text_format import format_time, short_id
from flowdeck.store.base import Store
from flowdeck.ui.labels import plain_label
from flowdeck.ui.pages.logged_models.compare_dialog import CompareLoggedModelsDialog
from flowdeck.ui.pages.logged_models.reads import (
    LoggedModelRow,
    LoggedModelsView,
    format_value,
    read_logged_models_page,
)
from flowdeck.ui.pages.overview_widgets import LinkButton, OverviewPage, Section
from flowdeck.ui.pages.registry.tables import CellValue, Link, LinkView, Row
from flowdeck.ui.registry.register_dialog import RegisterSource, Registration
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import page_type

HEADERS = ("Name", "Model ID", "Status", "Type", "Source run", "Created", "Registered as")
WIDTHS = (160, 150, 80, 90, 120, 140, 140)
FILTER_HINT = (
    "Filter, e.g.  metrics.accuracy > 0.9  or  params.lr = '0.01'  or  name LIKE '%clf%'"
    "  (Enter applies)"
)
MAX_COMPARED = 10
REGISTRY_KINDS = ("registered_model", "model_version")


def logged_model_address(model_id: str) -> Address:
    return Address("logged-model", (model_id,))


def model_row(row: LoggedModelRow, metric_keys: tuple[str, ...]) -> Row:
    model = row.model
    run: CellValue = ""
    if model.source_run_id:
        run = Link(short_id(model.source_run_id), run_address(model.source_run_id))
    registered: CellValue = ""
    if row.versions:
        first = row.versions[0]
        more = f" +{len(row.versions) - 1}" if len(row.versions) > 1 else ""
        registered = Link(
            f"{first.name} v{first.version}{more}", model_address(first.name, str(first.version))
        )
    values = [row.metrics[key].value if key in row.metrics else None for key in metric_keys]
    cells = (
        Link(model.name or model.model_id, logged_model_address(model.model_id)),
        model.model_id,
        model.status,
        model.model_type or "",
        run,
        format_time(model.creation_time),
        registered,
        *("" if value is None else format_value(value) for value in values),
    )
    keys = (
        model.name,
        model.model_id,
        model.status,
        model.model_type or "",
        model.source_run_id or "",
        model.creation_time or 0,
        registered.text if isinstance(registered, Link) else "",
        *(-math.inf if value is None or math.isnan(value) else value for value in values),
    )
    return Row(cells, keys)


@page_type
class LoggedModelsPage(OverviewPage):
    """``logged-models/<experiment_id>[?filter=…]``: an experiment's logged models (MLflow 3)."""

    family = "logged-models"
    read_label = "Reading logged models"

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.experiment_id = address.first_id
        self.view: LoggedModelsView | None = None
        self.set_title("Logged models")
        self.set_heading("Logged models")
        self.search = QLineEdit(address.filter)
        self.search.setPlaceholderText(FILTER_HINT)
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self.apply_filter)
        search = QPushButton("Search")
        search.clicked.connect(self.apply_filter)
        self.compare_button = QPushButton("Compare…")
        self.compare_button.clicked.connect(self.compare_selected)
        self.register_button = QPushButton("Register…")
        self.register_button.clicked.connect(self.register_selected)
        bar = QWidget()
        bar_layout = QHBoxLayout(bar)
        bar_layout.setContentsMargins(0, 0, 0, 0)
        for widget, stretch in (
            (self.search, 1),
            (search, 0),
            (self.compare_button, 0),
            (self.register_button, 0),
        ):
            bar_layout.addWidget(widget, stretch)
        self.filter_message = plain_label(wrap=True)
        self.filter_message.hide()
        self.table = LinkView(HEADERS, sortable=True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.open_requested.connect(self.open_requested.emit)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.models = Section("", self.table, inset=True)
        self.registration = Registration(shell, self)
        self.registration.registered.connect(
            lambda address: self.open_requested.emit(address, False)
        )
        self.compare_dialog: CompareLoggedModelsDialog | None = None
        self.body_layout.addWidget(bar)
        self.body_layout.addWidget(self.filter_message)
        self.body_layout.addWidget(self.models, 1)
        shell.context.read_only_changed.connect(lambda *_args: self._update_buttons())
        self._update_buttons()

    def start(self) -> None:
        self.read(
            read_logged_models_page, self.experiment_id, self.address.filter, on_result=self._show
        )

    def apply_filter(self) -> None:
        text = self.search.text().strip()
        self.read(
            read_logged_models_page,
            self.experiment_id,
            text,
            on_result=lambda view: self._show(view, text),
        )

    def _show(self, view: LoggedModelsView | InvalidFilter, text: str | None = None) -> None:
        if isinstance(view, InvalidFilter):
            self.filter_message.setText(view.message)  # the last good filter stays the address
            self.filter_message.show()
            return
        if text is not None and text != self.address.filter:
            self.address = Address("logged-models", (self.experiment_id,), filter=text)
            self.address_changed.emit(self.address)
        self.filter_message.hide()
        self.view = view
        experiment = view.experiment
        self.set_heading(f"Logged models — {experiment.name}")
        self.set_facts(
            [
                (
                    "Experiment",
                    LinkButton(experiment.name, experiment_address([experiment.experiment_id])),
                ),
                ("Logged models", str(len(view.rows))),
                ("Filter", self.address.filter),
            ]
        )
        rows = [model_row(row, view.metric_keys) for row in view.rows]
        self.table.set_rows(rows, WIDTHS, HEADERS + view.metric_keys)
        matching = " match the filter" if self.address.filter else ""
        empty = (
            "No logged models" + matching + "."
            if matching
            else ("This experiment has no logged models.")
        )
        self.models.set_note(view.registry_note if rows else empty, hide_table=not rows)
        self._update_buttons()

    def selected_models(self) -> list[Any]:
        """The logged models of the selected rows, in table order."""
        if self.view is None:
            return []
        by_id = {row.model.model_id: row.model for row in self.view.rows}
        picked = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        ids = [self.table.rows_model.rows[row].keys[1] for row in picked]
        return [by_id[model_id] for model_id in ids if model_id in by_id]

    def why_not_compare(self) -> str | None:
        count = len(self.selected_models())
        if not 2 <= count <= MAX_COMPARED:
            return f"Select 2 to {MAX_COMPARED} logged models to compare them."
        return None

    def why_not_register(self) -> str | None:
        reason = self.shell.context.read_only_reason(self.store)
        if reason:
            return reason
        return (
            None if len(self.selected_models()) == 1 else "Select one logged model to register it."
        )

    def _update_buttons(self, *_args: Any) -> None:
        for button, reason in (
            (self.compare_button, self.why_not_compare()),
            (self.register_button, self.why_not_register()),
        ):
            button.setEnabled(reason is None)
            button.setToolTip(reason or "")

    def compare_selected(self) -> None:
        if self.why_not_compare() is None:
            self.compare_dialog = CompareLoggedModelsDialog(self.selected_models(), self)
            self.compare_dialog.show()

    def register_selected(self) -> None:
        if self.why_not_register() is None:
            model = self.selected_models()[0]
            self.registration.start(self.store, register_source(model))

    def shows(self, change: Any) -> bool:
        return change.kind in REGISTRY_KINDS


def register_source(model: Any) -> RegisterSource:
    return RegisterSource(
        f"models:/{model.model_id}",
        run_id=model.source_run_id,
        model_id=model.model_id,
        suggested_name=model.name,
    )
