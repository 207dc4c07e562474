"""Every command of the main window, declared once, and the menus built from them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

from flowdeck.ui.mirror.commands import add_mirror_commands
from flowdeck.ui.shell.commands import Command, CommandRegistry
from flowdeck.ui.shell.help import add_help_commands
from flowdeck.ui.shell.palette import show_palette
from flowdeck.ui.shell.registry_commands import add_registry_commands
from flowdeck.ui.shell.upgrade_command import add_upgrade_command
from flowdeck.ui.theme import MODES

if TYPE_CHECKING:
    from flowdeck.ui.main_window import MainWindow

THEME_TITLES = {"system": "Follow the System", "light": "Light", "dark": "Dark"}
NO_EXPERIMENT_PAGE = "Open an experiment's runs first."
EDIT_COMMANDS = (  # id, text, shortcut, tip, the Edits method that runs it (and its why_not key)
    ("experiment.create", "&New Experiment…", "Ctrl+N",
     "Create an experiment in the current store", "create_experiment"),
    ("item.rename", "&Rename…", "F2", "Rename the selected experiment or run", "rename"),
    ("item.tags", "Edit &Tags…", "Ctrl+T", "Add, edit or delete tags", "edit_tags"),
    ("item.description", "Edit &Description…", "Ctrl+E", "Edit the Markdown description",
     "edit_description"),
    ("item.delete", "&Delete…", "Del", "Delete the selected experiments or runs", "delete"),
    ("item.restore", "Re&store…", "Ctrl+Shift+R",
     "Restore the selected deleted experiments or runs", "restore"),
)


def declare_commands(window: MainWindow) -> CommandRegistry:
    """Register the window's commands (handlers and enabled-when) and build its menus."""
    registry = CommandRegistry(window)
    _file_commands(window, registry)
    _edit_commands(window, registry)
    _view_commands(window, registry)
    _go_commands(window, registry)
    add_registry_commands(registry, window)
    add_help_commands(registry, window)
    _build_menus(window, registry)
    return registry


def _needs_store(window: MainWindow) -> str | None:
    return None if window.context.stores else "No store is open."


def _needs_runs_page(window: MainWindow) -> str | None:
    return None if window.current_experiment_page() is not None else NO_EXPERIMENT_PAGE


def _needs_selected_runs(window: MainWindow) -> str | None:
    focus = window.context.focus
    return None if focus.kind == "run" and focus else "Select runs in a table first."


def _file_commands(window: MainWindow, registry: CommandRegistry) -> None:
    add = registry.add
    add(
        Command("store.open", "&Open Store…", "File", "Ctrl+O", tip="Open a folder, database or server"),
        window.open_store_dialog,
    )
    add(
        Command("store.close", "Close &Store", "File", "Ctrl+Shift+W", tip="Close the current store and its tabs"),
        window.close_current_store,
        lambda: None if window.current_store() is not None else "No store is selected.",
    )
    add_upgrade_command(registry, window)
    window.mirrors = add_mirror_commands(registry, window)
    add(
        Command("tab.close", "&Close Tab", "File", "Ctrl+W", tip="Close the current tab"),
        window.host.close_current,
        lambda: None if window.host.count() else "No tab is open.",
    )
    add(
        Command("runs.export", "&Export CSV…", "File", tip="Save the selected runs, or the table, as CSV"),
        lambda: window.current_experiment_page().export_csv(),  # type: ignore[union-attr]
        lambda: _needs_runs_page(window),
    )
    add(Command("app.quit", "&Quit", "File", "Ctrl+Q", tip="Close Flowdeck"), window.close)


