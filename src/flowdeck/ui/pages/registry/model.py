"""The ``model/<name>`` page: description, tags, aliases, versions with key metrics, history."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QMenu, QTabWidget, QToolButton

from flowdeck.core.addresses import Address, model_address, run_address
from flowdeck.core.entities import ModelVersion
from flowdeck.core.model_versions import model_id_from_source
from flowdeck.core.promotion_history import HistoryEntry
from flowdeck.core.text_format import first_line, format_time, short_id
from flowdeck.store.base import Store
from flowdeck.ui.edit.description_editor import SafeMarkdownBrowser
from flowdeck.ui.pages.overview_widgets import OverviewPage, Section
from flowdeck.ui.pages.registry.reads import (
    ModelDetail,
    aliases_text,
    read_model,
    stages_text,
    tags_text,
)
from flowdeck.ui.pages.registry.tables import CellValue, Link, LinkView, Row
from flowdeck.ui.registry.edit_bar import model_edit_bar
from flowdeck.ui.registry.edits import RegistryEdits
from flowdeck.ui.serving.serve_action import ServeLocally
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import page_type

VERSION_HEADERS = (
    "Version",
    "Aliases",
    "Stage",
    "Status",
    "Created",
    "User",
    "Source run",
    "Logged model",
    "Description",
    "Tags",
)
VERSION_WIDTHS = (60, 100, 80, 65, 140, 70, 110, 110, 120, 100)
HISTORY_HEADERS = ("Time", "Version", "What", "Who", "Note", "Known from")
HISTORY_WIDTHS = (150, 70, 420, 90, 200)
REGISTRY_KINDS = ("registered_model", "model_version")
MODELS = Address("models")


def logged_model_address(model_id: str) -> Address:
    return Address("logged-model", (model_id,))


def format_metric(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def version_row(version: ModelVersion, detail: ModelDetail) -> Row:
    run: CellValue = ""
    if version.run_id:
        label = detail.run_names.get(version.run_id) or version.run_id
        run = Link(label, run_address(version.run_id))
    model_id = version.model_id or model_id_from_source(version.source)
    logged: CellValue = Link(short_id(model_id), logged_model_address(model_id)) if model_id else ""
    metrics = detail.metrics.get(version.run_id or "", {})
    values = [metrics.get(key) for key in detail.metric_keys]
    texts = (
        Link(f"v{version.version}", model_address(version.name, str(version.version))),
        aliases_text(version.aliases),
        version.current_stage,
        version.status or "",
        format_time(version.creation_time),
        version.user_id or "",
        run,
        logged,
        first_line(version.description or ""),
        tags_text(version.tags),
    )
    keys = (
        version.version,
        texts[1],
        version.current_stage,
        texts[3],
        version.creation_time,
        texts[5],
        run.text if isinstance(run, Link) else "",
        model_id or "",
        texts[8],
        texts[9],
    )
    return Row(
        cells=texts + tuple(format_metric(value) for value in values),
        keys=keys + tuple(values),
    )


def history_row(name: str, entry: HistoryEntry) -> Row:
    cells = (
        format_time(entry.time_ms),
        Link(f"v{entry.version}", model_address(name, str(entry.version))),
        entry.text,
        entry.user or "",
        entry.note or "",
        "inferred" if entry.inferred else "recorded",
    )
    keys = (entry.time_ms, entry.version, entry.text, cells[3], cells[4], cells[5])
    return Row(cells, keys)


@page_type
class ModelPage(OverviewPage):
    """``model/<name>``: the model's facts, description, versions and promotion history."""

    family = "model"
    read_label = "Reading the model's versions"

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.name = address.first_id
        self.set_title(self.name)
        self.set_heading(self.name)
        self.description = SafeMarkdownBrowser()
        self.description.setMaximumHeight(80)
        self.description_section = Section("Description", self.description)
        self.versions = LinkView(VERSION_HEADERS, True, Qt.SortOrder.DescendingOrder)
        self.versions.open_requested.connect(self.open_requested.emit)
        self.history = LinkView(HISTORY_HEADERS)
        self.history.open_requested.connect(self.open_requested.emit)
        self.versions_section = Section("", self.versions, inset=True)
        self.history_section = Section("", self.history, inset=True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.versions_section, "Versions")
        self.tabs.addTab(self.history_section, "History")
        self.edits = RegistryEdits(shell, self)
        self.edits.renamed.connect(
            lambda _old, new: self.open_requested.emit(model_address(new), False)
        )
        # The model is gone: its page makes way for the list it was in.
        self.edits.deleted.connect(lambda _name, _v: self.open_requested.emit(MODELS, False))
        self.edit_bar = model_edit_bar(shell, store, self.name, self.edits)
        self.serve_button = QToolButton()
        self.serve_button.setText("Serve Locally…")
        self.serve_button.setToolTip("Serve an alias or the latest version on this machine")
        self.serve_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.serve_button.setMenu(QMenu(self.serve_button))
        self.serve_button.setEnabled(False)
        self.serving = ServeLocally(shell, self)
        self.serving.open_requested.connect(self.open_requested.emit)
        bar = QHBoxLayout()
        bar.addWidget(self.edit_bar, 1)
        bar.addWidget(self.serve_button)
        self.body_layout.addLayout(bar)
        self.body_layout.addWidget(self.description_section)
        self.body_layout.addWidget(self.tabs, 1)

    def start(self) -> None:
        self.read(read_model, self.name, on_result=self._show)

    def _show(self, detail: ModelDetail) -> None:
        model = detail.model
        versions = detail.versions
        kind = "Prompt" if model is not None and model.is_prompt else "Registered model"
        self.set_facts(
            [
                ("Kind", kind),
                ("Latest version", f"v{versions[0].version}" if versions else ""),
                ("Aliases", aliases_text(model.aliases) if model else ""),
                ("Versions per stage", stages_text(versions)),
                ("Tags", tags_text(model.tags) if model else ""),
                ("Created", format_time(model.creation_time) if model else ""),
                ("Last updated", format_time(model.last_updated_time) if model else ""),
            ]
        )
        text = (model.description or "").strip() if model else ""
        self.description.setMarkdown(text)
        self.description_section.setVisible(bool(text))
        headers = VERSION_HEADERS + detail.metric_keys
        widths = VERSION_WIDTHS + tuple(90 for _key in detail.metric_keys[:-1])
        rows = [version_row(version, detail) for version in versions]
        self.versions.set_rows(rows, widths if detail.metric_keys else VERSION_WIDTHS[:-1], headers)
        self.versions_section.set_note(
            "" if versions else "This model has no versions.", hide_table=not versions
        )
        history = [history_row(self.name, entry) for entry in detail.history]
        self.history.set_rows(history, HISTORY_WIDTHS)
        self.history_section.set_note(
            "" if history else "No promotions are known for this model.", hide_table=not history
        )
        self._fill_serve_menu(model.aliases if model else {}, versions)
        self.tabs.setTabText(0, f"Versions ({len(versions)})")
        self.tabs.setTabText(1, f"History ({len(history)})")

    def _fill_serve_menu(self, aliases: dict[str, int], versions: Any) -> None:
        """One entry per alias (``models:/name@alias``) and one for the latest version."""
        menu = self.serve_button.menu()
        menu.clear()
        for alias, version in sorted(aliases.items()):
            uri = f"models:/{self.name}@{alias}"
            menu.addAction(f"@{alias} (now v{version})", lambda u=uri: self.serve(u))
        if versions:
            latest = versions[0].version
            uri = f"models:/{self.name}/{latest}"
            menu.addAction(f"Latest version (v{latest})", lambda u=uri: self.serve(u))
        self.serve_button.setEnabled(not menu.isEmpty())

    def serve(self, uri: str) -> None:
        """Serve Locally… ``uri`` through the launch dialog."""
        self.serving.start(self.store, uri)

    def shows(self, change: Any) -> bool:
        if change.kind not in REGISTRY_KINDS:
            return False
        return any(item == self.name or item.startswith(f"{self.name}/") for item in change.ids)
