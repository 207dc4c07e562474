"""The request console: a body pre-filled from the model, Send, the answer, history, curl."""

from __future__ import annotations

import contextlib
import json
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.task_state import TaskState
from flowdeck.ui.labels import plain_label

EXAMPLE_FILE = "serving_input_example.json"
REQUEST_TIMEOUT_S = 120


@dataclass(frozen=True)
class Answer:
    status: int
    latency_ms: float
    body: str


def example_body(model_dir: Path | None) -> str:
    """The model's saved serving input example, else a ``dataframe_split`` from its signature."""
    if model_dir is None:
        return "{}"
    example = Path(model_dir) / EXAMPLE_FILE
    if example.is_file():
        try:
            return json.dumps(json.loads(example.read_text(encoding="utf-8")), indent=2)
        except (OSError, ValueError):
            pass
    return json.dumps(
        {"dataframe_split": {"columns": signature_columns(model_dir), "data": [[]]}}, indent=2
    )


FORMATS = ("saved example", "dataframe_split", "dataframe_records", "instances", "inputs")


def body_in_format(model_dir: Path | None, kind: str) -> str:
    """A request body in one of MLflow's input formats, with the example's rows when it has some."""
    if kind == FORMATS[0]:
        return example_body(model_dir)
    columns, rows = _example_rows(model_dir)
    records = [dict(zip(columns, row, strict=False)) for row in rows]
    if kind == "dataframe_split":
        body: dict[str, Any] = {"dataframe_split": {"columns": columns, "data": rows}}
    elif kind == "dataframe_records":
        body = {"dataframe_records": records}
    elif kind == "instances":
        body = {"instances": records}
    else:
        body = {"inputs": {column: [row[i] for row in rows] for i, column in enumerate(columns)}}
    return json.dumps(body, indent=2)


def _example_rows(model_dir: Path | None) -> tuple[list[str], list[list[Any]]]:
    try:
        parsed = json.loads(example_body(model_dir))
        split = parsed.get("dataframe_split") or {}
        columns = [str(c) for c in split.get("columns") or []]
        rows = [list(row) for row in split.get("data") or [] if row]
    except (ValueError, AttributeError, TypeError):
        columns, rows = [], []
    if not columns and model_dir is not None:
        columns = signature_columns(model_dir)
    return columns, rows or [[None] * len(columns)]


def signature_columns(model_dir: Path) -> list[str]:
    """The input column names of the model's signature ([] when it has none)."""
    try:
        import yaml

        meta = yaml.safe_load((Path(model_dir) / "MLmodel").read_text(encoding="utf-8")) or {}
        inputs = json.loads((meta.get("signature") or {}).get("inputs") or "[]")
    except (OSError, ValueError, TypeError, AttributeError):
        return []
    return [str(item.get("name")) for item in inputs if isinstance(item, dict) and item.get("name")]


def send(state: TaskState, url: str, body: str) -> Answer:
    """POST the body to ``url/invocations`` (a worker)."""
    import requests

    state.check()
    started = time.perf_counter()
    response = requests.post(
        f"{url.rstrip('/')}/invocations",
        data=body.encode("utf-8"),
        headers={"Content-Type": "application/json"},
        timeout=REQUEST_TIMEOUT_S,
    )
    latency = (time.perf_counter() - started) * 1000
    return Answer(response.status_code, latency, response.text)


def curl_command(url: str, body: str) -> str:
    compact = body
    with contextlib.suppress(ValueError):
        compact = json.dumps(json.loads(body))
    return (
        f"curl -X POST {shlex.quote(url.rstrip('/') + '/invocations')} "
        f"-H 'Content-Type: application/json' -d {shlex.quote(compact)}"
    )


class RequestConsole(QWidget):
    """Send requests to one server; keeps a history per model (bodies sent, newest first)."""

    def __init__(self, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.url = ""
        self.model_key = ""
        self.model_dir: Path | None = None
        self.histories: dict[str, list[str]] = {}
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.body = QPlainTextEdit()
        self.body.setFont(mono)
        self.response = QPlainTextEdit(readOnly=True)
        self.response.setFont(mono)
        self.outcome = plain_label()
        self.history = QListWidget()
        self.history.itemDoubleClicked.connect(
            lambda item: self.body.setPlainText(item.data(Qt.ItemDataRole.UserRole))
        )
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(self.send)
        self.format_box = QComboBox()
        self.format_box.addItems(list(FORMATS))
        self.format_box.setToolTip("Fill the body in one of MLflow's input formats")
        self.format_box.activated.connect(
            lambda _i: self.body.setPlainText(
                body_in_format(self.model_dir, self.format_box.currentText())
            )
        )
        self.curl_button = QPushButton("Copy as curl")
        self.curl_button.clicked.connect(self.copy_curl)
        buttons = QHBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.format_box)
        buttons.addWidget(self.curl_button)
        buttons.addWidget(self.outcome, 1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(plain_label("Request body (POST /invocations):"))
        left_layout.addWidget(self.body, 1)
        left_layout.addLayout(buttons)
        left_layout.addWidget(plain_label("Response:"))
        left_layout.addWidget(self.response, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(plain_label("History (double-click to reuse):"))
        right_layout.addWidget(self.history, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def show_server(self, url: str, model_key: str, model_dir: Path | None) -> None:
        """Point the console at a server; a new model gets its example body."""
        if model_key != self.model_key:
            self.model_key, self.model_dir = model_key, model_dir
            self.format_box.setCurrentIndex(0)
            self.body.setPlainText(example_body(model_dir))
            self.response.clear()
            self.outcome.setText("")
            self._fill_history()
        self.url = url
        self.send_button.setEnabled(bool(url))

    def send(self) -> None:
        if not self.url:
            return
        body = self.body.toPlainText()
        past = self.histories.setdefault(self.model_key, [])
        if body in past:
            past.remove(body)
        past.insert(0, body)
        self._fill_history()
        self.outcome.setText("Sending…")
        self.runner.submit(
            send,
            self.url,
            body,
            owner=self,
            label="Sending a request",
            on_result=self._answered,
            on_error=lambda error, _d: self.outcome.setText(
                f"No answer: {getattr(error, 'message', error)}"
            ),
        )

    def _fill_history(self) -> None:
        self.history.clear()
        for body in self.histories.get(self.model_key, []):
            line = " ".join(body.split())
            item = QListWidgetItem(line if len(line) <= 120 else line[:120] + "…")
            item.setData(Qt.ItemDataRole.UserRole, body)
            self.history.addItem(item)

    def _answered(self, answer: Answer) -> None:
        self.outcome.setText(f"HTTP {answer.status} in {answer.latency_ms:.0f} ms")
        try:
            text = json.dumps(json.loads(answer.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = answer.body
        self.response.setPlainText(text)

    def copy_curl(self) -> None:
        if self.url:
            QGuiApplication.clipboard().setText(curl_command(self.url, self.body.toPlainText()))
            self.outcome.setText("Copied the curl command")
