"""The command palette and the Help menu's dialogs, on a real window and registry."""

from __future__ import annotations

import importlib.metadata
import platform

import PySide6
import pytest
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QGuiApplication, QPalette, QTextDocument
from PySide6.QtWidgets import QDialog, QMainWindow

import flowdeck
from flowdeck.store import schema_guard
from flowdeck.ui.shell.commands import Command, CommandRegistry
from flowdeck.ui.shell.help import (
    SCHEMA_LABEL,
    AboutDialog,
    ShortcutsDialog,
    UserGuideDialog,
    add_help_commands,
    show_user_guide,
    user_guide_path,
)
from flowdeck.ui.shell.palette import OPEN_PALETTE, CommandPalette, match_cost, show_palette

NO_RUN = "Select a run first."


class Harness:
    """A window with run commands; ``selected`` decides whether run commands can run."""

    def __init__(self) -> None:
        self.window = QMainWindow()
        self.window.resize(900, 600)
        self.registry = CommandRegistry(self.window)
        self.selected = False
        self.ran: list[str] = []
        run_check = lambda: None if self.selected else NO_RUN  # noqa: E731
        for command, check in (
            (Command("run.rename", "&Rename Run…", "Runs", "F2", "runs"), run_check),
            (Command("run.tags", "Edit &Tags…", "Runs", "Ctrl+T", "runs"), run_check),
            (Command("run.delete", "&Delete Runs…", "Runs", "Del", "runs"), run_check),
            (Command("view.refresh", "&Refresh", "View", "F5"), None),
            (Command("page.back", "&Back", "Go", "Alt+Left; Back"), None),
            (Command("store.open", "&Open Store…", "File", "Ctrl+O"), None),
            (Command("app.reload_theme", "Reload Theme"), None),
        ):
            self.registry.add(command, lambda c=command.id: self.ran.append(c), check)
        self.registry.add(OPEN_PALETTE, lambda: show_palette(self.registry, self.window))


@pytest.fixture
def harness(qtbot, fail_on_qt_warnings) -> Harness:
    harness = Harness()
    qtbot.addWidget(harness.window)
    harness.window.show()
    qtbot.waitExposed(harness.window)
    return harness


@pytest.fixture
def palette(qtbot, harness: Harness) -> CommandPalette:
    palette = CommandPalette(harness.registry, harness.window)
    qtbot.addWidget(palette)
    palette.popup()
    qtbot.waitExposed(palette)
    return palette


def test_match_ranks_word_prefixes_and_subsequences() -> None:
    rename = Command("run.rename", "&Rename Run…", "Runs")
    tags = Command("run.tags", "Edit &Tags…", "Runs")
    assert match_cost("ren run", rename) is not None
    assert match_cost("tags", tags) is not None
    assert match_cost("tags", rename) is None
    assert match_cost("rnm", rename) is not None  # a subsequence still finds it…
    assert match_cost("rnm", rename) > match_cost("ren", rename)  # …below a word prefix


def test_typing_filters_and_ranks_the_commands(qtbot, palette: CommandPalette) -> None:
    assert palette.visible_command_ids()[:3] == ["view.refresh", "page.back", "store.open"]
    assert len(palette.visible_command_ids()) == 8  # every command; the disabled ones last
    qtbot.keyClicks(palette.search, "ren run")
    assert palette.visible_command_ids() == ["run.rename"]
    palette.search.clear()
    qtbot.keyClicks(palette.search, "tags")
    assert palette.visible_command_ids() == ["run.tags"]
    palette.search.clear()
    qtbot.keyClicks(palette.search, "re")
    shown = palette.visible_command_ids()
    assert shown[0] == "view.refresh"  # a whole first word before later or disabled matches
    assert {"run.rename", "app.reload_theme", "store.open"} <= set(shown)  # st-re-…
    assert "page.back" not in shown
    palette.search.clear()
    qtbot.keyClicks(palette.search, "theme")
    assert palette.visible_command_ids() == ["app.reload_theme"]


