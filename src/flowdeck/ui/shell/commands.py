"""One registry of the app's commands: a QAction each, menus, scoped shortcuts, enabled reasons."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle, QWidget

from flowdeck.ui.sidebar.model import rich_tooltip

WINDOW_SCOPE = "window"
MENU_ORDER = ("File", "Edit", "View", "Go", "Runs", "Help")
SHORTCUT_SEPARATOR = ";"

Handler = Callable[..., object]
EnabledCheck = Callable[[], "str | None"]


@dataclass(frozen=True)
class Command:
    """What a command is called, where it appears and which keys run it."""

    id: str
    text: str
    menu: str = ""
    shortcut: str = ""
    scope: str = WINDOW_SCOPE
    tip: str = ""
    icon: str = ""
    checkable: bool = False

    def plain_text(self) -> str:
        """The text without mnemonics and without a trailing ellipsis: "Rename Run"."""
        text = self.text.replace("&&", "\0").replace("&", "").replace("\0", "&")
        return text.removesuffix("…").removesuffix("...").strip()

    def key_sequences(self) -> list[QKeySequence]:
        """Each of the command's shortcuts (``shortcut`` may list several, "; "-separated)."""
        return [
            QKeySequence(part.strip())
            for part in self.shortcut.split(SHORTCUT_SEPARATOR)
            if part.strip()
        ]

    def portable_shortcuts(self) -> list[str]:
        """The shortcuts normalised to portable text ("ctrl+k" → "Ctrl+K", "Delete" → "Del")."""
        return [
            sequence.toString(QKeySequence.SequenceFormat.PortableText)
            for sequence in self.key_sequences()
        ]

    def native_shortcuts(self) -> list[str]:
        """The shortcuts as this platform writes them, for display."""
        return [
            sequence.toString(QKeySequence.SequenceFormat.NativeText)
            for sequence in self.key_sequences()
        ]


def scopes_overlap(first: str, second: str) -> bool:
    """Whether two scopes' shortcuts can both be live at once ("window" overlaps every scope)."""
    return first == second or WINDOW_SCOPE in (first, second)


@dataclass
class _Entry:
    command: Command
    action: QAction
    enabled: EnabledCheck | None
    reason: str | None = None


