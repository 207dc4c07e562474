"""Overview pages of traces until the trace list and the trace inspector arrive."""

from __future__ import annotations

from typing import Any

from flowdeck.core.addresses import Address, experiment_address
from flowdeck.store.base import Store
from flowdeck.ui.pages.overview_reads import (
    TRACE_PAGE_SIZE,
    TracesView,
    format_millis,
    format_time,
    read_traces,
)
from flowdeck.ui.pages.overview_widgets import Cell, LinkButton, OverviewPage, Section
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import page_type

TRACES_NEXT = (
    "The full trace list will add filtering and sorting, every page of traces, assessments, "
    "token usage and cost."
)
TRACE_NEXT = (
    "The full trace inspector will add a span tree with a timeline, each span's inputs, "
    "outputs, attributes and events, and the trace's assessments."
)
INDENT = "    "


def trace_address(trace_id: str) -> Address:
    return Address("trace", (trace_id,))


@page_type
class TracesPage(OverviewPage):
    """``traces/<experiment_id>[?filter=…]``: the first page of the experiment's traces."""

    family = "traces"
    read_label = "Reading traces"
    next_text = TRACES_NEXT

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.experiment_id = address.first_id
        self.set_title("Traces")
        self.set_heading("Traces")
        headers = ["Trace ID", "Name", "Request", "State", "Started", "Duration"]
        self.traces = Section("", self.link_table(headers))
        self.body_layout.addWidget(self.traces)

    def start(self) -> None:
        self.read(read_traces, self.experiment_id, self.address.filter, on_result=self._show)

    def _show(self, view: TracesView) -> None:
        name = view.experiment.name
        self.set_title(f"Traces — {name}")
        self.set_heading(f"Traces — {name}")
        shown = f"{len(view.traces)}"
        if view.more:
            shown = f"the newest {TRACE_PAGE_SIZE}; more are not shown yet"
        self.set_facts(
            [
                ("Experiment", LinkButton(name, experiment_address([self.experiment_id]))),
                ("Filter", self.address.filter),
                ("Traces", shown),
            ]
        )
        self.traces.table.set_rows(
            [
                [
                    Cell(info.trace_id, trace_address(info.trace_id)),
                    info.name or "",
                    info.request_preview or "",
                    info.status,
                    format_time(info.timestamp_ms),
                    format_millis(info.execution_time_ms),
                ]
                for info in view.traces
            ]
        )
        empty = (
            "No traces match the filter."
            if self.address.filter
            else "This experiment has no traces."
        )
        self.traces.set_note(empty if not view.traces else "", hide_table=not view.traces)

    def shows(self, change: Any) -> bool:
        return change.kind == "trace"