def test_rows_show_the_shortcut_and_menu(palette: CommandPalette) -> None:
    rows = {
        palette.list.topLevelItem(row).text(0): (
            palette.list.topLevelItem(row).text(1),
            palette.list.topLevelItem(row).text(2),
        )
        for row in range(palette.list.topLevelItemCount())
    }
    assert rows["Refresh"] == ("View", "F5")
    assert rows["Back"] == ("Go", "Alt+Left, Back")
    assert rows["Reload Theme"] == ("", "")


def test_enter_runs_the_highlighted_command_and_closes(
    qtbot, harness: Harness, palette: CommandPalette
) -> None:
    qtbot.keyClicks(palette.search, "o")
    qtbot.keyClick(palette.search, Qt.Key.Key_Down)
    second = palette.current_command_id()
    assert second == palette.visible_command_ids()[1]
    qtbot.keyClick(palette.search, Qt.Key.Key_Up)
    first = palette.current_command_id()
    with qtbot.waitSignal(palette.command_run) as ran:
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert ran.args == [first]
    assert harness.ran == [first]
    assert not palette.isVisible()


def test_a_disabled_command_is_greyed_with_its_reason_and_does_not_run(
    qtbot, harness: Harness, palette: CommandPalette
) -> None:
    qtbot.keyClicks(palette.search, "rename")
    item = palette.list.topLevelItem(0)
    assert palette.visible_command_ids() == ["run.rename"]
    assert item.text(1) == NO_RUN
    greyed = palette.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    assert item.foreground(0).color() == greyed
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert harness.ran == []
    assert palette.isVisible()
    assert palette.message.isVisible()
    assert NO_RUN in palette.message.text()

    harness.selected = True
    palette.popup()
    palette.search.setText("rename")
    assert palette.list.topLevelItem(0).text(1) == "Runs"
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert harness.ran == ["run.rename"]


def test_escape_closes_without_running(qtbot, harness: Harness, palette: CommandPalette) -> None:
    qtbot.keyClicks(palette.search, "refresh")
    qtbot.keyClick(palette.search, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not palette.isVisible())
    assert harness.ran == []


