"""The ``model/<name>/<version>`` page: facts, lineage, the MLmodel and the promotion history."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout, QWidget

from flowdeck.core.addresses import Address, model_address, run_address
from flowdeck.core.artifacts import kinds
from flowdeck.core.errors import Cancelled, FlowdeckError
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_time, short_id
from flowdeck.store.base import CAP_LOGGED_MODELS, Store
from flowdeck.ui.artifacts.browser import ArtifactsView
from flowdeck.ui.artifacts.previewer import PreviewSource
from flowdeck.ui.artifacts.previews.mlmodel import MLmodelData, MLmodelPreviewer
from flowdeck.ui.labels import plain_label
from flowdeck.ui.pages.overview_widgets import LinkButton, OverviewPage, Section
from flowdeck.ui.pages.registry.model import (
    HISTORY_HEADERS,
    HISTORY_WIDTHS,
    format_metric,
    history_row,
    logged_model_address,
)
from flowdeck.ui.pages.registry.reads import VersionDetail, aliases_text, read_version, tags_text
from flowdeck.ui.pages.registry.tables import LinkView, Row
from flowdeck.ui.registry.edit_bar import version_edit_bar
from flowdeck.ui.registry.edits import RegistryEdits
from flowdeck.ui.registry.workflow_panel import WorkflowPanel
from flowdeck.ui.serving.serve_action import ServeLocally
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import page_type

PROMOTE_MODULE = "flowdeck.ui.registry.promote_dialog"
PROMOTE_LATER = "Promotion arrives with the registry dialogs."
REGISTRY_KINDS = ("registered_model", "model_version")


@dataclass(frozen=True)
class VersionAnswer:
    detail: VersionDetail
    mlmodel: MLmodelData | None
    mlmodel_note: str  # why there is no MLmodel to show


def read_version_page(state: TaskState, store: Store, name: str, version: str) -> VersionAnswer:
    """The version and, when its files are reachable, its parsed MLmodel."""
    detail = read_version(state, store, name, version)
    files = detail.files
    if files.fetch is None:
        return VersionAnswer(detail, None, files.where)
    source = PreviewSource("", files.path, False, kinds.MLMODEL, fetch=files.fetch)
    try:
        return VersionAnswer(detail, MLmodelPreviewer.prepare(state, source), "")
    except Cancelled:
        raise
    except FlowdeckError as error:
        return VersionAnswer(detail, None, f"Its MLmodel could not be read: {error.message}")
    except OSError as error:
        note = f"Its MLmodel could not be read: {error.strerror or error}."
        return VersionAnswer(detail, None, note)


def artifact_target(detail: VersionDetail, store: Store) -> tuple[str, str, str] | str:
    """(run id, folder, logged model id) to browse the version's files, or why there is none."""
    version = detail.version
    source = version.source or ""
    if source.startswith("runs:/"):
        run_id, _, folder = source[len("runs:/") :].partition("/")
        return run_id, folder.strip("/"), ""
    if detail.logged_model_id and CAP_LOGGED_MODELS in store.capabilities:
        return "", "", detail.logged_model_id
    run = detail.run
    base = (run.info.artifact_uri or "").rstrip("/") if run is not None else ""
    if run is not None and base and (source == base or source.startswith(base + "/")):
        return run.info.run_id, source[len(base) :].strip("/"), ""
    return f"This version's files live elsewhere ({source or 'an unknown place'})."


def version_number(text: str) -> int:
    """The version number an address names (-1 when it names none: the read says so)."""
    return int(text) if text.strip().isdigit() else -1


def promotion_available() -> bool:
    try:
        return importlib.util.find_spec(PROMOTE_MODULE) is not None
    except ModuleNotFoundError:
        return False


