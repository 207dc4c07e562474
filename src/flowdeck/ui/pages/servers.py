"""The ``servers`` page: local model servers, their logs, a request console, the inference log."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.addresses import Address, model_address
from flowdeck.core.text_format import format_duration
from flowdeck.store.base import Store
from flowdeck.ui.labels import plain_label
from flowdeck.ui.serving.console import RequestConsole
from flowdeck.ui.serving.manager import Served, servers_of
from flowdeck.ui.shell.page import Page, Shell
from flowdeck.ui.shell.page_types import page_type

HEADERS = ("Model", "Version", "URL", "Environment", "Uptime", "Health", "Status")
LOG_HEADERS = ("Time", "Method", "Path", "Status", "Latency", "Request", "Response")
NONE_YET = (
    "No local model servers are running. Serve a model version, a logged model or a run's "
    "model with Serve Locally… on its page."
)


def _entry_cells(entry: Any) -> tuple[str, ...]:
    def get(name: str, default: Any = "") -> Any:
        return (
            entry.get(name, default) if isinstance(entry, dict) else getattr(entry, name, default)
        )

    latency = get("latency_ms", None)
    stamp = get("time", None)
    return (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp else "",
        str(get("method", "")),
        str(get("path", "")),
        str(get("status", "")),
        "" if latency is None else f"{float(latency):.0f} ms",
        str(get("request_bytes", "")),
        str(get("response_bytes", "")),
    )


@page_type
class ServersPage(Page):
    """Every server this session started: stop, restart, watch the log, send requests."""

    family = "servers"

    def __init__(self, shell: Shell, store: Store | None, address: Address) -> None:
        super().__init__(shell, store, address)  # type: ignore[arg-type]
        self.set_title("Servers")
        self.manager = servers_of(shell)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.empty = plain_label(NONE_YET, wrap=True)
        self.buttons: dict[str, QPushButton] = {}
        bar = QHBoxLayout()
        for key, text, slot in (
            ("stop", "Stop", lambda: self._with_selected(self.manager.stop)),
            ("restart", "Restart", lambda: self._with_selected(self.manager.restart)),
            ("model", "Open Model Page", self.open_model),
            ("copy", "Copy URL", self.copy_url),
        ):
            button = QPushButton(text)
            button.clicked.connect(slot)
            bar.addWidget(button)
            self.buttons[key] = button
        bar.addStretch(1)
        self.log_search = QLineEdit(
            placeholderText="Find in the log (Enter: next)", clearButtonEnabled=True
        )
        self.log_search.returnPressed.connect(self.find_in_log)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log.setMaximumBlockCount(20_000)
        log_tab = QWidget()
        log_layout = QVBoxLayout(log_tab)
        log_layout.addWidget(self.log_search)
        log_layout.addWidget(self.log, 1)
        self.console = RequestConsole(shell.runner)
        self.requests_filter = QLineEdit(placeholderText="Filter requests", clearButtonEnabled=True)
        self.requests_filter.textChanged.connect(lambda _t: self._show_requests())
        export = QPushButton("Export CSV…")
        export.clicked.connect(self.export_requests)
        self.requests = QTableWidget(0, len(LOG_HEADERS))
        self.requests.setHorizontalHeaderLabels(list(LOG_HEADERS))
        self.requests.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.requests.verticalHeader().setVisible(False)
        requests_tab = QWidget()
        requests_layout = QVBoxLayout(requests_tab)
        top = QHBoxLayout()
        top.addWidget(self.requests_filter, 1)
        top.addWidget(export)
        requests_layout.addLayout(top)
        requests_layout.addWidget(self.requests, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(log_tab, "Log")
        self.tabs.addTab(self.console, "Request Console")
        self.tabs.addTab(requests_tab, "Inference Log")
        upper = QWidget()
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addWidget(self.empty)
        upper_layout.addWidget(self.table, 1)
        upper_layout.addLayout(bar)
        splitter = QSplitter()
        splitter.setOrientation(splitter.orientation().Vertical)
        splitter.addWidget(upper)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._log_lines = 0
        self._requests_seen: tuple = ()
        self.manager.changed.connect(self.refresh_view)
        self.refresh_view()

    def start(self) -> None:
        self.refresh_view()
        self.finish_loading()

    # --- the servers ------------------------------------------------------------------------------

    def selected(self) -> Served | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        number = self.table.item(rows[0].row(), 0).data(256)
        return next((s for s in self.manager.servers if s.number == number), None)

    def refresh_view(self) -> None:
        chosen = self.selected()
        servers = self.manager.servers
        self.table.blockSignals(True)
        self.table.setRowCount(len(servers))
        for row, served in enumerate(servers):
            env = getattr(served.options, "env", "")
            status = served.state
            process = served.process
            if status == "starting" and process is not None:
                progress = process.startup_progress()
                status = f"starting: {progress}" if progress else status
            if status == "failed" and served.problem:
                status = f"failed: {served.problem.splitlines()[0]}"
            elif status == "failed" and process is not None and process.exit_code is not None:
                status = f"failed (exit code {process.exit_code}): see the log"
            cells = (
                served.label,
                served.resolved_version or "",
                served.url,
                str(env),
                format_duration(served.uptime_s()) if served.state == "running" else "",
                {True: "answers /ping", False: "no answer"}.get(served.healthy, "")
                if served.state == "running"
                else "",
                status,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(256, served.number)
                self.table.setItem(row, column, item)
            if chosen is not None and served.number == chosen.number:
                self.table.selectRow(row)
        if chosen is None and servers:
            self.table.selectRow(len(servers) - 1)
        self.table.blockSignals(False)
        self.table.resizeColumnsToContents()
        self.empty.setVisible(not servers)
        self._selection_changed()

    def _selection_changed(self) -> None:
        served = self.selected()
        running = served is not None and served.state in ("starting", "running")
        self.buttons["stop"].setEnabled(running and served.process is not None)
        self.buttons["restart"].setEnabled(served is not None and served.process is not None)
        self.buttons["model"].setEnabled(served is not None and served.uri.startswith("models:/"))
        self.buttons["copy"].setEnabled(served is not None and bool(served.url))
        self._show_log(served)
        if served is not None:
            self.console.show_server(
                served.url if served.state == "running" else "", served.uri, served.model_dir
            )
        self._show_requests()

    def _with_selected(self, action: Any) -> None:
        served = self.selected()
        if served is not None:
            action(served)

    def open_model(self) -> None:
        served = self.selected()
        if served is None or not served.uri.startswith("models:/"):
            return
        name, _, rest = served.uri[len("models:/") :].partition("/")
        name = name.split("@", 1)[0]
        version = served.resolved_version or (rest if rest.isdigit() else "")
        if name.startswith("m-"):
            self.open_requested.emit(Address("logged-model", (name,)), False)
        else:
            self.open_requested.emit(model_address(name, version or None), False)

    def copy_url(self) -> None:
        served = self.selected()
        if served is not None and served.url:
            QGuiApplication.clipboard().setText(served.url)
            self.status.emit(f"Copied {served.url}")

    # --- log and requests ----------------------------------------------------------------------

    def _show_log(self, served: Served | None) -> None:
        lines: list[str] = []
        if served is not None:
            if served.process is not None:
                lines = [
                    f"{time.strftime('%H:%M:%S', time.localtime(line.time))}  {line.text}"
                    for line in served.process.log_lines()
                ]
            if served.problem:
                lines.append(served.problem)
        if len(lines) != self._log_lines or served is None:
            self._log_lines = len(lines)
            self.log.setPlainText("\n".join(lines))
            self.log.moveCursor(self.log.textCursor().MoveOperation.End)

    def find_in_log(self) -> None:
        needle = self.log_search.text()
        if needle and not self.log.find(needle):
            self.log.moveCursor(self.log.textCursor().MoveOperation.Start)
            if not self.log.find(needle):
                self.status.emit(f"'{needle}' is not in the log")

    def _inference_log(self) -> Any:
        served = self.selected()
        process = served.process if served is not None else None
        return getattr(process, "inference_log", None) if process is not None else None

    def _show_requests(self) -> None:
        """Rebuild the requests table only when the log, its size or the filter changed (the
        manager ticks every second; thousands of rows rebuilt each time would stall)."""
        log = self._inference_log()
        seen = (id(log), log.changes if log is not None else 0, self.requests_filter.text())
        if seen == self._requests_seen:
            return
        self._requests_seen = seen
        entries = list(log.entries(self.requests_filter.text() or None)) if log is not None else []
        self.requests.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            for column, text in enumerate(_entry_cells(entry)):
                self.requests.setItem(row, column, QTableWidgetItem(text))

    def export_requests(self) -> None:
        log = self._inference_log()
        if log is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export Inference Log", "requests.csv", "CSV (*.csv)"
        )
        if path:
            log.to_csv(path)
            self.status.emit(f"Saved the inference log to {path}")
