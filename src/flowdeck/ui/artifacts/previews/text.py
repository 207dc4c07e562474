"""Text and log previews: the whole file, or its head and tail with more loaded on demand; find."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QKeyEvent, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtGui import QTextDocument as Doc
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.artifacts import kinds
from flowdeck.core.artifacts.text_window import (
    Segment,
    TextLayout,
    TextStart,
    TextWindow,
    open_text,
    read_around,
    read_chunk,
    search_file,
    size_text,
    units_before,
    utf16_length,
)
from flowdeck.core.task_state import TaskState
from flowdeck.ui.artifacts.previewer import Previewer, PreviewSource, previewer

SLICE_CHARS = 256 * 1024  # text put into the document per step (short lines cost ~70 ms)
STEP_SECONDS = 0.03
HUGE_LINE_CHARS = 100_000


class TextView(QWidget):
    """A read-only monospace view of a text file with "load more", wrapping and find."""

    loaded = Signal()  # text was added (a chunk, or the window around a match)
    found = Signal(int)  # whole-file search finished: the number of matches

    def __init__(self, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.start: TextStart | None = None
        self.layout_: TextLayout | None = None
        self.bytes_read = 0  # what was read for display (whole-file searches not counted)
        self.file_matches: list[int] = []
        self._match_index = -1
        self._loading = False
        self._queue: deque[Callable[[], None]] = deque()  # document edits not made yet
        self._feeder = QTimer(self, singleShot=True, interval=0)
        self._feeder.timeout.connect(self._drain)
        self.edit = QPlainTextEdit(readOnly=True)
        self.edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.edit.setUndoRedoEnabled(False)
        self.info = QLabel(textFormat=Qt.TextFormat.PlainText)
        self.wrap = QCheckBox("Wrap lines", checked=True, toggled=self._set_wrap)
        self.load_more_button = QPushButton("Load more", visible=False)
        self.load_more_button.clicked.connect(lambda: self.load_more())
        self.find_edit = QLineEdit(placeholderText="Find (Ctrl+F)", clearButtonEnabled=True)
        self.find_edit.textChanged.connect(self._needle_changed)
        self.previous_button = QPushButton("Previous", toolTip="Previous match (Shift+F3)")
        self.previous_button.clicked.connect(lambda: self.find(backward=True))
        self.next_button = QPushButton("Next", toolTip="Next match (Enter, F3)")
        self.next_button.clicked.connect(lambda: self.find())
        self.case = QCheckBox("Match case", toggled=self._needle_changed)
        self.whole_button = QPushButton("Search whole file", visible=False)
        self.whole_button.clicked.connect(self.search_whole_file)
        self.find_status = QLabel(textFormat=Qt.TextFormat.PlainText)
        top = QHBoxLayout()
        top.addWidget(self.info, 1)
        top.addWidget(self.load_more_button)
        top.addWidget(self.wrap)
        find_row = QHBoxLayout()
        for widget in (self.find_edit, self.previous_button, self.next_button, self.case):
            find_row.addWidget(widget)
        find_row.addWidget(self.whole_button)
        find_row.addWidget(self.find_status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addLayout(find_row)
        layout.addWidget(self.edit, 1)
        for widget in (self, *self.findChildren(QWidget)):
            widget.installEventFilter(self)
        self.edit.verticalScrollBar().valueChanged.connect(self._maybe_load)
        self.setFocusProxy(self.edit)
        self.destroyed.connect(lambda: runner.cancel_owner(self))  # nothing to deliver to
        self._marker_format = QTextCharFormat()
        self._marker_format.setFontItalic(True)
        self._marker_format.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))

    # --- content --------------------------------------------------------------------------

    @property
    def feeding(self) -> bool:
        """True while text is still being put into the document, a slice at a time."""
        return bool(self._queue)

    def show_start(self, start: TextStart) -> None:
        """Show the whole file, or its head and tail with a "not loaded" line between."""
        self.runner.cancel_owner(self)
        self._queue.clear()
        self.start, self.bytes_read, self._loading = start, start.bytes_read, True
        self.layout_ = TextLayout(start)
        self.file_matches, self._match_index = [], -1
        self.edit.clear()
        self.edit.setExtraSelections([])
        self.info.setText("Loading…")
        self._allow_no_wrap(start.longest_line <= HUGE_LINE_CHARS)
        self._queue_pieces(0, self.layout_.pieces)
        self._queue.append(self._settled)
        self._drain()

    @property
    def gaps(self) -> list[Segment]:
        return self.layout_.gaps if self.layout_ is not None else []

    def load_more(self, gap: Segment | None = None) -> None:
        """Load the next chunk into ``gap`` (the first one by default), on the worker."""
        gap = gap or next(iter(self.gaps), None)
        if self._loading or gap is None or self.start is None:
            return
        self._loading = True
        path = self.start.path
        self._submit(
            "more",
            "Loading more text",
            lambda _state: read_chunk(path, gap.start, end=gap.end),
            lambda window: self._fill(gap, window, None),
        )

    def _fill(self, gap: Segment, window: TextWindow, match_units: int | None) -> None:
        """Put ``window`` (read from inside ``gap``) in the document where its bytes belong."""
        self.bytes_read += window.bytes_read
        if window.longest_line > HUGE_LINE_CHARS:
            self._allow_no_wrap(False)
        edit = self.layout_.fill(gap, window) if self.layout_ is not None else None
        if edit is None:
            self._loading = False
            return
        cursor = QTextCursor(self.edit.document())
        cursor.setPosition(edit.position)
        cursor.setPosition(edit.position + edit.removed, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._queue_pieces(edit.position, edit.pieces)
        if match_units is not None:
            self._queue.append(lambda: self._select(edit.window_position + match_units))
        self._queue.extend((self._settled, self.loaded.emit))
        self._drain()

    def when_shown(self, step: Callable[[], None]) -> None:
        """Run ``step`` once the text queued so far is in the document."""
        self._queue.append(step)
        self._drain()

    def _queue_pieces(self, position: int, pieces: tuple[tuple[str, bool], ...]) -> None:
        for text, marker in pieces:
            char_format = self._marker_format if marker else QTextCharFormat()
            for first in range(0, len(text), SLICE_CHARS):
                piece = text[first : first + SLICE_CHARS]
                self._queue.append(partial(self._insert, position, piece, char_format))
                position += utf16_length(piece)

    def _insert(self, position: int, text: str, char_format: QTextCharFormat) -> None:
        cursor = QTextCursor(self.edit.document())
        cursor.setPosition(position)
        cursor.insertText(text, char_format)

    def _drain(self) -> None:
        """Run queued steps for a few milliseconds, then let the window breathe."""
        deadline = time.monotonic() + STEP_SECONDS
        while self._queue and time.monotonic() < deadline:
            self._queue.popleft()()
        if self._queue:
            self._feeder.start()

    def _settled(self) -> None:
        self._loading = False
        self._refresh()
        self._maybe_load()

    def _failed(self, error: BaseException, _details: str) -> None:
        self._loading = False
        self.find_status.setText(str(error))

    def _maybe_load(self) -> None:
        """Load more when a "not loaded" line is on screen."""
        if self._loading or not self.gaps or not self.isVisible() or self.layout_ is None:
            return
        top = self.edit.firstVisibleBlock().position()
        bottom = self.edit.cursorForPosition(QPoint(0, self.edit.viewport().height() - 1))
        for gap in self.gaps:
            if top <= self.layout_.position_of(gap) <= bottom.block().position():
                self.load_more(gap)
                return

    def _refresh(self) -> None:
        document = self.edit.document()
        empty_last = document.lastBlock().length() == 1
        count = document.blockCount() - len(self.gaps) - (1 if empty_last else 0)
        lines = f"{count:,} {'line' if count == 1 else 'lines'}"
        if self.start is None or self.layout_ is None:
            self.info.setText(lines)
        elif not self.gaps:
            self.info.setText(f"{lines} · {size_text(self.start.size)}")
        else:
            loaded, size = size_text(self.layout_.loaded_bytes), size_text(self.start.size)
            self.info.setText(f"{lines} loaded · {loaded} of {size}")
        self.load_more_button.setVisible(bool(self.gaps))
        self.whole_button.setVisible(bool(self.gaps) or bool(self.file_matches))

    def _allow_no_wrap(self, allowed: bool) -> None:
        """Qt takes seconds to lay out a line of a million characters unwrapped."""
        if not allowed:
            self.wrap.setChecked(True)
        self.wrap.setEnabled(allowed)
        self.wrap.setToolTip("" if allowed else "Lines this long are always wrapped")

    def _set_wrap(self, on: bool) -> None:
        mode = QPlainTextEdit.LineWrapMode.WidgetWidth if on else QPlainTextEdit.LineWrapMode.NoWrap
        self.edit.setLineWrapMode(mode)

    # --- find -----------------------------------------------------------------------------

    def focus_find(self) -> None:
        self.find_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.find_edit.selectAll()

    def find(self, backward: bool = False) -> bool:
        """Select the next (previous) match: among the whole-file matches once searched, else in
        the loaded text, wrapping around."""
        needle = self.find_edit.text()
        if not needle:
            return False
        if self.file_matches:
            step = -1 if backward else 1
            self._match_index = (self._match_index + step) % len(self.file_matches)
            self.jump_to(self.file_matches[self._match_index])
            return True
        flags = Doc.FindFlag(0)
        if backward:
            flags |= Doc.FindFlag.FindBackward
        if self.case.isChecked():
            flags |= Doc.FindFlag.FindCaseSensitively
        document = self.edit.document()
        found = document.find(needle, self.edit.textCursor(), flags)
        if found.isNull():
            wrap = QTextCursor(document)
            wrap.movePosition(
                QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start
            )
            found = document.find(needle, wrap, flags)
        if found.isNull():
            self.find_status.setText("Not found in the loaded text" if self.gaps else "Not found")
            return False
        self.edit.setTextCursor(found)
        self.find_status.setText("")
        return True

    def search_whole_file(self) -> None:
        needle = self.find_edit.text()
        if not needle or self.start is None:
            return
        self.find_status.setText("Searching the file…")
        path, case = self.start.path, self.case.isChecked()
        self._submit(
            "search",
            "Searching the file",
            lambda state: search_file(state, path, needle, case_sensitive=case),
            self._searched,
        )

    def _searched(self, matches: list[int]) -> None:
        self.file_matches, self._match_index = matches, -1
        count = len(matches)
        self.find_status.setText(
            f"{count:,} {'match' if count == 1 else 'matches'} in the file"
            if count
            else "Not found in the file"
        )
        self.found.emit(count)
        if matches:
            self.find()

    def _needle_changed(self) -> None:
        self.file_matches, self._match_index = [], -1
        self.find_status.setText("")
        self._refresh()

    def jump_to(self, offset: int) -> None:
        """Select the match at byte ``offset``, loading the text around it first if needed."""
        segment = self.layout_.segment_at(offset) if self.layout_ is not None else None
        if segment is None or self.start is None or self.feeding:
            return
        path = self.start.path
        if segment.gap:
            self.runner.cancel_owner(self)  # a chunk being loaded into the same gap
            self._loading = True
            self._submit(
                "jump",
                "Loading the text around a match",
                lambda _state: read_around(path, offset, not_before=segment.start, end=segment.end),
                lambda found: self._fill(segment, found[0], found[1]),
            )
            return

        def located(result: tuple[int, int]) -> None:
            units, read = result
            self.bytes_read += read
            if self.layout_ is not None and self.layout_.segment_at(offset) is segment:
                position = self.layout_.position_of(segment) + units
                self.when_shown(lambda: self._select(position))

        self._submit(
            "jump",
            "Finding a match",
            lambda _state: units_before(path, segment.start, offset),
            located,
        )

    def _submit(
        self, key: str, label: str, work: Callable[[Any], Any], done: Callable[[Any], None]
    ) -> None:
        """Run ``work(state)`` on a worker; a later task with the same key replaces it."""
        self.runner.submit(
            work, owner=self, key=key, label=label, on_result=done, on_error=self._failed
        )

    def _select(self, position: int) -> None:
        cursor = QTextCursor(self.edit.document())
        cursor.setPosition(position)
        cursor.setPosition(
            position + utf16_length(self.find_edit.text()), QTextCursor.MoveMode.KeepAnchor
        )
        self.edit.setTextCursor(cursor)
        self.edit.centerCursor()
        if self.file_matches:
            self.find_status.setText(
                f"{self._match_index + 1:,} of {len(self.file_matches):,} in the file"
            )

    # --- keys -----------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        assert isinstance(event, QKeyEvent)
        key, shift = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        finding = watched is self.find_edit and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ours = (key == Qt.Key.Key_F and ctrl) or key == Qt.Key.Key_F3 or finding
        if not ours:
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # beats window shortcuts while the preview has the focus
            return True
        if key == Qt.Key.Key_F:
            self.focus_find()
        else:
            self.find(backward=shift)
        return True


@previewer
class TextPreviewer(Previewer):
    """Text and logs; the raw fallback of JSON, YAML, Markdown, MLproject and MLmodel files."""

    title = "Text"
    SCORES = {
        kinds.TEXT: 10,
        kinds.JSON: 3,
        kinds.YAML: 3,
        kinds.MARKDOWN: 3,
        kinds.MLPROJECT: 3,
        kinds.MLMODEL: 3,
    }

    def __init__(self, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self.view = TextView(runner, self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        self.setFocusProxy(self.view)

    @classmethod
    def accepts(cls, source: PreviewSource) -> int:
        return 0 if source.is_dir else cls.SCORES.get(source.kind, 0)

    @staticmethod
    def prepare(state: TaskState, source: PreviewSource) -> TextStart:
        assert source.fetch is not None
        path = source.fetch(state, source.path)
        state.check()
        return open_text(path)

    def show_data(self, data: TextStart) -> None:
        self.view.show_start(data)
