"""The main window's handlers for run and view commands (a mixin of MainWindow)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from flowdeck.core.addresses import MAX_COMPARED, Address, run_address
from flowdeck.ui.startup import as_experiment_page
from flowdeck.ui.theme import MODES, apply_theme

if TYPE_CHECKING:
    from flowdeck.ui.main_window import MainWindow



class RunAndViewCommands:
    """Copy, open and compare the focused runs; charts, summaries, deleted runs and theme."""

    def _selected_runs(self: MainWindow) -> list[Any]:
        focus = self.context.focus
        return list(focus.items) if focus.kind == "run" else []

    def copy_run_ids(self: MainWindow) -> None:
        runs = self._selected_runs()
        QGuiApplication.clipboard().setText("\n".join(run.id for run in runs))
        self.statusBar().showMessage(f"Copied {len(runs)} run ID{'s' * (len(runs) != 1)}", 8000)

    def copy_artifact_uris(self: MainWindow) -> None:
        uris = [run.uri for run in self._selected_runs() if run.uri]
        QGuiApplication.clipboard().setText("\n".join(uris))
        self.statusBar().showMessage(f"Copied {len(uris)} artifact URI{'s' * (len(uris) != 1)}", 8000)

    def open_selected_run(self: MainWindow) -> None:
        runs = self._selected_runs()
        if runs:
            self.host.open(self.context.focus.store, run_address(runs[0].id))

    def why_not_compare(self: MainWindow) -> str | None:
        count = len(self._selected_runs())
        return None if 2 <= count <= MAX_COMPARED else f"Select 2 to {MAX_COMPARED} runs."

    def compare_selected_runs(self: MainWindow) -> None:
        runs = self._selected_runs()
        if 2 <= len(runs) <= MAX_COMPARED:
            address = Address("compare", tuple(r.id for r in runs))
            self.host.open(self.context.focus.store, address, new_tab=True)

    # --- view commands -----------------------------------------------------------------------

    def show_deleted_runs(self: MainWindow, shown: bool) -> None:
        page = self.current_experiment_page()
        if page is not None:
            page.set_deleted_runs_shown(shown)

    def set_summaries(self: MainWindow, shown: bool) -> None:
        self.settings.set_value("metric_summaries", shown)
        for page in self.host.pages():
            experiment_page = as_experiment_page(page)
            if experiment_page is not None:
                experiment_page.set_summaries(shown)

    def set_charts_visible(self: MainWindow, visible: bool) -> None:
        page = self.current_experiment_page()
        if page is not None:
            page.set_charts_visible(visible)
        self.commands.action("view.charts").setChecked(visible)

    def show_charts(self: MainWindow) -> None:
        """Show the charts of the current page on their curves, with most of its height."""
        page = self.current_experiment_page()
        if page is not None:
            page.set_charts_visible(True, curves=True)
        self.commands.action("view.charts").setChecked(True)

    def set_theme(self: MainWindow, mode: str) -> None:
        self.settings.theme = mode
        for other in MODES:
            self.commands.action(f"view.theme.{other}").setChecked(other == mode)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, mode)