def _edit_commands(window: MainWindow, registry: CommandRegistry) -> None:
    add, edits = registry.add, window.edits
    add(
        Command("page.copy_address", "Copy &Address", "Edit", "Ctrl+Shift+L",
                tip="Copy the command line that opens this page"),
        window.copy_address,
        lambda: None if window.host.current_page() is not None else "No page is open.",
    )
    for command_id, text, shortcut, tip, edit in EDIT_COMMANDS:
        add(
            Command(command_id, text, "Edit", shortcut, tip=tip),
            getattr(edits, edit),
            lambda e=edit: edits.why_not(e),
        )
    add(
        Command("runs.focus_filter", "&Filter Runs…", "Runs", "Ctrl+L",
                tip="Type an MLflow filter for the runs"),
        lambda: window.current_experiment_page().focus_filter(),  # type: ignore[union-attr]
        lambda: _needs_runs_page(window),
    )
    add(
        Command("runs.find", "&Find Runs by Name…", "Runs", "Ctrl+F",
                tip="Show only the runs whose name contains some text"),
        lambda: window.current_experiment_page().focus_name_search(),  # type: ignore[union-attr]
        lambda: _needs_runs_page(window),
    )
    add(
        Command("run.copy_id", "Copy Run &ID", "Runs", "Ctrl+Shift+C", tip="Copy the run IDs"),
        window.copy_run_ids,
        lambda: _needs_selected_runs(window),
    )
    add(
        Command("run.copy_artifact_uri", "Copy Artifact &URI", "Runs", "Ctrl+Shift+U",
                tip="Copy the artifact URIs of the selected runs"),
        window.copy_artifact_uris,
        lambda: _needs_selected_runs(window),
    )
    add(
        Command("run.open", "&Open Run Page", "Runs", tip="Open the page of the selected run"),
        window.open_selected_run,
        lambda: _needs_selected_runs(window),
    )
    add(
        Command("run.compare", "&Compare Runs", "Runs", "Ctrl+D",
                tip="Compare the selected runs (2 to 10) side by side"),
        window.compare_selected_runs,
        window.why_not_compare,
    )


def _view_commands(window: MainWindow, registry: CommandRegistry) -> None:
    add, settings = registry.add, window.settings
    add(
        Command("view.refresh", "&Refresh", "View", "F5", tip="Read the page and the sidebar again",
                icon="SP_BrowserReload"),
        window.refresh,
        lambda: _needs_store(window),
    )
    add(
        Command("view.auto_refresh", "&Auto-refresh While Runs Are Running", "View", checkable=True,
                tip="Reload the runs every 10 s while some are running"),
        lambda checked: settings.set_value("auto_refresh", checked),
    )
    add(
        Command("view.deleted_experiments", "Show Deleted &Experiments", "View", checkable=True,
                tip="Also list deleted experiments in the sidebar"),
        window.sidebar.show_deleted.setChecked,
    )
    add(
        Command("view.deleted_runs", "Show &Deleted Runs", "View", checkable=True,
                tip="Show the deleted runs of the experiment"),
        window.show_deleted_runs,
        lambda: _needs_runs_page(window),
    )
    add(
        Command("view.summaries", "Metric &Min/Max Columns", "View", checkable=True,
                tip="Add min, max and best-step columns for every metric"),
        window.set_summaries,
    )
    add(
        Command("view.charts", "&Charts", "View", "Ctrl+Alt+C", checkable=True,
                tip="Show the charts below the runs table"),
        window.set_charts_visible,
    )
    add(
        Command("view.sidebar", "S&idebar", "View", "Ctrl+B", checkable=True,
                tip="Show the stores, experiments and models"),
        window.dock.setVisible,
    )
    for mode in MODES:
        add(
            Command(f"view.theme.{mode}", f"Theme: {THEME_TITLES[mode]}", "", checkable=True,
                    tip=f"Use the {THEME_TITLES[mode].lower()} colours"),
            lambda _checked=False, m=mode: window.set_theme(m),
        )
    registry.action("view.auto_refresh").setChecked(settings.value("auto_refresh", False, bool))
    registry.action("view.summaries").setChecked(settings.value("metric_summaries", False, bool))
    registry.action("view.charts").setChecked(settings.value("charts/visible", True, bool))
    registry.action("view.sidebar").setChecked(True)
    registry.action(f"view.theme.{settings.theme}").setChecked(True)