@page_type
class ModelVersionPage(OverviewPage):
    """``model/<name>/<version>``: the version's facts, where it came from, and its MLmodel."""

    family = "model-version"
    read_label = "Reading the model version"

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.name, self.version = address.ids[0], address.ids[1]
        self.set_title(f"{self.name} v{self.version}")
        self.set_heading(f"{self.name} v{self.version}")
        self.promote = QPushButton("Promote…")
        self.promote.clicked.connect(self.open_promote)
        if not promotion_available():
            self.promote.setEnabled(False)
            self.promote.setToolTip(PROMOTE_LATER)
        elif store.read_only_reason:
            self.promote.setEnabled(False)
            self.promote.setToolTip(store.read_only_reason)
        self.lineage = QWidget()
        self.lineage_layout = QHBoxLayout(self.lineage)
        self.lineage_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(plain_label("Lineage:"))
        top.addWidget(self.lineage, 1)
        top.addWidget(self.promote)
        self.serve_button = QPushButton("Serve Locally…")
        self.serve_button.setToolTip("Run MLflow's scoring server on this version, on this machine")
        self.serve_button.clicked.connect(self.serve)
        self.serving = ServeLocally(shell, self)
        self.serving.open_requested.connect(self.open_requested.emit)
        top.addWidget(self.serve_button)
        self.params = self._small_table(("Param", "Value"))
        self.metrics = self._small_table(("Metric", "Latest value", "Step"))
        self.params_section = Section("Params of the source run", self.params)
        self.metrics_section = Section("Latest metrics of the source run", self.metrics)
        lineage_tab = QWidget()
        tables = QHBoxLayout()
        tables.addWidget(self.params_section)
        tables.addWidget(self.metrics_section)
        column = QVBoxLayout(lineage_tab)
        column.addLayout(tables)
        self.mlmodel = MLmodelPreviewer(shell.runner)
        self.mlmodel_note = plain_label(wrap=True)
        mlmodel_tab = QWidget()
        mlmodel_layout = QVBoxLayout(mlmodel_tab)
        mlmodel_layout.addWidget(self.mlmodel_note)
        mlmodel_layout.addWidget(self.mlmodel, 1)
        self.history = LinkView(HISTORY_HEADERS)
        self.history.open_requested.connect(self.open_requested.emit)
        self.history_section = Section("", self.history, inset=True)
        self.tabs = QTabWidget()
        self.tabs.addTab(lineage_tab, "Source run")
        self.tabs.addTab(mlmodel_tab, "MLmodel")
        self.tabs.addTab(self.history_section, "History")
        self.workflow = WorkflowPanel(shell, store, self.name, version_number(self.version))
        self.tabs.addTab(self.workflow, "Workflow")
        self.artifacts: ArtifactsView | None = None
        self.artifacts_note = plain_label("Reading the version…", wrap=True)
        self.artifacts_tab = QWidget()
        artifacts_layout = QVBoxLayout(self.artifacts_tab)
        artifacts_layout.setContentsMargins(0, 0, 0, 0)
        artifacts_layout.addWidget(self.artifacts_note)
        self.tabs.addTab(self.artifacts_tab, "Artifacts")
        self.tabs.currentChanged.connect(self._tab_changed)
        self.detail: VersionDetail | None = None
        self.edits = RegistryEdits(shell, self)
        self.edits.deleted.connect(
            lambda name, _v: self.open_requested.emit(model_address(name), False)
        )
        self.edit_bar = version_edit_bar(shell, store, self.name, self.version, self.edits)
        self.body_layout.addWidget(self.edit_bar)
        self.body_layout.addLayout(top)
        self.body_layout.addWidget(self.tabs, 1)

    def _small_table(self, headers: tuple[str, ...]) -> LinkView:
        view = LinkView(headers, sortable=True)
        view.open_requested.connect(self.open_requested.emit)
        return view

    def start(self) -> None:
        self.read(read_version_page, self.name, self.version, on_result=self._show)
        self.workflow.reload()

    def open_promote(self) -> None:
        try:
            from flowdeck.ui.registry.promote_dialog import open_promote  # type: ignore[import-not-found]
        except ImportError:
            self.promote.setEnabled(False)
            self.promote.setToolTip(PROMOTE_LATER)
            return
        open_promote(self.shell, self.store, self.name, int(self.version), self)

    def _show(self, answer: VersionAnswer) -> None:
        detail = answer.detail
        self.detail = detail
        if self.tabs.currentWidget() is self.artifacts_tab:
            self._open_artifacts()
        version = detail.version
        status = " — ".join(filter(None, [version.status, version.status_message]))
        self.set_facts(
            [
                ("Model", LinkButton(version.name, model_address(version.name))),
                ("Version", str(version.version)),
                ("Aliases", aliases_text(version.aliases)),
                ("Stage", version.current_stage),
                ("Status", status),
                ("Source", version.source or ""),
                ("Created", format_time(version.creation_time)),
                ("Last updated", format_time(version.last_updated_time)),
                ("User", version.user_id or ""),
                ("Tags", tags_text(version.tags)),
                ("Description", (version.description or "").strip()),
            ]
        )
        self._show_lineage(detail)
        run = detail.run
        params = sorted(run.params.items()) if run else []
        metrics = sorted(run.metrics.values(), key=lambda m: m.key) if run else []
        self.params.set_rows([Row((k, v), (k, v)) for k, v in params], (160,))
        self.metrics.set_rows(
            [
                Row((m.key, format_metric(m.value), str(m.step)), (m.key, m.value, m.step))
                for m in metrics
            ],
            (160, 110),
        )
        no_run = "This version has no source run in this store."
        self.params_section.set_note(
            "" if params else (no_run if not run else "No params."), not params
        )
        self.metrics_section.set_note(
            "" if metrics else (no_run if not run else "No metrics."), not metrics
        )
        if answer.mlmodel is not None:
            self.mlmodel.show_data(answer.mlmodel)
        self.mlmodel.setVisible(answer.mlmodel is not None)
        self.mlmodel_note.setText(answer.mlmodel_note)
        self.mlmodel_note.setVisible(bool(answer.mlmodel_note))
        history = [history_row(self.name, entry) for entry in detail.history]
        self.history.set_rows(history, HISTORY_WIDTHS)
        self.history_section.set_note(
            "" if history else "No promotions are known for this version.", hide_table=not history
        )
        self.tabs.setTabText(2, f"History ({len(history)})")

    def _show_lineage(self, detail: VersionDetail) -> None:
        while self.lineage_layout.count():
            item = self.lineage_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        version = detail.version
        steps: list[QWidget] = []
        if version.run_id:
            name = detail.run.info.run_name if detail.run else ""
            label = f"Run {name or short_id(version.run_id)}"
            steps.append(LinkButton(label, run_address(version.run_id)))
        if detail.logged_model_id:
            address = logged_model_address(detail.logged_model_id)
            steps.append(LinkButton(f"Logged model {detail.logged_model_id}", address))
        steps.append(plain_label(f"v{version.version}"))
        for index, widget in enumerate(steps):
            if index:
                self.lineage_layout.addWidget(plain_label("→"))
            if isinstance(widget, LinkButton):
                widget.open_requested.connect(self.open_requested)
            self.lineage_layout.addWidget(widget)
        self.lineage_layout.addStretch(1)

    def serve(self) -> None:
        """Serve Locally…: ``models:/<name>/<version>`` through the launch dialog."""
        self.serving.start(self.store, f"models:/{self.name}/{self.version}")

    def _tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.artifacts_tab:
            self._open_artifacts()

    def _open_artifacts(self) -> None:
        """The version's files in the artifact view (its run's folder, or its logged model)."""
        if self.artifacts is not None or self.detail is None:
            return
        target = artifact_target(self.detail, self.store)
        if isinstance(target, str):
            self.artifacts_note.setText(target)
            return
        run_id, path, model_id = target
        self.artifacts_note.hide()
        self.artifacts = ArtifactsView(self.shell, self.store, run_id, path, model_id=model_id)
        self.artifacts.status.connect(self.status.emit)
        self.artifacts.open_requested.connect(self.open_requested.emit)
        self.artifacts_tab.layout().addWidget(self.artifacts)

    def close_page(self) -> None:
        if self.artifacts is not None:
            self.artifacts.close_view()
        super().close_page()

    def lineage_links(self) -> list[LinkButton]:
        return self.lineage.findChildren(LinkButton)

    def shows(self, change: Any) -> bool:
        if change.kind not in REGISTRY_KINDS:
            return False
        return any(item == self.name or item.startswith(f"{self.name}/") for item in change.ids)
