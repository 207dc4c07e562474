"""Overview pages of runs, comparisons and servers; importing it registers every overview page."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QTabWidget

from flowdeck.core.addresses import Address, experiment_address, run_address
from flowdeck.core.context import Item, Selection
from flowdeck.core.entities import RunDetail
from flowdeck.core.runs_table_format import format_number
from flowdeck.store.base import Store
from flowdeck.ui.pages import overview_registry, overview_traces  # noqa: F401 - registers pages
from flowdeck.ui.pages.overview_reads import (
    RunView,
    compare_rows,
    first_line,
    format_millis,
    format_size,
    format_time,
    read_run,
    read_runs,
    run_label,
    short_id,
)
from flowdeck.ui.pages.overview_widgets import (
    Cell,
    LinkButton,
    OverviewPage,
    Section,
    plain_label,
)
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import page_type

RUN_NEXT = (
    "The full run page will add description editing, dataset inputs, sparklines, metric charts "
    "and artifact previews."
)
ARTIFACTS_NEXT = (
    "The full run page will add previews of images, tables, text and models, and downloads of "
    "artifacts, next to description editing, dataset inputs and metric charts."
)
COMPARE_NEXT = (
    "The full comparison will add overlaid metric charts, tags and dataset inputs side by side, "
    "and a choice of which runs to compare."
)
SERVERS_NEXT = (
    "Serving a model version locally arrives with the serving feature; the servers you start "
    "will be listed here with their address, model and log."
)
DELETED = "deleted"


@page_type
class RunPage(OverviewPage):
    """``run/<id>`` and ``run/<id>/artifacts/<path>``: facts, params, metrics, tags, artifacts."""

    family = "run"
    read_label = "Reading the run"

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.run_id = address.first_id
        self.artifact_path = address.path if address.kind == "run-artifacts" else None
        self.next_label.setText(ARTIFACTS_NEXT if self.artifact_path is not None else RUN_NEXT)
        self.view: RunView | None = None
        self.params = Section("", self.link_table(["Param", "Value"]), inset=True)
        self.metrics = Section(
            "", self.link_table(["Metric", "Latest value", "Step", "Logged"]), inset=True
        )
        self.tags = Section("", self.link_table(["Tag", "Value"]), inset=True)
        self.artifacts = Section("", self.link_table(["Name", "Size"]), inset=True)
        self.tabs = QTabWidget()
        for name, widget in (
            ("Params", self.params),
            ("Metrics", self.metrics),
            ("Tags", self.tags),
            ("Artifacts", self.artifacts),
        ):
            self.tabs.addTab(widget, name)
        self.body_layout.addWidget(self.tabs)

    def start(self) -> None:
        self.read(read_run, self.run_id, self.artifact_path, on_result=self._show)

    def _show(self, view: RunView) -> None:
        self.view = view
        detail = view.detail
        self.set_title(run_label(detail))
        self.set_heading(run_label(detail))
        self.set_facts(self._facts(view))
        self._fill_tables(detail)
        self._fill_artifacts(view)
        if self.artifact_path is not None:
            self.tabs.setCurrentWidget(self.artifacts)
        self.selection_changed.emit(self.selection())

    def _facts(self, view: RunView) -> list[tuple[str, Any]]:
        info, detail = view.detail.info, view.detail
        duration = ""
        if info.start_time and info.end_time:
            duration = format_millis(info.end_time - info.start_time)
        experiment = LinkButton(
            view.experiment_name or f"Experiment {info.experiment_id}",
            experiment_address([info.experiment_id]),
        )
        facts: list[tuple[str, Any]] = [
            ("Run ID", info.run_id),
            ("Experiment", experiment),
            ("Status", info.status + (" (deleted)" if info.lifecycle_stage == DELETED else "")),
            ("Started", format_time(info.start_time)),
            ("Duration", duration),
            ("User", info.user_id or ""),
        ]
        if detail.parent_run_id:
            facts.append(
                ("Parent run", LinkButton(detail.parent_run_id, run_address(detail.parent_run_id)))
            )
        facts.append(("Description", first_line(detail.description)))
        return facts

    def _fill_tables(self, detail: RunDetail) -> None:
        params = sorted(detail.params.items())
        self.params.table.set_rows([[key, value] for key, value in params])
        self.params.set_note("" if params else "This run has no params.", hide_table=not params)
        metrics = sorted(detail.metrics.values(), key=lambda metric: metric.key)
        self.metrics.table.set_rows(
            [
                [m.key, format_number(m.value), str(m.step), format_time(m.timestamp)]
                for m in metrics
            ]
        )
        self.metrics.set_note("" if metrics else "This run has no metrics.", hide_table=not metrics)
        tags = sorted(detail.tags.items())
        self.tags.table.set_rows([[key, value] for key, value in tags])
        self.tags.set_note("" if tags else "This run has no tags.", hide_table=not tags)
        self.tabs.setTabText(0, f"Params ({len(params)})")
        self.tabs.setTabText(1, f"Metrics ({len(metrics)})")
        self.tabs.setTabText(2, f"Tags ({len(tags)})")

    def _fill_artifacts(self, view: RunView) -> None:
        rows: list[list[str | Cell]] = []
        if view.folder:
            parent = view.folder.rpartition("/")[0]
            rows.append([Cell("..", run_address(self.run_id, parent)), "parent folder"])
        for entry in view.entries:
            name = entry.path.rpartition("/")[2] + ("/" if entry.is_dir else "")
            size = "folder" if entry.is_dir else format_size(entry.file_size)
            target = run_address(self.run_id, entry.path)
            rows.append([Cell(name, target, bold=entry.path == view.file), size])
        table = self.artifacts.table
        table.set_rows(rows)
        where = f"Folder: {view.folder}/" if view.folder else "Folder: the run's artifact root"
        if view.file:
            where = f"{where}. The address names the file {view.file.rpartition('/')[2]}."
            above = 1 if view.folder else 0  # the '..' row
            table.selectRow(above + [e.path for e in view.entries].index(view.file))
        if view.artifacts_note:
            self.artifacts.set_note(view.artifacts_note, hide_table=True)
        elif not view.entries and not view.folder:
            self.artifacts.set_note("This run has no artifacts.", hide_table=True)
        else:
            self.artifacts.set_note(where)
        self.tabs.setTabText(3, f"Artifacts ({len(view.entries)})")

    def selection(self) -> Selection:
        if self.view is None:
            return super().selection()
        info = self.view.detail.info
        item = Item(
            info.run_id, info.run_name, info.lifecycle_stage == DELETED, info.artifact_uri or ""
        )
        return Selection("run", self.store, (item,))

    def shows(self, change: Any) -> bool:
        return change.kind == "run" and self.run_id in change.ids


@page_type
class ComparePage(OverviewPage):
    """``compare/<id>,<id>…``: the runs' params and latest metrics side by side."""

    family = "compare"
    read_label = "Reading the compared runs"
    next_text = COMPARE_NEXT

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.run_ids = address.ids
        self.set_title(f"Compare {len(self.run_ids)} runs")
        self.set_heading(f"Compare {len(self.run_ids)} runs")
        self.table = self.link_table(["", *(short_id(i) for i in self.run_ids)])
        self.values = Section("", self.table)
        self.body_layout.addWidget(self.values)

    def start(self) -> None:
        self.read(read_runs, tuple(self.run_ids), on_result=self._show)

    def _show(self, details: list[RunDetail]) -> None:
        self.table.setHorizontalHeaderLabels(["", *(run_label(d) for d in details)])
        rows: list[list[str | Cell]] = [
            [Cell("Run ID", bold=True)]
            + [Cell(short_id(d.info.run_id), run_address(d.info.run_id)) for d in details]
        ]
        compared = compare_rows(details)
        section = ""
        for row in compared:
            if row.section != section:
                section = row.section
                rows.append([Cell(section, bold=True)] + [""] * len(details))
            rows.append([row.key] + [Cell(value, bold=row.differs) for value in row.values])
        self.table.set_rows(rows)
        differing = sum(row.differs for row in compared)
        self.set_facts(
            [
                ("Runs", ", ".join(run_label(d) for d in details)),
                ("Values that differ", f"{differing} of {len(compared)} (shown in bold)"),
            ]
        )
        self.values.set_note("" if compared else "These runs have no params and no metrics.")

    def shows(self, change: Any) -> bool:
        return change.kind == "run" and bool(set(change.ids) & set(self.run_ids))


@page_type
class ServersPage(OverviewPage):
    """``servers``: local model servers (none can run yet). ``store`` may be None."""

    family = "servers"
    next_text = SERVERS_NEXT

    def __init__(self, shell: Shell, store: Store | None, address: Address) -> None:
        super().__init__(shell, store, address)  # type: ignore[arg-type]
        self.set_title("Servers")
        self.set_heading("Servers")
        self.set_facts([])
        self.body_layout.addWidget(plain_label("No local model servers are running.", wrap=True))
        self.show_body(True)
        self.page_layout.setStretchFactor(self.body, 0)
        self.page_layout.addStretch(1)  # the next-page note right under the text

    def start(self) -> None:
        self.finish_loading()
