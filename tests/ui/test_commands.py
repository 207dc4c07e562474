"""The command registry: actions, enabled reasons, scoped shortcuts, menus and clashes."""

from __future__ import annotations

import html

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow, QMenu, QVBoxLayout, QWidget

from flowdeck.ui.shell.commands import Command, CommandRegistry


class Window(QMainWindow):
    """A main window with two focusable areas, like the sidebar and the runs table."""

    def __init__(self) -> None:
        super().__init__()
        central = QWidget(self)
        self.sidebar = QLineEdit(central)
        self.runs = QLineEdit(central)
        self.other_runs = QLineEdit(central)
        layout = QVBoxLayout(central)
        for widget in (self.sidebar, self.runs, self.other_runs):
            layout.addWidget(widget)
        self.setCentralWidget(central)


@pytest.fixture
def window(qtbot, fail_on_qt_warnings) -> Window:
    window = Window()
    qtbot.addWidget(window)
    return window


@pytest.fixture
def registry(window: Window) -> CommandRegistry:
    return CommandRegistry(window)


def shown_and_active(qtbot, window: Window) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)


def test_add_builds_the_action_from_the_command(registry: CommandRegistry, window: Window) -> None:
    calls: list[str] = []
    command = Command(
        "run.rename",
        "&Rename Run…",
        menu="Runs",
        shortcut="F2",
        scope="runs",
        tip="Rename the run",
        icon="SP_FileIcon",
    )
    action = registry.add(command, lambda: calls.append("renamed"))

    assert command.plain_text() == "Rename Run"
    assert action.text() == "&Rename Run…"
    assert action.shortcut().toString() == "F2"
    assert action.statusTip() == "Rename the run"
    assert "Rename the run" in action.toolTip()
    assert not action.icon().isNull()
    assert action.parent() is registry
    assert registry.action("run.rename") is action
    assert registry.command("run.rename") is command
    assert registry.trigger("run.rename") is True
    assert calls == ["renamed"]


def test_a_second_command_with_the_same_id_is_refused(registry: CommandRegistry) -> None:
    registry.add(Command("page.back", "&Back"), lambda: None)
    with pytest.raises(ValueError, match="page.back"):
        registry.add(Command("page.back", "Go Back"), lambda: None)
    assert [c.text for c in registry.commands()] == ["&Back"]


def test_a_shortcut_qt_cannot_read_is_refused(registry: CommandRegistry) -> None:
    with pytest.raises(ValueError, match="Ctrl\\+Nonsense"):
        registry.add(Command("x", "X", shortcut="Ctrl+Nonsense"), lambda: None)


def test_several_shortcuts_for_one_command(registry: CommandRegistry) -> None:
    action = registry.add(Command("page.back", "&Back", shortcut="Alt+Left; Back"), lambda: None)
    assert [s.toString() for s in action.shortcuts()] == ["Alt+Left", "Back"]


def test_disabled_reason_is_the_tip_and_blocks_trigger(registry: CommandRegistry) -> None:
    reason: list[str | None] = ["Select a run first <b>please</b>"]
    calls: list[int] = []
    action = registry.add(
        Command("run.rename", "&Rename…", tip="Rename the run"),
        lambda: calls.append(1),
        enabled=lambda: reason[0],
    )

    assert not action.isEnabled()
    assert action.statusTip() == "Select a run first <b>please</b>"
    assert html.escape("Select a run first <b>please</b>") in action.toolTip()
    assert registry.reason("run.rename") == "Select a run first <b>please</b>"
    assert registry.trigger("run.rename") is False
    assert calls == []

    reason[0] = None
    with_state = []
    registry.state_updated.connect(lambda: with_state.append(action.isEnabled()))
    registry.update_state()
    assert with_state == [True]
    assert action.statusTip() == "Rename the run"
    assert registry.reason("run.rename") is None
    assert registry.trigger("run.rename") is True
    assert calls == [1]


def test_checkable_handler_gets_the_checked_state(registry: CommandRegistry) -> None:
    seen: list[bool] = []
    registry.add(Command("view.deleted", "Show &Deleted Runs", checkable=True), seen.append)
    registry.add(Command("view.other", "Other", checkable=True), lambda: seen.append(None))
    registry.trigger("view.deleted")
    registry.trigger("view.deleted")
    registry.trigger("view.other")
    assert seen == [True, False, None]
    assert registry.action("view.other").isChecked()


