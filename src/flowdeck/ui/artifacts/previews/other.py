"""Markdown (formatting only, nothing loaded), external files (HTML, PDF: the system viewer
opens them) and the hex dump fallback for everything else."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import (
    QFont,
    QFontDatabase,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from flowdeck.core.artifacts import kinds
from flowdeck.core.artifacts.hexdump import DUMP_BYTES, hex_dump, read_head
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_size
from flowdeck.ui.artifacts.previewer import Previewer, PreviewSource, previewer
from flowdeck.ui.artifacts.previews.image import SVG_READABLE
from flowdeck.ui.edit.description_editor import MARKDOWN_FEATURES, SafeMarkdownBrowser

# Laying out Markdown runs on the GUI thread (about 0.35 s per MB): render the head only.
MAX_MARKDOWN_BYTES = 192 * 1024
OBJECT_CHARACTER = "\ufffc"  # where a QTextDocument holds an inline image
KIND_NAMES = {
    kinds.BINARY: "Binary file",
    kinds.IMAGE: "Image",
    kinds.TEXT: "Text file",
    kinds.TABLE: "Table",
}


def _plain_label(text: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


@dataclass(frozen=True)
class MarkdownData:
    path: str
    text: str
    size: int
    truncated: bool


@previewer
class MarkdownPreviewer(Previewer):
    """A Markdown file rendered as formatting only: no HTML, no images, nothing fetched. A
    link to another artifact of the run (a relative path) emits ``open_requested``."""

    title = "Markdown"

    def __init__(self, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self.notice = _plain_label()
        self.notice.hide()
        self.browser = SafeMarkdownBrowser()
        self.browser.anchorClicked.connect(self._link_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.browser, 1)
        self.setFocusProxy(self.browser)
        self.path = ""

    @classmethod
    def accepts(cls, source: PreviewSource) -> int:
        return 10 if not source.is_dir and source.kind == kinds.MARKDOWN else 0

    @staticmethod
    def prepare(state: TaskState, source: PreviewSource) -> MarkdownData:
        assert source.fetch is not None
        head, size = read_head(source.fetch(state, source.path), MAX_MARKDOWN_BYTES)
        truncated = size > len(head)
        text = head.decode("utf-8", errors="replace")
        if truncated:
            text = text.rstrip("\ufffd")  # a character cut in two at the limit
        return MarkdownData(source.path, text, size, truncated)

    def show_data(self, data: MarkdownData) -> None:
        self.path = data.path
        document = self.browser.document()
        document.setMarkdown(data.text, MARKDOWN_FEATURES)
        self._name_images(document)
        if data.truncated:
            self.notice.setText(
                f"Showing the first {format_size(MAX_MARKDOWN_BYTES)} of {format_size(data.size)}."
            )
        self.notice.setVisible(data.truncated)

    def _name_images(self, document: QTextDocument) -> None:
        """Put a plain "[image: …]" where the Markdown has an image (none is ever loaded)."""
        text = document.toRawText()
        positions = []
        position = text.find(OBJECT_CHARACTER)
        while position >= 0:
            positions.append(position)
            position = text.find(OBJECT_CHARACTER, position + 1)
        marker = QTextCharFormat()
        marker.setFontItalic(True)
        marker.setForeground(self.palette().placeholderText())
        cursor = QTextCursor(document)
        for position in reversed(positions):
            cursor.setPosition(position)
            cursor.setPosition(position + 1, QTextCursor.MoveMode.KeepAnchor)
            image = cursor.charFormat()
            if not image.isImageFormat():
                continue
            name = image.property(QTextFormat.Property.ImageAltText) or image.toImageFormat().name()
            cursor.insertText(f"[image: {name}]", marker)

    def _link_clicked(self, url: QUrl) -> None:
        target = url.path()
        if url.isRelative() and target and not target.startswith("/"):
            folder = posixpath.dirname(self.path)
            self.open_requested.emit(posixpath.normpath(posixpath.join(folder, target)))
        elif url.isRelative() and not target and url.fragment():
            self.browser.scrollToAnchor(url.fragment())
        else:
            self.message.emit("Links to other places are not opened from a preview.")


@dataclass(frozen=True)
class ExternalData:
    path: str
    kind: str
    size: int | None


@previewer
class ExternalPreviewer(Previewer):
    """HTML and PDF files (and SVG when Qt cannot draw it) are never rendered in the app.

    The host connects ``open_externally(artifact_path)``: fetch the file and open the local
    copy with the system's viewer (``QDesktopServices.openUrl``).
    """

    title = "Open externally"
    open_externally = Signal(str)

    def __init__(self, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self.name_label = _plain_label()
        font = QFont(self.name_label.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.name_label.setFont(font)
        self.size_label = _plain_label()
        self.reason_label = _plain_label()
        self.open_button = QPushButton("Open in the System Viewer")
        self.open_button.clicked.connect(self._open)
        layout = QVBoxLayout(self)
        layout.addWidget(self.name_label)
        layout.addWidget(self.size_label)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        self.setFocusProxy(self.open_button)
        self.path = ""

    @classmethod
    def accepts(cls, source: PreviewSource) -> int:
        if source.is_dir:
            return 0
        if source.kind == kinds.EXTERNAL or (source.kind == kinds.SVG and not SVG_READABLE):
            return 10
        return 0

    @staticmethod
    def prepare(state: TaskState, source: PreviewSource) -> ExternalData:
        return ExternalData(source.path, source.kind, source.size)

    def show_data(self, data: ExternalData) -> None:
        self.path = data.path
        name = posixpath.basename(data.path)
        self.name_label.setText(name)
        self.size_label.setText(format_size(data.size) if data.size is not None else "")
        self.size_label.setVisible(data.size is not None)
        suffix = posixpath.splitext(name)[1].lower()
        if suffix == ".pdf":
            reason = "Flowdeck does not display PDF files; your PDF viewer opens a copy."
        elif data.kind == kinds.SVG:
            reason = "This Qt installation cannot draw SVG files; your image viewer opens a copy."
        else:
            reason = (
                "HTML pages can run scripts and load content from the web, so Flowdeck does "
                "not show them itself; your browser opens a copy."
            )
        self.reason_label.setText(reason)

    def _open(self) -> None:
        if self.path:
            self.open_externally.emit(self.path)


@dataclass(frozen=True)
class HexData:
    dump: str
    size: int
    shown: int
    kind: str  # from the name and the first bytes
    named_kind: str  # from the name alone


@previewer
class HexPreviewer(Previewer):
    """The fallback for any file: its size, its kind and a hex dump of its first 4 KB."""

    title = "Hex"

    def __init__(self, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self.info = _plain_label()
        self.dump = QPlainTextEdit()
        self.dump.setReadOnly(True)
        self.dump.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.dump.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.dump, 1)
        self.setFocusProxy(self.dump)

    @classmethod
    def accepts(cls, source: PreviewSource) -> int:
        return 0 if source.is_dir else 1

    @staticmethod
    def prepare(state: TaskState, source: PreviewSource) -> HexData:
        assert source.fetch is not None
        local = source.fetch(state, source.path)
        state.check()
        head, size = read_head(local, DUMP_BYTES)
        kind = kinds.kind_of(source.name, head)
        return HexData(hex_dump(head), size, len(head), kind, kinds.kind_of(source.name))

    def show_data(self, data: HexData) -> None:
        kind = KIND_NAMES.get(data.kind, f"{data.kind.capitalize()} file")
        parts = [kind, format_size(data.size)]
        if data.kind == kinds.BINARY and data.named_kind not in (kinds.BINARY, data.kind):
            parts.append(f"the name suggests {data.named_kind}, but the content is binary")
        if data.size > data.shown:
            parts.append(f"the first {format_size(data.shown)} as hex")
        elif data.size == 0:
            parts.append("empty")
        self.info.setText(" · ".join(parts))
        self.dump.setPlainText(data.dump)
