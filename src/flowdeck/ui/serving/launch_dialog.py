"""Serve Locally…: port, host, environment, workers, timeout, and whether loading runs code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.ui.labels import plain_label

LOOPBACK = ("127.0.0.1", "localhost", "::1")
ENVIRONMENTS = (
    ("The Python Flowdeck runs in", "current"),
    ("A fresh virtualenv from the model's python_env.yaml (built once, then reused)", "virtualenv"),
    ("Another Python interpreter…", "interpreter"),
)
# The standalone bundle has no Python of its own: the first one on PATH with MLflow stands in.
BUNDLE_CURRENT = "The first Python with MLflow on this machine's PATH"


def environment_choices() -> list[tuple[str, str]]:
    """The environment menu's (text, key) items, worded for a bundle or a Python install."""
    from flowdeck.serving.interpreters import running_from_bundle

    if not running_from_bundle():
        return list(ENVIRONMENTS)
    return [(BUNDLE_CURRENT, "current"), *ENVIRONMENTS[1:]]


@dataclass(frozen=True)
class Inspected:
    """The model resolved and fetched, ready to serve, with its code warning (or None)."""

    uri: str
    label: str
    model_dir: Path
    resolved_version: str | None
    warning: str | None


def inspect_model(state: TaskState, store: Store, uri: str) -> Inspected:
    """Resolve and fetch the model, and read whether loading it runs its code (a worker)."""
    from flowdeck.serving import fetch_model, flavor_runs_code, resolve

    ref = resolve(store, uri)
    state.check()
    model_dir = Path(fetch_model(store, ref, state=state))
    warning = flavor_runs_code(model_dir / "MLmodel")
    return Inspected(uri, ref.label, model_dir, ref.resolved_version, warning)


class LaunchDialog(QDialog):
    """The options of one server; Start only once the model is fetched and read."""

    def __init__(self, uri: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Serve Locally")
        self.uri = uri
        self.inspected: Inspected | None = None
        self.port = QSpinBox(minimum=0, maximum=65535, value=0)
        self.port.setSpecialValueText("a free port")
        self.host = QLineEdit("127.0.0.1")
        self.remote = QCheckBox(
            "Let other machines connect (anyone who reaches this port can run the model)"
        )
        self.env = QComboBox()
        for text, key in environment_choices():
            self.env.addItem(text, key)
        self.interpreter = QLineEdit(placeholderText="/path/to/python")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        interpreter_row = QWidget()
        row = QHBoxLayout(interpreter_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.interpreter, 1)
        row.addWidget(browse)
        self.interpreter_row = interpreter_row
        self.workers = QSpinBox(minimum=1, maximum=32, value=1)
        self.timeout = QSpinBox(minimum=5, maximum=3600, value=60, suffix=" s")
        self.status = plain_label("Fetching the model to see what it needs…", wrap=True)
        self.warning = plain_label(wrap=True)
        self.warning.setStyleSheet("color: #b26a00;")
        self.warning.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.start_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.start_button.setText("Start")
        self.start_button.setEnabled(False)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(plain_label(f"Serve {uri} with MLflow's scoring server.", wrap=True))
        form.addRow("Port", self.port)
        form.addRow("Host", self.host)
        form.addRow("", self.remote)
        form.addRow("Environment", self.env)
        form.addRow("", interpreter_row)
        form.addRow("Workers", self.workers)
        form.addRow("Request timeout", self.timeout)
        form.addRow(self.status)
        form.addRow(self.warning)
        form.addRow(self.buttons)
        self.env.currentIndexChanged.connect(self._update)
        self.host.textChanged.connect(self._update)
        self.remote.toggled.connect(self._update)
        self._update()
        self.resize(560, self.sizeHint().height())

    def show_inspected(self, inspected: Inspected) -> None:
        self.inspected = inspected
        version = f" (version {inspected.resolved_version})" if inspected.resolved_version else ""
        self.status.setText(f"Ready: {inspected.label}{version}.")
        if inspected.warning:
            self.warning.setText(inspected.warning)
            self.warning.show()
        self._update()

    def show_problem(self, text: str) -> None:
        self.status.setText(f"The model cannot be served: {text}")
        self._update()

    def is_remote(self) -> bool:
        return self.host.text().strip() not in LOOPBACK

    def why_not(self) -> str | None:
        if self.inspected is None:
            return "The model is still being fetched."
        if self.is_remote() and not self.remote.isChecked():
            return "Serving on another address than 127.0.0.1 needs the box above ticked."
        if self.env.currentData() == "interpreter" and not self.interpreter.text().strip():
            return "Choose the interpreter to run the server with."
        return None

    def _update(self) -> None:
        self.interpreter_row.setVisible(self.env.currentData() == "interpreter")
        self.remote.setVisible(self.is_remote())
        reason = self.why_not()
        self.start_button.setEnabled(reason is None)
        self.start_button.setToolTip(reason or "")

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Python Interpreter")
        if path:
            self.interpreter.setText(path)

    def options(self) -> Any:
        from flowdeck.serving import LaunchOptions

        env = self.env.currentData()
        if env == "interpreter":
            env = self.interpreter.text().strip()
        return LaunchOptions(
            port=self.port.value() or None,
            host=self.host.text().strip() or "127.0.0.1",
            env=env,
            workers=self.workers.value(),
            timeout=self.timeout.value(),
            allow_remote=self.is_remote() and self.remote.isChecked(),
        )

    def _accept(self) -> None:
        if self.why_not() is None:
            self.accept()