def test_scope_binding_puts_actions_on_every_bound_widget(
    registry: CommandRegistry, window: Window
) -> None:
    early = registry.add(Command("run.rename", "Rename", shortcut="F2", scope="runs"), print)
    registry.bind_scope("runs", window.runs)
    registry.bind_scope("runs", window.other_runs)
    late = registry.add(Command("run.delete", "Delete", shortcut="Del", scope="runs"), print)
    everywhere = registry.add(Command("app.open", "Open", shortcut="Ctrl+O"), print)

    for action in (early, late):
        assert action.shortcutContext() == Qt.ShortcutContext.WidgetWithChildrenShortcut
        assert action in window.runs.actions()
        assert action in window.other_runs.actions()
        assert action not in window.sidebar.actions()
        assert action not in window.actions()
    assert everywhere.shortcutContext() == Qt.ShortcutContext.WindowShortcut
    assert everywhere in window.actions()
    assert registry.bound_widgets("runs") == [window.runs, window.other_runs]


def test_menus_list_their_commands_in_order_with_separators(registry: CommandRegistry) -> None:
    registry.add(Command("file.open", "&Open…", menu="File"), print)
    registry.add(Command("view.refresh", "&Refresh", menu="View"), print)
    registry.add(Command("file.quit", "&Quit", menu="File"), print)
    registry.add(Command("palette.only", "Only in the palette"), print)

    assert [c.id for c in registry.menu_commands("File")] == ["file.open", "file.quit"]
    menu = QMenu("&File")
    registry.fill_menu(menu, "&File", separators_before={"file.open", "file.quit"})
    entries = [action.text() or "---" for action in menu.actions()]
    assert entries == ["&Open…", "---", "&Quit"]


def test_conflicts_follow_overlapping_scopes(registry: CommandRegistry) -> None:
    def add(command_id: str, shortcut: str, scope: str = "window") -> Command:
        command = Command(command_id, command_id, shortcut=shortcut, scope=scope)
        registry.add(command, print)
        return command

    window_refresh = add("view.refresh", "F5")
    sidebar_refresh = add("sidebar.refresh", "f5", scope="sidebar")  # window vs scope
    add("run.rename", "F2", scope="runs")
    add("experiment.rename", "F2", scope="sidebar")  # different scopes: fine
    run_delete = add("run.delete", "Del", scope="runs")
    run_archive = add("run.archive", "Ctrl+D; Delete", scope="runs")  # same scope, 2nd key
    back = add("page.back", "Alt+Left; Back")
    add("page.forward", "Alt+Right; Forward")

    assert registry.conflicts() == [
        (window_refresh, sidebar_refresh, "F5"),
        (run_delete, run_archive, "Del"),
    ]
    other_back = add("history.back", "Ctrl+[; Back", scope="runs")
    assert registry.conflicts()[-1] == (back, other_back, "Back")


def test_a_key_press_runs_the_scoped_action_once_where_focus_is(
    qtbot, registry: CommandRegistry, window: Window
) -> None:
    renamed: list[str] = []
    palettes: list[str] = []
    registry.bind_scope("runs", window.runs)
    registry.add(
        Command("run.rename", "Rename", shortcut="F2", scope="runs"),
        lambda: renamed.append("runs"),
    )
    registry.add(Command("app.palette", "Palette", shortcut="Ctrl+K"), lambda: palettes.append(1))
    shown_and_active(qtbot, window)

    window.sidebar.setFocus()
    qtbot.waitUntil(window.sidebar.hasFocus)
    qtbot.keyClick(window.sidebar, Qt.Key.Key_F2)
    assert renamed == []  # the runs scope is not where focus is

    window.runs.setFocus()
    qtbot.waitUntil(window.runs.hasFocus)
    qtbot.keyClick(window.runs, Qt.Key.Key_F2)
    assert renamed == ["runs"]

    qtbot.keyClick(window.sidebar, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert palettes == [1]
    assert renamed == ["runs"]


def test_a_disabled_action_ignores_its_key(
    qtbot, registry: CommandRegistry, window: Window
) -> None:
    ran: list[int] = []
    registry.add(
        Command("app.thing", "Thing", shortcut="Ctrl+J"),
        lambda: ran.append(1),
        enabled=lambda: "Nothing to do",
    )
    shown_and_active(qtbot, window)
    window.runs.setFocus()
    qtbot.waitUntil(window.runs.hasFocus)
    qtbot.keyClick(window.runs, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    assert ran == []
    assert QKeySequence("Ctrl+J") == registry.action("app.thing").shortcut()
