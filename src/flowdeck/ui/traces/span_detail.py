"""One span in detail: inputs/outputs as a JSON tree and raw text, chat, documents, attributes."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont, QFontDatabase, QStandardItem, QStandardItemModel, QTextCharFormat
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QTableView,
    QTabWidget,
    QTextEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.entities import Span
from flowdeck.core.trace_view import (
    MODEL_ATTRIBUTE,
    chat_messages,
    exception_events,
    format_span_duration,
    retriever_documents,
    span_tokens,
)
from flowdeck.ui.labels import plain_label
from flowdeck.ui.traces.json_model import JsonTreeModel

RAW_LIMIT = 200_000  # characters put into a raw view; Copy Span copies everything
INPUTS, OUTPUTS, CHAT, DOCUMENTS, ATTRIBUTES, EVENTS = range(6)


def raw_text(value: Any) -> str:
    """The payload as indented JSON (strings as they are), cut at ``RAW_LIMIT`` with a note."""
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, indent=2, ensure_ascii=False, default=str)
    )
    if len(text) > RAW_LIMIT:
        more = len(text) - RAW_LIMIT
        return text[:RAW_LIMIT] + f"\n… {more:,} more characters (Copy Span copies all of it)"
    return text


def _mono() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class PayloadView(QTabWidget):
    """A payload as a collapsible tree and as raw text."""

    def __init__(self) -> None:
        super().__init__()
        self.setDocumentMode(True)
        self.model = JsonTreeModel(self)
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(0, 200)
        self.tree.setColumnWidth(1, 360)
        self.raw = QPlainTextEdit(readOnly=True)
        self.raw.setFont(_mono())
        self.addTab(self.tree, "Tree")
        self.addTab(self.raw, "Raw")

    def show_value(self, value: Any) -> None:
        self.model.set_value(value)
        if self.model.rowCount() <= 20:
            self.tree.expandToDepth(0)
        self.raw.setPlainText(raw_text(value))


class SpanDetail(QWidget):
    """Everything about the selected span; store text is only ever shown as plain text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.span: Span | None = None
        self.heading = plain_label(wrap=True)
        heading_font = self.heading.font()
        heading_font.setBold(True)
        self.heading.setFont(heading_font)
        self.facts = plain_label(wrap=True)
        self.inputs = PayloadView()
        self.outputs = PayloadView()
        self.chat = QTextEdit(readOnly=True)
        self.documents = QPlainTextEdit(readOnly=True)
        self.attribute_model = QStandardItemModel(0, 2, self)
        self.attribute_model.setHorizontalHeaderLabels(["Attribute", "Value"])
        self.attribute_proxy = QSortFilterProxyModel(self)
        self.attribute_proxy.setSourceModel(self.attribute_model)
        self.attribute_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.attribute_proxy.setFilterKeyColumn(-1)
        self.attribute_search = QLineEdit(
            placeholderText="Search attributes", clearButtonEnabled=True
        )
        self.attribute_search.textChanged.connect(self.attribute_proxy.setFilterFixedString)
        self.attributes = QTableView()
        self.attributes.setModel(self.attribute_proxy)
        self.attributes.setSortingEnabled(True)
        self.attributes.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.attributes.horizontalHeader().setStretchLastSection(True)
        self.attributes.verticalHeader().setVisible(False)
        attributes_tab = QWidget()
        attributes_layout = QVBoxLayout(attributes_tab)
        attributes_layout.setContentsMargins(0, 0, 0, 0)
        attributes_layout.addWidget(self.attribute_search)
        attributes_layout.addWidget(self.attributes)
        self.events = QPlainTextEdit(readOnly=True)
        self.events.setFont(_mono())
        self.tabs = QTabWidget()
        for widget, title in (
            (self.inputs, "Inputs"),
            (self.outputs, "Outputs"),
            (self.chat, "Chat"),
            (self.documents, "Documents"),
            (attributes_tab, "Attributes"),
            (self.events, "Events"),
        ):
            self.tabs.addTab(widget, title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.facts)
        layout.addWidget(self.tabs, 1)
        self.show_span(None, None)

    def show_span(self, span: Span | None, duration_ns: int | None) -> None:
        self.span = span
        if span is None:
            self.heading.setText("Select a span to see its inputs, outputs and attributes.")
            self.facts.setText("")
            self.tabs.setEnabled(False)
            return
        self.tabs.setEnabled(True)
        self.heading.setText(span.name or span.span_id)
        duration = format_span_duration(duration_ns)
        facts = [span.span_type, span.status, duration]
        tokens = span_tokens(span)
        if tokens:
            facts.append(f"tokens {tokens.text()}")
        model = span.attributes.get(MODEL_ATTRIBUTE)
        if model:
            facts.append(f"model {model}")
        if span.status_message:
            facts.append(span.status_message)
        facts.append(f"span {span.span_id}")
        if span.problem:
            facts.append(span.problem)
        self.facts.setText(" · ".join(str(fact) for fact in facts if fact))
        self.inputs.show_value(span.inputs)
        self.outputs.show_value(span.outputs)
        self._show_chat(span)
        self._show_documents(span)
        self._show_attributes(span)
        self._show_events(span)

    def _show_chat(self, span: Span) -> None:
        messages = chat_messages(span)
        self.tabs.setTabVisible(CHAT, bool(messages))
        self.chat.clear()
        cursor = self.chat.textCursor()
        role_format = QTextCharFormat()
        role_format.setFontWeight(QFont.Weight.Bold)
        plain = QTextCharFormat()
        for number, message in enumerate(messages):
            if number:
                cursor.insertBlock()
                cursor.insertBlock()
            cursor.insertText(message.role, role_format)  # insertText never parses markup
            cursor.insertBlock()
            cursor.insertText(message.content, plain)
            for call in message.tool_calls:
                cursor.insertBlock()
                cursor.insertText(f"→ tool call: {call}", plain)
        self.chat.moveCursor(self.chat.textCursor().MoveOperation.Start)

    def _show_documents(self, span: Span) -> None:
        documents = retriever_documents(span)
        self.tabs.setTabVisible(DOCUMENTS, bool(documents))
        lines = []
        for number, document in enumerate(documents, start=1):
            score = f"score {document.score:.4g}" if document.score is not None else "no score"
            lines.append(f"#{number} · {score} · {document.source or 'no source'}")
            lines.append(document.text)
            lines.append("")
        self.documents.setPlainText("\n".join(lines))

    def _show_attributes(self, span: Span) -> None:
        self.attribute_model.removeRows(0, self.attribute_model.rowCount())
        for key, value in sorted(span.attributes.items()):
            text = (
                value
                if isinstance(value, str)
                else json.dumps(value, ensure_ascii=False, default=str)
            )
            key_item, value_item = QStandardItem(key), QStandardItem(text[:10_000])
            for item in (key_item, value_item):
                item.setEditable(False)
            self.attribute_model.appendRow([key_item, value_item])
        self.attributes.resizeColumnToContents(0)
        self.tabs.setTabText(ATTRIBUTES, f"Attributes ({len(span.attributes)})")

    def _show_events(self, span: Span) -> None:
        lines = []
        for kind, message, stack in exception_events(span):
            lines += [f"Exception {kind}: {message}", stack, ""]
        for event in span.events:
            if event.name != "exception":
                attributes = json.dumps(event.attributes, ensure_ascii=False, default=str)
                lines.append(f"{event.name} at {event.time_unix_nano} ns {attributes}")
        self.events.setPlainText("\n".join(lines) or "No events.")
        self.tabs.setTabText(EVENTS, f"Events ({len(span.events)})")
