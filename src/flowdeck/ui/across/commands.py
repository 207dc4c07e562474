"""Go → Runs Across Stores…: pick experiments of several open stores and open their page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdeck.core.addresses import across_address
from flowdeck.ui.shell.commands import Command, CommandRegistry

if TYPE_CHECKING:
    from flowdeck.ui.across.dialog import AcrossDialog
    from flowdeck.ui.main_window import MainWindow

NEED_TWO_STORES = "Open two or more stores first."


def add_across_command(registry: CommandRegistry, window: MainWindow) -> None:
    registry.add(
        Command(
            "page.across",
            "Runs &Across Stores…",
            "Go",
            tip="Runs of experiments of several open stores in one table and one chart set",
        ),
        lambda: open_across_dialog(window),
        lambda: None if len(window.stores()) >= 2 else NEED_TWO_STORES,
    )


def across_dialog(window: MainWindow) -> AcrossDialog:
    """The dialog, ticking the sidebar's experiments (or the current page's) and their
    namesakes in the other stores."""
    from flowdeck.core.across_stores import suggested_keys, unique_labels
    from flowdeck.ui.across.dialog import AcrossDialog

    stores = window.stores()
    experiments = [
        [(e.experiment_id, e.name) for e in window.sidebar.model.experiments_of(s) if not e.deleted]
        for s in stores
    ]
    selected = window.sidebar.selected_keys()
    page = window.host.current_page()
    if page is not None and page.address.kind == "across":
        selected = list(page.address.ids)
    labels = unique_labels([store.display_name for store in stores])
    checked = suggested_keys(experiments, selected)
    return AcrossDialog(list(zip(labels, experiments, strict=True)), checked, window)


def open_across_dialog(window: MainWindow) -> None:
    dialog = across_dialog(window)
    dialog.accepted.connect(lambda: window.open_page(None, across_address(dialog.keys())))
    dialog.finished.connect(lambda _result: dialog.deleteLater())
    dialog.open()