class CommandRegistry(QObject):
    """Every command of one window, each with one QAction owned by the registry.

    Window-scoped actions live on the window; other scopes' actions go on the widgets bound to
    that scope with ``bind_scope`` and only answer their keys while focus is inside one of them.
    """

    state_updated = Signal()

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self._entries: dict[str, _Entry] = {}
        self._scope_widgets: dict[str, list[QWidget]] = {}

    # --- adding and binding -----------------------------------------------------------------

    def add(
        self, command: Command, handler: Handler, enabled: EnabledCheck | None = None
    ) -> QAction:
        """Create the command's action; ``enabled()`` returns None or why it cannot run now."""
        if command.id in self._entries:
            raise ValueError(f"A command with the id {command.id!r} is already registered.")
        sequences = command.key_sequences()
        for part, sequence in zip(self._shortcut_parts(command), sequences, strict=True):
            if sequence.toString() == "":
                raise ValueError(f"{command.id}: {part!r} is not a key sequence Qt understands.")
        action = QAction(command.text, self)
        action.setObjectName(command.id)
        action.setShortcuts(sequences)
        action.setCheckable(command.checkable)
        if command.icon:
            action.setIcon(self.window.style().standardIcon(self._standard_pixmap(command)))
        self._apply_tip(action, self._default_tip(command))
        takes_checked = command.checkable and _accepts_an_argument(handler)

        def run(checked: bool = False) -> None:
            if takes_checked:
                handler(checked)
            else:
                handler()

        action.triggered.connect(run)
        entry = _Entry(command, action, enabled)
        self._entries[command.id] = entry
        if command.scope == WINDOW_SCOPE:
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.window.addAction(action)
        else:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            for widget in self._live_widgets(command.scope):
                widget.addAction(action)
        if enabled is not None:
            self._evaluate(entry)
        return action

    def bind_scope(self, scope: str, widget: QWidget) -> None:
        """Put every action of ``scope`` (now and later) on ``widget``; one scope, many widgets."""
        if scope == WINDOW_SCOPE:
            raise ValueError("The window scope is bound to the registry's window already.")
        widgets = self._scope_widgets.setdefault(scope, [])
        if any(known is widget for known in widgets):
            return
        widgets.append(widget)
        for entry in self._entries.values():
            if entry.command.scope == scope:
                widget.addAction(entry.action)

    def bound_widgets(self, scope: str) -> list[QWidget]:
        """The live widgets bound to ``scope``."""
        return self._live_widgets(scope)

    # --- lookup -----------------------------------------------------------------------------

    def action(self, command_id: str) -> QAction:
        return self._entry(command_id).action

    def command(self, command_id: str) -> Command:
        return self._entry(command_id).command

    def commands(self) -> list[Command]:
        """Every command, in the order they were added."""
        return [entry.command for entry in self._entries.values()]

    def menu_commands(self, menu: str) -> list[Command]:
        """The commands of one menu ("&File" and "File" alike), in the order they were added."""
        name = menu.replace("&", "")
        return [entry.command for entry in self._entries.values() if entry.command.menu == name]

    def fill_menu(
        self, menu_widget: QMenu, menu_name: str, separators_before: Iterable[str] = frozenset()
    ) -> None:
        """Add the menu's actions to ``menu_widget``, a separator before each id listed."""
        separator_ids = set(separators_before)
        for command in self.menu_commands(menu_name):
            if command.id in separator_ids and not menu_widget.isEmpty():
                menu_widget.addSeparator()
            menu_widget.addAction(self.action(command.id))

    # --- state ------------------------------------------------------------------------------

    def reason(self, command_id: str) -> str | None:
        """Why the command cannot run now (evaluated afresh); None when it can."""
        entry = self._entry(command_id)
        self._evaluate(entry)
        return entry.reason

    def update_state(self) -> None:
        """Re-evaluate every command's enabled check; only changes touch the actions."""
        for entry in self._entries.values():
            self._evaluate(entry)
        self.state_updated.emit()

    def trigger(self, command_id: str) -> bool:
        """Run the command if it can run now; whether it ran."""
        entry = self._entry(command_id)
        self._evaluate(entry)
        if not entry.action.isEnabled():
            return False
        entry.action.trigger()
        return True

    # --- shortcut clashes -------------------------------------------------------------------

    def conflicts(self) -> list[tuple[Command, Command, str]]:
        """Pairs of commands sharing a key sequence in scopes that can be live together."""
        found: list[tuple[Command, Command, str]] = []
        commands = self.commands()
        for index, first in enumerate(commands):
            first_keys = first.portable_shortcuts()
            for second in commands[index + 1 :]:
                if not scopes_overlap(first.scope, second.scope):
                    continue
                second_keys = set(second.portable_shortcuts())
                found.extend((first, second, key) for key in first_keys if key in second_keys)
        return found

    # --- internals --------------------------------------------------------------------------

    def _entry(self, command_id: str) -> _Entry:
        try:
            return self._entries[command_id]
        except KeyError:
            raise KeyError(f"No command with the id {command_id!r}.") from None

    def _live_widgets(self, scope: str) -> list[QWidget]:
        widgets = [
            widget for widget in self._scope_widgets.get(scope, []) if shiboken6.isValid(widget)
        ]
        self._scope_widgets[scope] = widgets
        return list(widgets)

    def _evaluate(self, entry: _Entry) -> None:
        if entry.enabled is None:
            return
        reason = entry.enabled()
        if reason == entry.reason and entry.action.isEnabled() == (reason is None):
            return
        entry.reason = reason
        entry.action.setEnabled(reason is None)
        if reason is None:
            self._apply_tip(entry.action, self._default_tip(entry.command))
        else:
            self._apply_tip(entry.action, reason)

    @staticmethod
    def _default_tip(command: Command) -> str:
        return command.tip or command.plain_text()

    @staticmethod
    def _apply_tip(action: QAction, text: str) -> None:
        action.setStatusTip(text)
        # A reason may quote store text: escape it so the tooltip never renders it as HTML.
        action.setToolTip(rich_tooltip(text))

    @staticmethod
    def _shortcut_parts(command: Command) -> list[str]:
        return [part.strip() for part in command.shortcut.split(SHORTCUT_SEPARATOR) if part.strip()]

    @staticmethod
    def _standard_pixmap(command: Command) -> QStyle.StandardPixmap:
        pixmap = getattr(QStyle.StandardPixmap, command.icon, None)
        if not isinstance(pixmap, QStyle.StandardPixmap):
            raise ValueError(f"{command.id}: {command.icon!r} is not a QStyle.StandardPixmap name.")
        return pixmap


def _accepts_an_argument(handler: Handler) -> bool:
    """Whether a checkable command's handler wants the checked state."""
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return True  # a Qt slot such as QAbstractButton.setChecked
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(
        p.kind in positional or p.kind == inspect.Parameter.VAR_POSITIONAL for p in parameters
    )
