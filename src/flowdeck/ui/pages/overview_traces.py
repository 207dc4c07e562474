"""Overview pages of traces until the trace list and the trace inspector arrive."""

from __future__ import annotations

from typing import Any

from flowdeck.core.addresses import Address, experiment_address, run_address
from flowdeck.core.trace_filter import SOURCE_RUN_KEY
from flowdeck.store.base import Store
from flowdeck.ui.pages.overview_reads import (
    TRACE_PAGE_SIZE,
    TracesView,
    TraceView,
    format_millis,
    format_time,
    read_trace,
    read_traces,
    trace_label,
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


@page_type
class TracePage(OverviewPage):
    """``trace/<trace_id>``: the trace's facts and its spans, indented by depth."""

    family = "trace"
    read_label = "Reading the trace"
    next_text = TRACE_NEXT

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.trace_id = address.first_id
        self.set_title(self.trace_id)
        headers = ["Span", "Type", "Status", "Starts after", "Duration"]
        self.spans = Section("Spans", self.link_table(headers))
        self.body_layout.addWidget(self.spans)

    def start(self) -> None:
        self.read(read_trace, self.trace_id, on_result=self._show)

    def _show(self, view: TraceView) -> None:
        info, tree = view.trace.info, view.tree
        self.set_title(trace_label(info))
        self.set_heading(trace_label(info))
        experiment = LinkButton(
            view.experiment_name or f"Experiment {info.experiment_id}",
            experiment_address([info.experiment_id]),
        )
        tokens = ", ".join(f"{key} {value}" for key, value in sorted(info.token_usage.items()))
        source_run = info.metadata.get(SOURCE_RUN_KEY, "")
        run: LinkButton | str = (
            LinkButton(source_run, run_address(source_run)) if source_run else ""
        )
        self.set_facts(
            [
                ("Trace ID", info.trace_id),
                ("Experiment", experiment),
                ("Run", run),
                ("State", info.status),
                ("Started", format_time(info.timestamp_ms)),
                ("Duration", format_millis(info.execution_time_ms)),
                ("Request", info.request_preview or ""),
                ("Response", info.response_preview or ""),
                ("Session", info.session_id or ""),
                ("Tokens", tokens),
            ]
        )
        rows = []
        for index in tree.order:
            span, duration = tree.spans[index], tree.duration_ns[index]
            rows.append(
                [
                    INDENT * tree.depth[index] + span.name,
                    span.span_type,
                    span.status,
                    format_millis(tree.offset_ns[index] / 1e6),
                    format_millis(None if duration is None else duration / 1e6),
                ]
            )
        self.spans.table.set_rows(rows)
        self.spans.set_caption(f"Spans ({len(rows)})")
        self.spans.set_note("" if rows else "This trace has no spans.", hide_table=not rows)

    def shows(self, change: Any) -> bool:
        return change.kind == "trace" and self.trace_id in change.ids
