"""The run page's Overview tab: facts, links, the description, dataset inputs and models."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.addresses import Address, experiment_address, model_address, run_address
from flowdeck.core.entities import DatasetInput
from flowdeck.core.text_format import capped, format_millis, format_time, short_id
from flowdeck.ui.edit.description_editor import SafeMarkdownBrowser
from flowdeck.ui.pages.overview_widgets import LinkButton, one_line, plain_label
from flowdeck.ui.pages.run.reads import (
    RunData,
    RunLinks,
    git_facts,
    schema_text,
    source_facts,
    trace_filter,
)
from flowdeck.ui.runs.decorations import escaped_tooltip, status_colour
from flowdeck.ui.sidebar.nodes import rich_tooltip

DELETED = "deleted"
MAX_DESCRIPTION_HEIGHT = 360
DATASET_HEADERS = ("Name", "Digest", "Source type", "Source", "Context")
RELATIONS = {"output": "logged by this run", "input": "used by this run"}
WIDEST_LABEL = "Registered versions:"
NAME_SHOWN = 300  # characters of the run name in the heading
NAME_TOOLTIP = 2_000
NAME_FACT = 60
LOOKING = "Looking for children, models, registered versions and traces…"


def bold(label: QLabel, scale: float = 1.0) -> QLabel:
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label


def caption(text: str) -> QLabel:
    return bold(plain_label(text))


class CopyValue(QWidget):
    """A value and a small Copy button that copies ``copied`` (the full value)."""

    copied = Signal(str)

    def __init__(self, shown: str, copied: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = copied
        self.label = plain_label(shown)
        self.button = QToolButton()
        self.button.setText("Copy")
        self.button.setAutoRaise(True)
        self.button.setToolTip("Copy the full value")
        self.button.setFixedHeight(self.label.sizeHint().height() + 2)  # rows stay even
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        layout.addStretch(1)
        self.button.clicked.connect(self.copy)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.value)
        shown = self.value if len(self.value) <= 60 else self.value[:60] + "…"
        self.copied.emit(f"Copied {shown}")


class DescriptionBrowser(SafeMarkdownBrowser):
    """The description as Markdown, read-only, as tall as its text (up to a limit)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.viewport().setAutoFillBackground(False)
        self.document().documentLayout().documentSizeChanged.connect(lambda _size: self._fit())

    def _fit(self) -> None:
        height = int(self.document().size().height()) + 2 * self.frameWidth() + 4
        self.setFixedHeight(max(24, min(height, MAX_DESCRIPTION_HEIGHT)))


