"""The ``logged-model/<model_id>`` page: facts, metrics with datasets, params, tags, artifacts."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout, QWidget

from flowdeck.core.addresses import Address, experiment_address, model_address, run_address
from flowdeck.core.text_format import format_time, short_id
from flowdeck.store.base import Store
from flowdeck.ui.artifacts.browser import ArtifactsView
from flowdeck.ui.pages.logged_models.list_page import register_source
from flowdeck.ui.pages.logged_models.reads import (
    LoggedModelDetail,
    format_value,
    read_logged_model_page,
)
from flowdeck.ui.pages.overview_widgets import LinkButton, OverviewPage, Section
from flowdeck.ui.pages.registry.tables import CellValue, Link, LinkView, Row
from flowdeck.ui.registry.register_dialog import Registration
from flowdeck.ui.serving.serve_action import ServeLocally
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import page_type

METRIC_HEADERS = ("Metric", "Value", "Step", "Dataset", "Dataset digest", "Run", "Time")
VERSION_HEADERS = ("Registered model", "Version", "Stage", "Aliases", "Created")
ARTIFACTS = 3
REGISTRY_KINDS = ("registered_model", "model_version")


def metric_rows(detail: LoggedModelDetail) -> list[Row]:
    rows = []
    for metric in detail.metrics:
        run: CellValue = (
            Link(short_id(metric.run_id), run_address(metric.run_id)) if metric.run_id else ""
        )
        cells = (
            metric.key,
            format_value(metric.value),
            str(metric.step),
            metric.dataset_name or "",
            metric.dataset_digest or "",
            run,
            format_time(metric.timestamp),
        )
        keys = (
            metric.key,
            metric.value,
            metric.step,
            cells[3],
            cells[4],
            metric.run_id or "",
            metric.timestamp or 0,
        )
        rows.append(Row(cells, keys))
    return rows


@page_type
class LoggedModelPage(OverviewPage):
    """``logged-model/<model_id>``: one logged model, where it came from and what it became."""

    family = "logged-model"
    read_label = "Reading the logged model"

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.model_id = address.first_id
        self.detail: LoggedModelDetail | None = None
        self.set_title(short_id(self.model_id))
        self.register_button = QPushButton("Register…")
        self.register_button.clicked.connect(self.register)
        self.registration = Registration(shell, self)
        self.registration.registered.connect(lambda target: self.open_requested.emit(target, False))
        self.metrics = self._table(METRIC_HEADERS)
        self.params = self._table(("Param", "Value"))
        self.tags = self._table(("Tag", "Value"))
        self.versions = self._table(VERSION_HEADERS)
        self.sections = [
            Section("", view, inset=True) for view in (self.metrics, self.params, self.tags)
        ]
        self.versions_section = Section("", self.versions, inset=True)
        self.artifacts: ArtifactsView | None = None
        self.artifacts_tab = QWidget()
        QVBoxLayout(self.artifacts_tab).setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget()
        for section, text in zip(self.sections, ("Metrics", "Params", "Tags"), strict=True):
            self.tabs.addTab(section, text)
        self.tabs.addTab(self.artifacts_tab, "Artifacts")
        self.tabs.addTab(self.versions_section, "Registered versions")
        self.tabs.currentChanged.connect(self._tab_changed)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.register_button)
        self.serve_button = QPushButton("Serve Locally…")
        self.serve_button.clicked.connect(
            lambda: self.serving.start(self.store, f"models:/{self.model_id}")
        )
        self.serving = ServeLocally(shell, self)
        self.serving.open_requested.connect(self.open_requested.emit)
        row.addWidget(self.serve_button)
        self.body_layout.addLayout(row)
        self.body_layout.addWidget(self.tabs, 1)
        shell.context.read_only_changed.connect(lambda *_args: self._update_register())
        self._update_register()

    def _table(self, headers: tuple[str, ...]) -> LinkView:
        view = LinkView(headers, sortable=True)
        view.open_requested.connect(self.open_requested.emit)
        return view

    def start(self) -> None:
        self.read(read_logged_model_page, self.model_id, on_result=self._show)

    def _show(self, detail: LoggedModelDetail) -> None:
        self.detail = detail
        model = detail.model
        self.set_title(model.name or short_id(model.model_id))
        self.set_heading(model.name or model.model_id)
        experiment = LinkButton(
            detail.experiment_name or f"Experiment {model.experiment_id}",
            experiment_address([model.experiment_id]),
        )
        facts: list[tuple[str, Any]] = [
            ("Model ID", model.model_id),
            ("Experiment", experiment),
            ("Status", " — ".join(filter(None, [model.status, model.status_message]))),
            ("Type", model.model_type or ""),
        ]
        if model.source_run_id:
            facts.append(
                ("Source run", LinkButton(model.source_run_id, run_address(model.source_run_id)))
            )
        facts += [
            ("Created", format_time(model.creation_time)),
            ("Last updated", format_time(model.last_updated_time)),
            ("Artifact location", model.artifact_location or ""),
        ]
        self.set_facts(facts)
        tables = (
            (self.metrics, metric_rows(detail), "metrics", "Metrics"),
            (
                self.params,
                [Row((k, v), (k, v)) for k, v in sorted(model.params.items())],
                "params",
                "Params",
            ),
            (
                self.tags,
                [Row((k, v), (k, v)) for k, v in sorted(model.tags.items())],
                "tags",
                "Tags",
            ),
        )
        for index, (view, rows, noun, title) in enumerate(tables):
            view.set_rows(
                rows, (180, 110) if view is not self.metrics else (160, 90, 50, 100, 110, 100)
            )
            self.sections[index].set_note("" if rows else f"This model has no {noun}.", not rows)
            self.tabs.setTabText(index, f"{title} ({len(rows)})")
        versions = [
            Row(
                (
                    Link(v.name, model_address(v.name)),
                    Link(f"v{v.version}", model_address(v.name, str(v.version))),
                    v.current_stage,
                    ", ".join(f"@{alias}" for alias in sorted(v.aliases)),
                    format_time(v.creation_time),
                ),
                (v.name, v.version, v.current_stage, ",".join(v.aliases), v.creation_time or 0),
            )
            for v in detail.versions
        ]
        self.versions.set_rows(versions, (180, 70, 90, 140))
        empty = detail.registry_note or "No registered version was made from this model."
        self.versions_section.set_note("" if versions else empty, hide_table=not versions)
        self.tabs.setTabText(4, f"Registered versions ({len(versions)})")
        self._update_register()

    def _tab_changed(self, index: int) -> None:
        if index == ARTIFACTS and self.artifacts is None:
            self.artifacts = ArtifactsView(self.shell, self.store, "", model_id=self.model_id)
            self.artifacts.status.connect(self.status.emit)
            self.artifacts_tab.layout().addWidget(self.artifacts)

    def why_not_register(self) -> str | None:
        reason = self.shell.context.read_only_reason(self.store)
        if reason:
            return reason
        return None if self.detail is not None else "Reading the logged model…"

    def _update_register(self) -> None:
        reason = self.why_not_register()
        self.register_button.setEnabled(reason is None)
        self.register_button.setToolTip(reason or "Register this logged model as a model version")

    def register(self) -> None:
        if self.why_not_register() is None and self.detail is not None:
            self.registration.start(self.store, register_source(self.detail.model))

    def close_page(self) -> None:
        if self.artifacts is not None:
            self.artifacts.close_view()
        super().close_page()

    def shows(self, change: Any) -> bool:
        return change.kind in REGISTRY_KINDS
