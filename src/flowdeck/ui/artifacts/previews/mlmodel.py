"""MLmodel previews: flavors, ids, the signature as tables, the input example, and the raw YAML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.artifacts import kinds
from flowdeck.core.artifacts.mlmodel import (
    ExampleHead,
    ModelInfo,
    SignatureRow,
    read_example,
    read_mlmodel,
    sibling,
)
from flowdeck.core.artifacts.text_window import TextStart, open_text, size_text
from flowdeck.core.errors import Cancelled, CorruptStore, FlowdeckError
from flowdeck.core.task_state import TaskState
from flowdeck.ui.artifacts.previewer import Previewer, PreviewSource, previewer
from flowdeck.ui.artifacts.previews.structured import LazyHighlighter
from flowdeck.ui.artifacts.previews.text import TextView

SIGNATURE_COLUMNS = (
    ("Name", "name"),
    ("Type", "type"),
    ("Shape", "shape"),
    ("Required", "required"),
    ("Default", "default"),
)


@dataclass(frozen=True)
class MLmodelData:
    """An MLmodel file: what it says (None when broken), its raw text, its input example."""

    text: TextStart
    model: ModelInfo | None
    problem: str = ""
    example: ExampleHead | None = None
    example_note: str = ""


def read_model(state: TaskState, source: PreviewSource) -> MLmodelData:
    """Fetch and parse the MLmodel file, then the head of the input example beside it."""
    assert source.fetch is not None
    path = source.fetch(state, source.path)
    text = open_text(path)
    try:
        model = read_mlmodel(path)
    except CorruptStore as error:
        return MLmodelData(text, None, str(error))
    example, note = None, ""
    name = model.input_example
    if name:
        try:
            example = read_example(source.fetch(state, sibling(source.path, name)), name)
        except Cancelled:
            raise
        except FlowdeckError as error:
            note = f"The input example {name} could not be read: {error}"
        except OSError as error:
            note = f"The input example {name} could not be read: {error.strerror or error}."
    return MLmodelData(text, model, "", example, note)


def _value_label(text: str) -> QLabel:
    label = QLabel(text, textFormat=Qt.TextFormat.PlainText, wordWrap=True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _heading(text: str) -> QLabel:
    label = QLabel(text, textFormat=Qt.TextFormat.PlainText)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 1.1)
    label.setFont(font)
    return label


def signature_table(rows: list[SignatureRow]) -> QTableWidget:
    """A read-only table of signature rows, as tall as its rows (the page scrolls, not it)."""
    columns = [
        (title, field)
        for title, field in SIGNATURE_COLUMNS
        if field in ("name", "type") or any(getattr(row, field) for row in rows)
    ]
    table = QTableWidget(len(rows), len(columns))
    table.setHorizontalHeaderLabels([title for title, _field in columns])
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    for row_index, row in enumerate(rows):
        for column_index, (_title, field) in enumerate(columns):
            text = getattr(row, field) or ("(unnamed)" if field == "name" else "")
            table.setItem(row_index, column_index, QTableWidgetItem(text))
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
    table.resizeRowsToContents()
    height = table.horizontalHeader().height() + 2 * table.frameWidth()
    height += sum(table.rowHeight(row) for row in range(len(rows)))
    table.setFixedHeight(height + 2)
    return table


@previewer
class MLmodelPreviewer(Previewer):
    """An MLmodel file: an overview of the model and the raw YAML."""

    title = "MLmodel"

    def __init__(self, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self.tabs = QTabWidget(documentMode=True)
        self.scroll = QScrollArea(widgetResizable=True)
        self.overview = QWidget()
        self.scroll.setWidget(self.overview)
        self.raw = TextView(runner)
        self.example_view: QPlainTextEdit | None = None
        self.highlighter = LazyHighlighter(self.raw.edit, "yaml")
        self.tabs.addTab(self.scroll, "Overview")
        self.tabs.addTab(self.raw, "Raw")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

    @classmethod
    def accepts(cls, source: PreviewSource) -> int:
        return 20 if not source.is_dir and source.kind == kinds.MLMODEL else 0

    @staticmethod
    def prepare(state: TaskState, source: PreviewSource) -> MLmodelData:
        return read_model(state, source)

    def show_data(self, data: MLmodelData) -> None:
        self.raw.show_start(data.text)
        overview = QWidget()
        layout = QVBoxLayout(overview)
        if data.model is None:
            layout.addWidget(_value_label(data.problem))
        else:
            self._fill_overview(layout, data.model, data)
        layout.addStretch(1)
        self.scroll.setWidget(overview)  # built first: its children show with it
        self.overview = overview
        self.tabs.setCurrentWidget(self.scroll if data.model is not None else self.raw)

    def _fill_overview(self, layout: QVBoxLayout, model: ModelInfo, data: MLmodelData) -> None:
        form = self._model_form(model)
        if form.rowCount():
            layout.addWidget(_heading("Model"))
            layout.addLayout(form)
        layout.addWidget(_heading("Flavors"))
        for flavor in model.flavors:
            box = QGroupBox(flavor.name)
            form = QFormLayout(box)
            for name, value in flavor.fields:
                form.addRow(_value_label(name), _value_label(value))
            layout.addWidget(box)
        self._add_signature(layout, model)
        self._add_example(layout, model, data)
        for note in model.notes:
            layout.addWidget(_value_label(note))

    def _model_form(self, model: ModelInfo) -> QFormLayout:
        form = QFormLayout()
        rows = [
            ("Model ID", model.model_id),
            ("Model UUID", model.model_uuid if model.model_uuid != model.model_id else None),
            ("Run ID", model.run_id),
            ("Created", f"{model.utc_time_created} UTC" if model.utc_time_created else None),
            ("MLflow version", model.mlflow_version),
            ("Size", size_text(model.model_size_bytes) if model.model_size_bytes else None),
        ]
        for name, value in rows:
            if value:
                form.addRow(_value_label(name), _value_label(value))
        return form

    def _add_signature(self, layout: QVBoxLayout, model: ModelInfo) -> None:
        if not model.has_signature:
            layout.addWidget(_heading("Signature"))
            layout.addWidget(_value_label("This model has no signature."))
            return
        layout.addWidget(_heading(f"Signature ({model.signature_kind})"))
        for title, rows in (
            ("Inputs", model.inputs),
            ("Outputs", model.outputs),
            ("Parameters", model.params),
        ):
            if rows:
                layout.addWidget(QLabel(title, textFormat=Qt.TextFormat.PlainText))
                layout.addWidget(signature_table(rows))

    def _add_example(self, layout: QVBoxLayout, model: ModelInfo, data: MLmodelData) -> None:
        self.example_view = None
        if not model.input_example:
            return
        layout.addWidget(_heading("Input example"))
        example = data.example
        if example is None:
            layout.addWidget(_value_label(data.example_note or model.input_example))
            return
        about = f"{example.name} · {size_text(example.size)}"
        if model.input_example_type:
            about += f" · {model.input_example_type}"
        if example.truncated:
            about += " · only its beginning is shown"
        layout.addWidget(_value_label(about))
        view = QPlainTextEdit(example.text, readOnly=True)
        view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        view.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        lines = min(example.text.count("\n") + 1, 16)
        view.setFixedHeight(view.fontMetrics().lineSpacing() * lines + 16)
        layout.addWidget(view)
        self.example_view = view