class OverviewView(QScrollArea):
    """What the run is, where it came from and what it is linked to; edits go to the page."""

    open_requested = Signal(object, bool)  # Address, in a new tab
    rename_requested = Signal()
    describe_requested = Signal()
    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.run_id = ""
        body = QWidget()
        self.name = bold(plain_label(), 1.4)
        self.name.setWordWrap(True)
        self.rename_button = QPushButton("Rename…")
        self.rename_button.setToolTip("Rename this run (F2)")
        self.status_label = bold(plain_label())
        heading = QHBoxLayout()
        heading.addWidget(self.name, 1)
        heading.addWidget(self.status_label)
        heading.addWidget(self.rename_button)
        self.facts = QFormLayout()
        self.facts.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.links = QFormLayout()
        self.links.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.links_note = plain_label(LOOKING, wrap=True)
        self.describe_button = QPushButton("Edit Description…")
        self.describe_button.setToolTip("Edit this run's Markdown description (Ctrl+E)")
        description_bar = QHBoxLayout()
        description_bar.addWidget(caption("Description"))
        description_bar.addStretch(1)
        description_bar.addWidget(self.describe_button)
        self.description = DescriptionBrowser()
        self.no_description = plain_label("This run has no description.")
        self.datasets_caption = caption("Dataset inputs")
        self.datasets = QTreeWidget()
        self.datasets.setHeaderLabels(list(DATASET_HEADERS))
        self.datasets.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.datasets.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.datasets.expanded.connect(lambda _index: self._fit_datasets())
        self.datasets.collapsed.connect(lambda _index: self._fit_datasets())
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addLayout(heading)
        layout.addLayout(self.facts)
        layout.addWidget(self.links_note)
        layout.addLayout(self.links)
        layout.addSpacing(8)
        layout.addLayout(description_bar)
        layout.addWidget(self.no_description)
        layout.addWidget(self.description)
        layout.addSpacing(8)
        layout.addWidget(self.datasets_caption)
        layout.addWidget(self.datasets)
        layout.addStretch(1)
        self.setWidget(body)
        self.rename_button.clicked.connect(self.rename_requested)
        self.describe_button.clicked.connect(self.describe_requested)

    # --- the run --------------------------------------------------------------------------------

    def show_run(self, data: RunData) -> None:
        detail, info = data.detail, data.detail.info
        self.run_id = info.run_id
        name = info.run_name or short_id(info.run_id)
        # A 10,000-character name wrapped in full would fill screens and take a long layout:
        # the heading shows its start, the tooltip more, and the Name row copies all of it.
        self.name.setText(capped(name, NAME_SHOWN))
        long_name = len(name) > NAME_SHOWN
        self.name.setToolTip(escaped_tooltip(capped(name, NAME_TOOLTIP)) if long_name else "")
        deleted = info.lifecycle_stage == DELETED
        self.status_label.setText(info.status + (" (deleted)" if deleted else ""))
        self.status_label.setStyleSheet(f"QLabel {{ color: {status_colour(info.status).name()}; }}")
        _clear(self.facts)
        if long_name:
            self._copy_fact("Name", capped(name, NAME_FACT), name)
        self._copy_fact("Run ID", info.run_id, info.run_id)
        experiment = data.experiment_name or f"Experiment {info.experiment_id}"
        self._fact("Experiment", self._link(experiment, experiment_address([info.experiment_id])))
        self._fact("Started", format_time(info.start_time))
        self._fact("Ended", format_time(info.end_time))
        if info.start_time and info.end_time:
            self._fact("Duration", format_millis(info.end_time - info.start_time))
        self._fact("User", info.user_id or detail.tags.get("mlflow.user", ""))
        for label, value in source_facts(detail.tags):
            self._fact(label, value)
        for label, shown, full in git_facts(detail.tags):
            self._copy_fact(label, shown, full)
        if detail.parent_run_id:
            parent = data.parent_name or detail.parent_run_id
            self._fact("Parent run", self._link(parent, run_address(detail.parent_run_id)))
        if info.artifact_uri:
            self._copy_fact("Artifact URI", info.artifact_uri, info.artifact_uri)
        self.show_description(detail.description)
        self._show_datasets(detail.inputs)

    def show_description(self, text: str) -> None:
        self.description.setMarkdown(text)
        self.description.setVisible(bool(text.strip()))
        self.no_description.setVisible(not text.strip())

    def set_editable(self, reason: str | None) -> None:
        """Enable the edit buttons, or disable them and say why."""
        for button, tip in (
            (self.rename_button, "Rename this run (F2)"),
            (self.describe_button, "Edit this run's Markdown description (Ctrl+E)"),
        ):
            button.setEnabled(reason is None)
            button.setToolTip(rich_tooltip(reason or tip))

    def _show_datasets(self, inputs: Sequence[DatasetInput]) -> None:
        self.datasets.clear()
        for dataset in inputs:
            row = QTreeWidgetItem(
                [
                    dataset.name,
                    dataset.digest,
                    dataset.source_type or "",
                    one_line(dataset.source or ""),
                    dataset.context or "",
                ]
            )
            row.setToolTip(3, rich_tooltip(dataset.source or ""))
            for name, value in (
                ("Schema", schema_text(dataset.schema)),
                ("Profile", dataset.profile or ""),
            ):
                if value:
                    child = QTreeWidgetItem([f"{name}: {one_line(value)}"])
                    row.addChild(child)
                    child.setFirstColumnSpanned(True)
            self.datasets.addTopLevelItem(row)
        for column in range(len(DATASET_HEADERS) - 1):
            self.datasets.resizeColumnToContents(column)
        self.datasets_caption.setText(f"Dataset inputs ({len(inputs)})")
        self.datasets_caption.setVisible(bool(inputs))
        self.datasets.setVisible(bool(inputs))
        self._fit_datasets()

    def _fit_datasets(self) -> None:
        rows, item = 0, self.datasets.topLevelItem(0)
        while item is not None:
            rows += 1
            item = self.datasets.itemBelow(item)
        row_height = self.datasets.sizeHintForRow(0) if rows else 0
        header = self.datasets.header().sizeHint().height()
        self.datasets.setFixedHeight(
            header + rows * row_height + 2 * self.datasets.frameWidth() + 2
        )

    # --- links ------------------------------------------------------------------------------------

    def looking_for_links(self) -> None:
        self.links_note.setText(LOOKING)
        self.links_note.show()

    def show_links(self, links: RunLinks, experiment_id: str) -> None:
        _clear(self.links)
        self.links_note.hide()
        if links.children:
            children = [
                self._link(f"{c.name or short_id(c.run_id)} ({c.status})", run_address(c.run_id))
                for c in links.children
            ]
            more = " (the first ones)" if links.more_children else ""
            self.links.addRow(
                self._label(f"Child runs ({len(children)}{more}):"), _column(children)
            )
        if links.models:
            models = [
                self._link(
                    f"{m.name or m.model_id} ({m.model_id}), {RELATIONS[m.relation]}",
                    Address("logged-model", (m.model_id,)),
                )
                for m in links.models
            ]
            self.links.addRow(self._label("Logged models:"), _column(models))
        if links.versions:
            versions = [
                self._link(f"{v.name} v{v.version}", model_address(v.name, str(v.version)))
                for v in links.versions
            ]
            self.links.addRow(self._label("Registered versions:"), _column(versions))
        if links.versions_note:
            self.links.addRow(self._label(""), plain_label(links.versions_note, wrap=True))
        self._traces_links(links, experiment_id)

    def _traces_links(self, links: RunLinks, experiment_id: str) -> None:
        buttons: list[QWidget] = []
        if links.traces:
            count = f"{links.traces}{'+' if links.more_traces else ''}"
            noun = "trace" if links.traces == 1 and not links.more_traces else "traces"
            address = Address("traces", (experiment_id,), filter=trace_filter(self.run_id))
            buttons.append(self._link(f"{count} {noun} logged in this run", address))
        elif links.traces == 0:
            buttons.append(plain_label("No traces were logged in this run."))
        buttons.append(
            self._link("All traces of the experiment", Address("traces", (experiment_id,)))
        )
        self.links.addRow(self._label("Traces:"), _column(buttons))

    # --- helpers ----------------------------------------------------------------------------------

    def _label(self, text: str) -> QLabel:
        """A row label; both forms share one label width so their values line up."""
        label = plain_label(text)
        label.setMinimumWidth(self.fontMetrics().horizontalAdvance(WIDEST_LABEL) + 12)
        return label

    def _link(self, text: str, address: Address) -> LinkButton:
        button = LinkButton(text, address)
        button.open_requested.connect(self.open_requested)
        return button

    def _fact(self, name: str, value: str | QWidget) -> None:
        if isinstance(value, str):
            if not value:
                return
            value = plain_label(value, wrap=True)
        self.facts.addRow(self._label(f"{name}:"), value)

    def _copy_fact(self, name: str, shown: str, full: str) -> None:
        value = CopyValue(shown, full)
        value.button.setToolTip(f"Copy the full {name.lower()}")
        value.copied.connect(self.copied)
        self._fact(name, value)

    def fact(self, name: str) -> QWidget | None:
        """The value widget of a fact or link row (for tests and screen readers)."""
        for form in (self.facts, self.links):
            for row in range(form.rowCount()):
                label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
                field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
                if label is None or field is None:
                    continue
                text = label.widget().text() if label.widget() is not None else ""
                if text.split(" (")[0].rstrip(":") == name:
                    return field.widget()
        return None


def _column(widgets: Sequence[QWidget]) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    for widget in widgets:
        layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignLeft)
    return box


def _clear(form: QFormLayout) -> None:
    while form.rowCount():
        form.removeRow(0)