def _go_commands(window: MainWindow, registry: CommandRegistry) -> None:
    add, host = registry.add, window.host
    add(
        Command("page.back", "&Back", "Go", "Alt+Left; Back", tip="The previous page of this tab",
                icon="SP_ArrowBack"),
        host.back,
        lambda: None if host.can_go_back() else "This tab has no earlier page.",
    )
    add(
        Command("page.forward", "&Forward", "Go", "Alt+Right; Forward", tip="The next page of this tab",
                icon="SP_ArrowForward"),
        host.forward,
        lambda: None if host.can_go_forward() else "This tab has no later page.",
    )
    add(
        Command("page.next_tab", "&Next Tab", "Go", "Ctrl+Tab", tip="Show the tab on the right"),
        lambda: window.cycle_tabs(+1),
        lambda: None if host.count() > 1 else "Only one tab is open.",
    )
    add(
        Command("page.previous_tab", "&Previous Tab", "Go", "Ctrl+Shift+Tab", tip="Show the tab on the left"),
        lambda: window.cycle_tabs(-1),
        lambda: None if host.count() > 1 else "Only one tab is open.",
    )
    add(
        Command("page.models", "&Models", "Go", tip="The registered models of the current store"),
        lambda: window.open_store_page("models"),
        lambda: None if window.current_store() is not None else "No store is selected.",
    )
    add(
        Command("page.servers", "&Servers", "Go", tip="Local model servers"),
        lambda: window.open_store_page("servers"),
    )
    add(
        Command("help.welcome", "&Welcome", "Help",
                tip="Open a store, a recent store or the demo store; read the user guide"),
        lambda: window.open_page(None, "welcome"),
    )
    from flowdeck.ui.across.commands import add_across_command

    add_across_command(registry, window)
    add(
        Command("page.open_address", "Open &Address…", "Go", "Ctrl+G", tip="Open a page by its address"),
        window.open_address_dialog,
        lambda: _needs_store(window),
    )
    add(
        Command("app.palette", "Command &Palette…", "Go", "Ctrl+K", tip="Find and run any command"),
        lambda: show_palette(registry, window),
    )
    add(
        Command("app.jobs", "&Jobs", "Go", tip="Show running work with progress and cancel"),
        window.jobs_button.open_popup,
    )


def _build_menus(window: MainWindow, registry: CommandRegistry) -> None:
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(registry.action("store.open"))
    window.recent_menu = QMenu("Open &Recent", window)
    window.recent_menu.aboutToShow.connect(window.fill_recent_menu)
    file_menu.addMenu(window.recent_menu)
    for command_id in (
        "tab.close", "store.close", "store.make_writable", None, "runs.export", None, "app.quit"
    ):
        if command_id is None:
            file_menu.addSeparator()
        else:
            file_menu.addAction(registry.action(command_id))
    registry.fill_menu(bar.addMenu("&Edit"), "Edit", {"experiment.create"})
    view_menu = bar.addMenu("&View")
    registry.fill_menu(
        view_menu, "View", {"view.deleted_experiments", "view.charts"}
    )
    theme_menu = view_menu.addMenu("&Theme")
    for mode in MODES:
        theme_menu.addAction(registry.action(f"view.theme.{mode}"))
    registry.fill_menu(bar.addMenu("&Go"), "Go", {"page.next_tab", "page.models", "app.palette"})
    registry.fill_menu(bar.addMenu("&Runs"), "Runs", {"run.copy_id", "run.open"})
    registry.fill_menu(
        bar.addMenu("Registr&y"),
        "Registry",
        {"registry.rename_model", "registry.set_alias", "registry.evaluate"},
    )
    registry.fill_menu(bar.addMenu("&Help"), "Help")
    for menu in bar.findChildren(QMenu):
        menu.aboutToShow.connect(registry.update_state)
