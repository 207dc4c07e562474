"""The Help menu's dialogs: keyboard shortcuts, About Flowdeck (versions) and the user guide."""

from __future__ import annotations

import importlib.metadata
import platform
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import PySide6
from PySide6.QtCore import QEvent, QObject, QSize, Qt, QUrl, Signal, qVersion
from PySide6.QtGui import (
    QGuiApplication,
    QImage,
    QPixmap,
    QTextCursor,
    QTextDocument,
    QTextImageFormat,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

import flowdeck
from flowdeck.store import schema_guard
from flowdeck.ui.shell.commands import MENU_ORDER, WINDOW_SCOPE, Command, CommandRegistry

EVERYWHERE = "Everywhere"
PALETTE_ONLY = "Command palette"
READABLE_SCOPES = {"runs": "Runs table", "sidebar": "Sidebar"}
PENDING = "…"
SCHEMA_LABEL = "MLflow schema Flowdeck writes"
HEADERS = ("Menu", "Command", "Shortcut", "Where it works")
MENU_COLUMN, COMMAND_COLUMN, SHORTCUT_COLUMN, WHERE_COLUMN = range(4)
FALLBACK_GUIDE = (
    "# Flowdeck user guide\n\n"
    "The user guide (`docs/guide.md`) is not installed with this copy of Flowdeck, "
    "and where it lives online is not known. It is in the `docs` folder of Flowdeck's source.\n"
)

GUIDE_NAME = "guide.md"
IMAGE_MARGIN = 40  # px left free beside a picture fitted to the guide's width

HELP_COMMANDS = (
    Command("help.user_guide", "&User Guide", "Help", "F1", tip="Read how to use Flowdeck"),
    Command(
        "help.shortcuts",
        "&Keyboard Shortcuts",
        "Help",
        "Ctrl+/",
        tip="List every keyboard shortcut and where it works",
    ),
    Command("help.about", "&About Flowdeck", "Help", tip="Show the versions Flowdeck runs on"),
)


def readable_scope(scope: str) -> str:
    """Where a scope's shortcuts work, in words: "window" → "Everywhere", "runs" → "Runs table"."""
    if scope == WINDOW_SCOPE:
        return EVERYWHERE
    return READABLE_SCOPES.get(scope, scope.replace("_", " ").replace("-", " ").capitalize())


def _menu_rank(command: Command) -> int:
    return MENU_ORDER.index(command.menu) if command.menu in MENU_ORDER else len(MENU_ORDER)


class ShortcutsDialog(QDialog):
    """A searchable table of every command that has a shortcut, generated from the registry."""

    def __init__(self, registry: CommandRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(640, 520)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search commands and keys…")
        self.search.setClearButtonEnabled(True)
        self.table = QTableWidget(0, len(HEADERS), self)
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(
            COMMAND_COLUMN, QHeaderView.ResizeMode.Stretch
        )
        with_keys = [command for command in registry.commands() if command.shortcut.strip()]
        for command in sorted(with_keys, key=_menu_rank):  # stable: registry order within a menu
            self._add_row(command)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(
            COMMAND_COLUMN, QHeaderView.ResizeMode.Stretch
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.search.textChanged.connect(self._filter)

    def _add_row(self, command: Command) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        cells = (
            command.menu or PALETTE_ONLY,
            command.plain_text(),
            ", ".join(command.native_shortcuts()),
            readable_scope(command.scope),
        )
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if column == COMMAND_COLUMN:
                item.setData(Qt.ItemDataRole.UserRole, command.id)
                item.setToolTip(command.tip)
            self.table.setItem(row, column, item)

    def _filter(self, query: str) -> None:
        words = query.lower().split()
        for row in range(self.table.rowCount()):
            text = " ".join(self.table.item(row, c).text() for c in range(len(HEADERS))).lower()
            self.table.setRowHidden(row, not all(word in text for word in words))

    def visible_rows(self) -> list[tuple[str, ...]]:
        """The rows shown (menu, command, shortcuts, where), top to bottom."""
        return [
            tuple(self.table.item(row, column).text() for column in range(len(HEADERS)))
            for row in range(self.table.rowCount())
            if not self.table.isRowHidden(row)
        ]

    def visible_command_ids(self) -> list[str]:
        return [
            self.table.item(row, COMMAND_COLUMN).data(Qt.ItemDataRole.UserRole)
            for row in range(self.table.rowCount())
            if not self.table.isRowHidden(row)
        ]


def mlflow_client_version() -> str:
    """The installed MLflow client: mlflow-skinny, else the full mlflow package."""
    for package in ("mlflow-skinny", "mlflow"):
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def schema_head_text() -> str:
    """The alembic head of the installed MLflow, or why it is unknown."""
    try:
        return schema_guard.installed_head()
    except (RuntimeError, OSError) as error:
        return f"unknown ({error})"


class _SchemaHeadReader(QObject):
    """Reads the schema head on a thread (the first read parses MLflow's migration scripts).

    One reader for the whole app, living on the GUI thread: ``read`` is delivered there
    (queued) and no dialog closing early can delete the object a thread is about to emit on.
    """

    read = Signal(str)

    def start(self) -> None:
        threading.Thread(target=lambda: self.read.emit(schema_head_text()), daemon=True).start()


_reader: _SchemaHeadReader | None = None


def _schema_head_reader() -> _SchemaHeadReader:
    global _reader
    if _reader is None:
        _reader = _SchemaHeadReader()
    return _reader


class AboutDialog(QDialog):
    """Flowdeck's version and the versions it runs on, with a Copy button.

    ``schema_head`` may be given when known; else it is read off the GUI thread unless cached.
    """

    def __init__(self, parent: QWidget | None = None, schema_head: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Flowdeck")
        self.value_labels: dict[str, QLabel] = {}
        heading = QLabel(f"Flowdeck {flowdeck.__version__}", self)
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setStyleSheet("QLabel { font-size: 16pt; font-weight: bold; }")
        summary = QLabel("A fast native desktop explorer for MLflow tracking stores.", self)
        summary.setTextFormat(Qt.TextFormat.PlainText)
        form = QFormLayout()
        if schema_head is None and schema_guard.installed_head.cache_info().currsize:
            schema_head = schema_head_text()
        versions = {
            "Flowdeck": flowdeck.__version__,
            "MLflow client": mlflow_client_version(),
            "Qt": qVersion(),
            "PySide6": PySide6.__version__,
            "Python": platform.python_version(),
            SCHEMA_LABEL: schema_head if schema_head is not None else PENDING,
        }
        for name, value in versions.items():
            label = QLabel(value, self)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{name}:", label)
            self.value_labels[name] = label
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy these versions as plain text, e.g. for a bug report")
        self.copy_button.clicked.connect(self.copy_versions)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(summary)
        layout.addLayout(form)
        layout.addWidget(buttons)
        if schema_head is None:
            reader = _schema_head_reader()
            reader.read.connect(self.value_labels[SCHEMA_LABEL].setText)
            reader.start()

    def versions(self) -> dict[str, str]:
        """Each component's version as shown (the schema head may still be "…")."""
        return {name: label.text() for name, label in self.value_labels.items()}

    def versions_text(self) -> str:
        return "\n".join(f"{name}: {value}" for name, value in self.versions().items())

    def copy_versions(self) -> None:
        QGuiApplication.clipboard().setText(self.versions_text())


def user_guide_path() -> Path:
    """docs/guide.md beside the source tree (src layout), else in the bundle's prefix; its
    pictures are in docs/guide/ beside it."""
    source = Path(flowdeck.__file__).resolve().parents[2] / "docs" / GUIDE_NAME
    bundled = Path(sys.prefix) / "docs" / GUIDE_NAME  # the PyInstaller bundle's _internal/
    return bundled if not source.is_file() and bundled.is_file() else source


def user_guide_markdown() -> str:
    try:
        return user_guide_path().read_text(encoding="utf-8")
    except OSError:
        return FALLBACK_GUIDE


class UserGuideDialog(QDialog):
    """The user guide rendered from Markdown, with a find-as-you-type search field."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Flowdeck User Guide")
        self.resize(900, 760)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Find in the guide…")
        self.search.setClearButtonEnabled(True)
        self.not_found = QLabel("Not found", self)
        self.not_found.setTextFormat(Qt.TextFormat.PlainText)
        self.not_found.hide()
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        # relative picture paths (guide/runs.png) resolve beside the guide
        self.browser.setSearchPaths([str(user_guide_path().parent)])
        self.browser.setMarkdown(user_guide_markdown())  # our own text, not a store's
        self._fitted_width = 0
        self.browser.viewport().installEventFilter(self)  # pictures follow the page's width
        find_row = QHBoxLayout()
        find_row.addWidget(self.search)
        find_row.addWidget(self.not_found)
        layout = QVBoxLayout(self)
        layout.addLayout(find_row)
        layout.addWidget(self.browser)
        self.search.textChanged.connect(lambda _text: self.find_next(from_start=True))
        self.search.returnPressed.connect(lambda: self.find_next(from_start=False))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.browser.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_images()
        return False

    def fit_images(self) -> None:
        """Scale the pictures down to the page's width (never up), keeping their proportions."""
        width = max(self.browser.viewport().width() - IMAGE_MARGIN, 200)
        if width == self._fitted_width:
            return
        self._fitted_width = width
        document = self.browser.document()
        block = document.begin()
        while block.isValid():
            iterator = block.begin()
            while not iterator.atEnd():
                fragment = iterator.fragment()
                image_format = fragment.charFormat().toImageFormat()
                if fragment.isValid() and image_format.isValid():
                    self._fit_image(fragment.position(), fragment.length(), image_format, width)
                iterator += 1
            block = block.next()

    def _fit_image(self, position: int, length: int, image: QTextImageFormat, width: int) -> None:
        size = self.image_size(image.name())
        if size.isEmpty():
            return
        shown = min(width, size.width())
        image.setWidth(shown)
        image.setHeight(size.height() * shown / size.width())
        cursor = QTextCursor(self.browser.document())
        cursor.setPosition(position)
        cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.setCharFormat(image)

    def image_size(self, name: str) -> QSize:
        """The natural size of a picture of the guide (empty when it cannot be loaded)."""
        resource = self.browser.document().resource(
            QTextDocument.ResourceType.ImageResource, QUrl(name)
        )
        if isinstance(resource, QImage | QPixmap) and not resource.isNull():
            return resource.size()
        image = self.browser.loadResource(QTextDocument.ResourceType.ImageResource, QUrl(name))
        return image.size() if isinstance(image, QImage | QPixmap) else QSize()

    def image_names(self) -> list[str]:
        """The pictures the guide shows, in order."""
        names = []
        block = self.browser.document().begin()
        while block.isValid():
            iterator = block.begin()
            while not iterator.atEnd():
                image_format = iterator.fragment().charFormat().toImageFormat()
                if image_format.isValid():
                    names.append(image_format.name())
                iterator += 1
            block = block.next()
        return names

    def find_next(self, from_start: bool) -> bool:
        """Highlight the next occurrence of the search text, wrapping at the end."""
        text = self.search.text()
        if from_start:
            self.browser.moveCursor(QTextCursor.MoveOperation.Start)
        found = not text or self.browser.find(text)
        if not found:
            self.browser.moveCursor(QTextCursor.MoveOperation.Start)
            found = self.browser.find(text)
        self.not_found.setVisible(not found)
        return found

    def selected_text(self) -> str:
        return self.browser.textCursor().selectedText()


def show_user_guide(parent: QWidget | None = None) -> UserGuideDialog:
    """Open the user guide beside the window (non-modal, deleted when closed)."""
    dialog = UserGuideDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


def add_help_commands(registry: CommandRegistry, window: QWidget) -> None:
    """Register the Help menu's commands (User Guide F1, Keyboard Shortcuts Ctrl+/, About)."""
    open_dialogs: dict[str, QDialog] = {}

    def show_once(command_id: str, make: Callable[[], QDialog]) -> None:
        dialog = open_dialogs.get(command_id)
        if dialog is None or not dialog.isVisible():
            dialog = make()
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.finished.connect(lambda _result: open_dialogs.pop(command_id, None))
            open_dialogs[command_id] = dialog
        dialog.show()
        dialog.activateWindow()

    makers: dict[str, Callable[[], QDialog]] = {
        "help.user_guide": lambda: UserGuideDialog(window),
        "help.shortcuts": lambda: ShortcutsDialog(registry, window),
        "help.about": lambda: AboutDialog(window),
    }
    for command in HELP_COMMANDS:
        registry.add(command, lambda c=command.id: show_once(c, makers[c]))
