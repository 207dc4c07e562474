"""A Markdown description editor with a live preview that never loads remote resources."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QImage, QKeySequence, QShortcut, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

PREVIEW_DELAY_MS = 150
# md4c's GitHub dialect without raw HTML: "<script>" and "<img>" in the text show as text.
MARKDOWN_FEATURES = (
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub
    | QTextDocument.MarkdownFeature.MarkdownNoHTML
)


class SafeMarkdownBrowser(QTextBrowser):
    """Renders the user's Markdown but loads nothing: no images, no links, no style sheets."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(False)
        self.setOpenLinks(False)
        self.blocked_urls: list[str] = []

    def setMarkdown(self, markdown: str) -> None:  # noqa: N802 - Qt override
        """Text formatting only: raw HTML inside the Markdown is shown as text."""
        self.document().setMarkdown(markdown, MARKDOWN_FEATURES)

    def loadResource(self, kind: int, url: QUrl | str) -> Any:  # noqa: N802 - Qt override
        self.blocked_urls.append(url.toString() if isinstance(url, QUrl) else str(url))
        # Empty but never None: on None QTextDocument reads local files itself.
        if int(getattr(kind, "value", kind)) == QTextDocument.ResourceType.ImageResource.value:
            return QImage()
        return ""


class DescriptionEditor(QDialog):
    """Edit a run's description as Markdown; Ctrl+Enter saves, Escape cancels."""

    def __init__(self, text: str = "", subject: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.original_text = text
        self.setWindowTitle(f"Description of {subject}" if subject else "Description")
        hint = QLabel("Markdown. Ctrl+Enter saves.")
        self.editor = QPlainTextEdit()
        self.editor.setPlainText(text)
        self.editor.setPlaceholderText("Describe this run (Markdown)")
        self.preview = SafeMarkdownBrowser()
        splitter = QSplitter()
        splitter.addWidget(self.editor)
        splitter.addWidget(self.preview)
        splitter.setChildrenCollapsible(False)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for sequence in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(sequence), self, activated=self.accept)

        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.update_preview)
        self.editor.textChanged.connect(self._preview_timer.start)

        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.update_preview()
        self.editor.setFocus()
        self.resize(760, 420)

    def text(self) -> str:
        return self.editor.toPlainText()

    def is_changed(self) -> bool:
        return self.text() != self.original_text

    def update_preview(self) -> None:
        self.preview.setMarkdown(self.text())