def test_ctrl_k_opens_the_palette_at_the_top_centre(qtbot, harness: Harness) -> None:
    harness.window.activateWindow()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is harness.window.windowHandle())
    qtbot.keyClick(harness.window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    palette = harness.window.findChild(CommandPalette)
    assert palette is not None
    qtbot.waitUntil(palette.isVisible)
    window_centre = harness.window.mapToGlobal(harness.window.rect().center()).x()
    assert abs(palette.geometry().center().x() - window_centre) <= 2
    assert palette.geometry().top() < harness.window.mapToGlobal(harness.window.rect().center()).y()
    qtbot.keyClick(palette.search, Qt.Key.Key_Escape)


def test_shortcuts_dialog_lists_every_command_with_a_shortcut(qtbot, harness: Harness) -> None:
    dialog = ShortcutsDialog(harness.registry, harness.window)
    qtbot.addWidget(dialog)
    dialog.show()
    with_keys = {c.id for c in harness.registry.commands() if c.shortcut}
    assert set(dialog.visible_command_ids()) == with_keys
    rows = {row[1]: row for row in dialog.visible_rows()}
    assert rows["Back"] == ("Go", "Back", "Alt+Left, Back", "Everywhere")
    assert rows["Rename Run"] == ("Runs", "Rename Run", "F2", "Runs table")
    assert rows["Command Palette"][2:] == ("Ctrl+K", "Everywhere")
    assert [row[0] for row in dialog.visible_rows()][0] == "File"  # menus in menu-bar order
    qtbot.keyClicks(dialog.search, "alt+left")
    assert dialog.visible_command_ids() == ["page.back"]


def test_about_dialog_shows_the_installed_versions(qtbot, harness: Harness) -> None:
    schema_guard.installed_head.cache_clear()  # the dialog reads it on a thread when not cached
    dialog = AboutDialog(harness.window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.versions()[SCHEMA_LABEL] != "…", timeout=10_000)
    versions = dialog.versions()
    assert versions["Flowdeck"] == flowdeck.__version__
    assert versions["MLflow client"] == importlib.metadata.version("mlflow-skinny")
    assert versions["Qt"] == qVersion()
    assert versions["PySide6"] == PySide6.__version__
    assert versions["Python"] == platform.python_version()
    assert versions[SCHEMA_LABEL] == schema_guard.installed_head()
    assert len(versions[SCHEMA_LABEL]) >= 12

    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert f"PySide6: {PySide6.__version__}" in copied
    assert f"{SCHEMA_LABEL}: {schema_guard.installed_head()}" in copied


def test_about_dialog_takes_a_known_schema_head(qtbot, harness: Harness) -> None:
    dialog = AboutDialog(harness.window, schema_head="abc123")
    qtbot.addWidget(dialog)
    assert dialog.versions()[SCHEMA_LABEL] == "abc123"


def test_user_guide_shows_the_addresses_and_finds_text(qtbot, harness: Harness) -> None:
    dialog = show_user_guide(harness.window)
    qtbot.addWidget(dialog)
    qtbot.waitExposed(dialog)
    text = dialog.browser.toPlainText()
    assert "Pages, tabs and addresses" in text
    for address in ("experiment/<id>[,<id>…]", "run/<run_id>/artifacts/<path>", "trace/<trace_id>"):
        assert address in text
    assert "`" not in text.split("Pages, tabs and addresses")[1][:400]  # rendered, not raw

    qtbot.keyClicks(dialog.search, "logged-model/")
    assert dialog.selected_text() == "logged-model/"
    assert not dialog.not_found.isVisible()
    dialog.search.setText("no such words in the guide")
    assert dialog.not_found.isVisible()


def test_help_commands_open_their_dialogs_once(qtbot, harness: Harness) -> None:
    add_help_commands(harness.registry, harness.window)
    assert [c.id for c in harness.registry.menu_commands("Help")] == [
        "help.user_guide",
        "help.shortcuts",
        "help.about",
    ]
    assert harness.registry.conflicts() == []

    def open_dialogs(kind: type[QDialog]) -> list[QDialog]:
        return [d for d in harness.window.findChildren(kind) if d.isVisible()]

    for command_id, kind in (
        ("help.shortcuts", ShortcutsDialog),
        ("help.about", AboutDialog),
        ("help.user_guide", UserGuideDialog),
    ):
        assert harness.registry.trigger(command_id)
        qtbot.waitUntil(lambda k=kind: len(open_dialogs(k)) == 1)
    about = open_dialogs(AboutDialog)[0]
    harness.registry.trigger("help.about")  # again: the open dialog comes forward, no second one
    assert open_dialogs(AboutDialog) == [about]
    for kind in (ShortcutsDialog, AboutDialog, UserGuideDialog):
        open_dialogs(kind)[0].close()


def test_user_guide_walks_through_the_first_ten_minutes_with_pictures(
    qtbot, harness: Harness, tmp_path
) -> None:
    dialog = show_user_guide(harness.window)
    qtbot.addWidget(dialog)
    qtbot.waitExposed(dialog)
    assert user_guide_path().name == "guide.md"
    text = dialog.browser.toPlainText()
    for heading in ("Flowdeck user guide", "Your first ten minutes", "Opening stores", "Charts"):
        assert heading in text
    names = dialog.image_names()
    assert "guide/welcome.png" in names and len(names) >= 6
    width = dialog.browser.viewport().width()
    for name in names:
        size = dialog.image_size(name)
        assert not size.isEmpty(), f"{name} is not found beside the guide"
        resource = dialog.browser.document().resource(
            QTextDocument.ResourceType.ImageResource, QUrl(name)
        )
        assert resource is not None and not resource.isNull(), name  # loaded for display
    fitted = [
        block_format.toImageFormat().width()
        for block_format in _image_formats(dialog.browser.document())
    ]
    assert fitted and all(0 < w <= width for w in fitted)  # scaled to the page, not cut off
    dialog.grab().save(str(tmp_path / "guide.png"))


def _image_formats(document: QTextDocument) -> list:
    found = []
    block = document.begin()
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            char_format = iterator.fragment().charFormat()
            if char_format.isImageFormat():
                found.append(char_format)
            iterator += 1
        block = block.next()
    return found
