"""JSON, YAML and MLproject previews: a collapsible tree, the raw text highlighted, tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QPalette,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
    QTextLayout,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTextEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.artifacts import kinds
from flowdeck.core.artifacts.structured import (
    MAX_PARSE_BYTES,
    NOTE,
    Node,
    StructuredDoc,
    format_of,
    parse_value,
    structured_doc,
)
from flowdeck.core.artifacts.tables import TablePreview, is_table_value, table_from_value
from flowdeck.core.artifacts.text_window import (
    WHOLE_BYTES,
    TextStart,
    TextWindow,
    decode,
    open_text,
    size_text,
)
from flowdeck.core.task_state import TaskState
from flowdeck.ui.artifacts.previewer import Previewer, PreviewSource, previewer
from flowdeck.ui.artifacts.previews.table import TableView
from flowdeck.ui.artifacts.previews.text import TextView

Index = QModelIndex | QPersistentModelIndex
HIGHLIGHT_LINE_CHARS = 5_000
ERROR_LINE = QColor(220, 60, 60, 90)
PROBLEM_BACKGROUND = QColor(220, 60, 60, 60)  # over the window colour, light or dark
COLOURED = 1  # a line's userState once its colours are set

# The run colours of flowdeck.ui.theme: they read on light and dark backgrounds alike.
COLOURS = {
    "key": "#2f7ed8",
    "string": "#2a9d3c",
    "number": "#e0600f",
    "literal": "#8e5fd0",
    "comment": "#7a8088",
}
_STRING = r'"(?:[^"\\]|\\.)*"'
_NUMBER = r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])"
_YAML_VALUE = r"(?:(?<=: )|(?<=- )|(?<=\[)|(?<=, ))"
_YAML_END = r"(?=\s*(?:[,\]}]|#|$))"
PATTERNS = {
    "json": re.compile(
        rf"(?P<key>{_STRING}(?=\s*:))|(?P<string>{_STRING})|(?P<number>{_NUMBER})"
        r"|(?P<literal>\b(?:true|false|null)\b)"
    ),
    "yaml": re.compile(  # numbers and literals only as whole values, not inside plain text
        r"(?P<comment>(?:^|(?<=\s))#.*$)"
        r"|(?P<key>^\s*(?:- )*[^\s#:'\"\[{][^:#]*?(?=:(?:\s|$)))"
        rf"|(?P<string>{_STRING}|'[^']*')"
        rf"|(?P<number>{_YAML_VALUE}-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?{_YAML_END})"
        rf"|(?P<literal>{_YAML_VALUE}(?:true|false|null|True|False|yes|no|~){_YAML_END})"
    ),
}


class LazyHighlighter(QObject):
    """Colours the JSON or YAML keys, strings, numbers and literals of the lines on screen.

    A ``QSyntaxHighlighter`` colours every line up front, in Python: about a second per MB
    of pretty-printed JSON. Formats go on the lines' layouts; the document stays plain text.
    """

    def __init__(self, edit: QPlainTextEdit, fmt: str) -> None:
        super().__init__(edit)
        self.edit = edit
        self.pattern = PATTERNS[fmt]  # set before new text is shown
        self.formats: dict[str, QTextCharFormat] = {}
        for name, colour in COLOURS.items():
            self.formats[name] = QTextCharFormat()
            self.formats[name].setForeground(QColor(colour))
        self._later = QTimer(self, singleShot=True, interval=0)
        self._later.timeout.connect(self.colour_visible)
        edit.updateRequest.connect(self._later.start)
        edit.document().contentsChange.connect(self._changed)

    def _changed(self, position: int, _removed: int, added: int) -> None:
        """Lines whose text changed are coloured again (new lines start uncoloured)."""
        document = self.edit.document()
        for changed in (position, position + added):
            document.findBlock(changed).setUserState(-1)
        self._later.start()

    def colour_visible(self, *_args: object) -> None:
        edit = self.edit
        block = edit.firstVisibleBlock()
        corner = QPoint(edit.viewport().width() - 1, edit.viewport().height() - 1)
        last = edit.cursorForPosition(corner).blockNumber()
        document = edit.document()
        while block.isValid() and block.blockNumber() <= last:
            if block.userState() != COLOURED:
                block.setUserState(COLOURED)
                block.layout().setFormats(self.ranges(block.text()))
                document.markContentsDirty(block.position(), block.length())
            block = block.next()

    def ranges(self, text: str) -> list[QTextLayout.FormatRange]:
        if text.startswith("… ") and "not loaded" in text:  # TextView's marker line
            return []
        found = []
        for match in self.pattern.finditer(text[:HIGHLIGHT_LINE_CHARS]):
            part = QTextLayout.FormatRange()
            part.start, part.length = match.start(), match.end() - match.start()
            part.format = self.formats[match.lastgroup or "key"]
            found.append(part)
        return found


def highlight_line(view: TextView, line: int, colour: QColor) -> None:
    """Mark line ``line`` (from 1) of the loaded head of ``view`` and scroll to it."""
    block = view.edit.document().findBlockByNumber(line - 1)
    if not block.isValid():
        return
    selection = QTextEdit.ExtraSelection()
    selection.format.setBackground(colour)
    selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
    selection.cursor = QTextCursor(block)
    view.edit.setExtraSelections([selection])
    view.edit.setTextCursor(QTextCursor(block))
    view.edit.centerCursor()


class TreeModel(QAbstractItemModel):
    """Two columns (key, value) over a parsed tree; nodes are the tree's own objects."""

    def __init__(self, root: Node) -> None:
        super().__init__()
        if not root.children:  # a scalar document: one row holding it
            holder = Node("", "", NOTE)
            holder.add(Node("(value)", root.value, root.kind))
            root = holder
        self.root = root

    def _node(self, index: Index) -> Node:
        return index.internalPointer() if index.isValid() else self.root

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        children = self._node(parent).children
        if not 0 <= row < len(children) or not 0 <= column < 2:
            return QModelIndex()
        return self.createIndex(row, column, children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        parent = index.internalPointer().parent
        if parent is None or parent is self.root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.column() > 0 else len(self._node(parent).children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 2

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node: Node = index.internalPointer()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return node.key if index.column() == 0 else node.value
        if role == Qt.ItemDataRole.FontRole and node.kind == NOTE:
            font = QFont()
            font.setItalic(True)
            return font
        return None

    def headerData(  # noqa: N802 - Qt API
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return ("Key", "Value")[section]
        return None


@dataclass(frozen=True)
class StructuredData:
    """A parsed JSON/YAML file: its tree (None when too big), its raw text, maybe a table."""

    fmt: str
    text: TextStart
    doc: StructuredDoc | None
    table: TablePreview | None = None
    note: str = ""


def read_structured(state: TaskState, source: PreviewSource) -> StructuredData:
    """Fetch and parse a JSON or YAML artifact (what ``prepare`` returns)."""
    assert source.fetch is not None
    path = source.fetch(state, source.path)
    fmt = format_of(source.kind)
    size = path.stat().st_size
    if size > MAX_PARSE_BYTES:
        note = (
            f"This file is {size_text(size)}: it is shown as text (the tree is built for files "
            f"up to {size_text(MAX_PARSE_BYTES)})."
        )
        return StructuredData(fmt, open_text(path), None, note=note)
    text = decode(path.read_bytes())
    state.check()
    value, problem = parse_value(text.removeprefix("\ufeff"), fmt)
    table = table_from_value(value) if fmt == "json" and is_table_value(value) else None
    doc = structured_doc(value, problem, fmt)
    del value
    if size <= WHOLE_BYTES:
        start = TextStart(path, size, TextWindow(text, 0, size, size, size), None)
    else:
        start = open_text(path)
    return StructuredData(fmt, start, doc, table)


@previewer
class StructuredPreviewer(Previewer):
    """JSON, YAML and MLproject files: the tree, the raw text, and a table for log_table JSON."""

    title = "Structured"

    def __init__(self, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self.data: StructuredData | None = None
        self.tree_model: TreeModel | None = None
        self.problem = QLabel(textFormat=Qt.TextFormat.PlainText, wordWrap=True, visible=False)
        self.problem.setMargin(6)
        self.problem.setAutoFillBackground(True)
        palette = self.problem.palette()
        palette.setColor(QPalette.ColorRole.Window, PROBLEM_BACKGROUND)
        self.problem.setPalette(palette)
        self.tabs = QTabWidget(documentMode=True)
        self.table = TableView()
        self.tree = QTreeView(uniformRowHeights=True, alternatingRowColors=True)
        self.tree_summary = QLabel(textFormat=Qt.TextFormat.PlainText)
        expand = QPushButton("Expand all", clicked=self.tree.expandAll)
        collapse = QPushButton("Collapse all", clicked=self.tree.collapseAll)
        self.tree_page = QWidget()
        bar = QHBoxLayout()
        bar.addWidget(self.tree_summary, 1)
        bar.addWidget(expand)
        bar.addWidget(collapse)
        tree_layout = QVBoxLayout(self.tree_page)
        tree_layout.setContentsMargins(0, 4, 0, 0)
        tree_layout.addLayout(bar)
        tree_layout.addWidget(self.tree, 1)
        self.raw = TextView(runner)
        self.highlighter = LazyHighlighter(self.raw.edit, "json")
        self._raw_shown = False
        self.tabs.currentChanged.connect(self._tab_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.problem)
        layout.addWidget(self.tabs, 1)

    @classmethod
    def accepts(cls, source: PreviewSource) -> int:
        wanted = (kinds.JSON, kinds.YAML, kinds.MLPROJECT)
        return 10 if not source.is_dir and source.kind in wanted else 0

    @staticmethod
    def prepare(state: TaskState, source: PreviewSource) -> StructuredData:
        return read_structured(state, source)

    def show_data(self, data: StructuredData) -> None:
        self.data, self._raw_shown = data, False
        self.tabs.blockSignals(True)
        self.tabs.clear()
        if data.table is not None:
            self.table.show_preview(data.table)
            self.tabs.addTab(self.table, "Table")
        doc = data.doc
        if doc is not None and doc.root is not None:
            self.tree_model = TreeModel(doc.root)
            self.tree.setModel(self.tree_model)
            self.tree.expandToDepth(0 if doc.nodes > 200 else 1)
            self.tree.resizeColumnToContents(0)
            self.tree.setColumnWidth(0, min(self.tree.columnWidth(0) + 24, 420))
            note = " (cut short: the rest is in Raw)" if doc.truncated else ""
            entries = f"{doc.nodes - 1:,} entries" if doc.root.children else "A single value"
            self.tree_summary.setText(entries + note)
            self.tabs.addTab(self.tree_page, "Tree")
        self.tabs.addTab(self.raw, "Raw")
        self.tabs.blockSignals(False)
        problem = doc.problem if doc is not None else None
        self.problem.setText(problem.message if problem is not None else data.note)
        self.problem.setVisible(bool(self.problem.text()))
        self.tabs.setCurrentIndex(0)
        self._tab_changed(0)
        if problem is not None and problem.line is not None:
            line = problem.line
            self.raw.when_shown(lambda: highlight_line(self.raw, line, ERROR_LINE))

    def _tab_changed(self, index: int) -> None:
        """The raw text is put in its view when first shown."""
        if self.tabs.widget(index) is not self.raw or self._raw_shown or self.data is None:
            return
        self._raw_shown = True
        self.highlighter.pattern = PATTERNS[self.data.fmt]
        self.raw.show_start(self.data.text)
