"""The bar above the runs table: MLflow filter box, run-name search, status and deleted-runs view."""

from __future__ import annotations

import hashlib
import json

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.filter_check import FilterProblem, check_run_filter
from flowdeck.ui.runs.completion import FilterCompleter
from flowdeck.ui.settings import Settings

FILTER_PLACEHOLDER = "metrics.loss < 0.5 and params.lr = '0.01'"
RUN_STATUSES = ("FINISHED", "FAILED", "RUNNING", "KILLED", "SCHEDULED")
DEBOUNCE_MS = 250
MAX_HISTORY = 20


def error_colour(palette: QPalette) -> QColor:
    """A red that reads well on the palette's window colour (light or dark theme)."""
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    return QColor("#ff6b6b" if dark else "#c62828")


class FilterHistory:
    """The last applied filters, newest first, per experiment key; kept in Settings if given."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._key = ""
        self._memory: dict[str, list[str]] = {}

    def set_key(self, key: str) -> None:
        self._key = key

    def entries(self) -> list[str]:
        if self._settings is None:
            return list(self._memory.get(self._key, []))
        text = self._settings.value(self._settings_key(), "", str)
        try:
            entries = json.loads(text) if text else []
        except ValueError:
            return []
        return [str(e) for e in entries if isinstance(e, str)][:MAX_HISTORY]

    def add(self, filter_text: str) -> None:
        if not filter_text:
            return
        entries = [filter_text, *(e for e in self.entries() if e != filter_text)][:MAX_HISTORY]
        if self._settings is None:
            self._memory[self._key] = entries
        else:
            self._settings.set_value(self._settings_key(), json.dumps(entries))

    def _settings_key(self) -> str:
        return f"filter_history/{hashlib.sha1(self._key.encode()).hexdigest()}"


class FilterEdit(QLineEdit):
    """A line edit for filter text: Enter applies, Escape clears, Up/Down walk the history."""

    apply_requested = Signal()
    clear_requested = Signal()
    history_step = Signal(int)  # +1 older, -1 newer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.completion = FilterCompleter(self)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        key = event.key()
        popup_keys = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape, Qt.Key.Key_Tab)
        if self.completion.popup_visible() and key in popup_keys:
            event.ignore()  # the completer's popup takes these
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.apply_requested.emit()
        elif key == Qt.Key.Key_Escape:
            self.clear_requested.emit()
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.history_step.emit(1 if key == Qt.Key.Key_Up else -1)
        else:
            super().keyPressEvent(event)


class FilterBar(QWidget):
    """Filter, quick search, status filter and deleted-runs toggle for the runs table.

    ``settings`` keeps the filter history between launches (in memory without it);
    ``set_history_key`` chooses whose history (e.g. the store and experiment ids).
    """

    filter_changed = Signal(str)
    name_search_changed = Signal(str)
    statuses_changed = Signal(object)  # set[str]; empty means every status
    view_changed = Signal(str)  # "active" | "deleted"

    def __init__(self, parent: QWidget | None = None, settings: Settings | None = None) -> None:
        super().__init__(parent)
        self._history = FilterHistory(settings)
        self._history_index = -1  # -1: the user's own text, not a history entry
        self._draft = ""
        self._applied = ""
        self._problem: FilterProblem | None = None
        self._last_name_search = ""
        self._build()
        self._connect()

    # --- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        self.filter_edit = FilterEdit(self)
        self.filter_edit.setPlaceholderText(FILTER_PLACEHOLDER)
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setToolTip(
            "MLflow filter: conditions joined with AND, e.g. metrics.loss < 0.5 and "
            "params.lr = '0.01'. Enter applies, Escape clears, Up/Down recall earlier filters. "
            "(Ctrl+L)"
        )
        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText("Search run names")
        self.name_edit.setClearButtonEnabled(True)
        self.name_edit.setToolTip("Show runs whose name contains this text (Ctrl+F)")
        self.status_button = QToolButton(self)
        self.status_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        # The text ends in its own arrow: the style's indicator would overlap the text.
        self.status_button.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0; }")
        self.status_button.setToolTip("Show only runs with the checked statuses")
        self.status_menu = QMenu(self.status_button)
        self.status_actions = {}
        for status in RUN_STATUSES:
            action = self.status_menu.addAction(status.capitalize())
            action.setCheckable(True)
            action.setData(status)
            self.status_actions[status] = action
        self.status_button.setMenu(self.status_menu)
        self.deleted_button = QToolButton(self)
        self.deleted_button.setText("Deleted runs")
        self.deleted_button.setCheckable(True)
        self.deleted_button.setToolTip("Show deleted runs instead of active ones")
        self.error_label = QLabel(self)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.error_label.hide()
        self._update_status_text()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.filter_edit, 3)
        row.addWidget(self.name_edit, 1)
        row.addWidget(self.status_button)
        row.addWidget(self.deleted_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(2)
        column.addLayout(row)
        column.addWidget(self.error_label)

        self._validate_timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._name_timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)

    def _connect(self) -> None:
        self.filter_edit.textChanged.connect(self._on_filter_text_changed)
        self.filter_edit.apply_requested.connect(self.apply_filter)
        self.filter_edit.clear_requested.connect(self.clear_filter)
        self.filter_edit.history_step.connect(self._step_history)
        self._validate_timer.timeout.connect(self.validate)
        self.name_edit.textChanged.connect(lambda _text: self._name_timer.start())
        self._name_timer.timeout.connect(self._emit_name_search)
        self.status_menu.triggered.connect(self._on_status_toggled)
        self.deleted_button.toggled.connect(
            lambda deleted: self.view_changed.emit("deleted" if deleted else "active")
        )

    # --- filter box ---------------------------------------------------------------------------

    def set_keys(self, metrics: list[str], params: list[str], tags: list[str]) -> None:
        """The keys the filter box completes after ``metrics.``, ``params.`` and ``tags.``."""
        self.filter_edit.completion.set_keys(metrics, params, tags)

    def filter_text(self) -> str:
        return self.filter_edit.text()

    def applied_filter(self) -> str:
        """The filter last emitted by ``filter_changed``."""
        return self._applied

    def problem(self) -> FilterProblem | None:
        """What is wrong with the text as last checked (None when valid)."""
        return self._problem

    def set_filter_text(self, text: str, apply: bool = False) -> None:
        self.filter_edit.setText(text)
        if apply:
            self.apply_filter()

    def validate(self) -> FilterProblem | None:
        """Check the filter text now and show or hide the inline error."""
        self._validate_timer.stop()
        self._problem = check_run_filter(self.filter_edit.text())
        self._show_problem(self._problem)
        return self._problem

    def apply_filter(self) -> bool:
        """Emit ``filter_changed`` with the filter text if MLflow accepts it."""
        if self.validate() is not None:
            return False
        text = self.filter_edit.text().strip()
        self._history.add(text)
        self._history_index = -1
        self._applied = text
        self.filter_changed.emit(text)
        return True

    def clear_filter(self) -> None:
        """Empty the filter box; apply the empty filter if another one was applied."""
        self.filter_edit.clear()
        self.validate()
        if self._applied:
            self._applied = ""
            self.filter_changed.emit("")

    def set_history_key(self, key: str) -> None:
        """Use the filter history of ``key`` (e.g. store location plus experiment ids)."""
        self._history.set_key(key)
        self._history_index = -1

    def history(self) -> list[str]:
        """Applied filters for the current history key, newest first."""
        return self._history.entries()

    def _step_history(self, step: int) -> None:
        entries = self._history.entries()
        index = max(-1, min(len(entries) - 1, self._history_index + step))
        if index == self._history_index:
            return
        if self._history_index == -1:
            self._draft = self.filter_edit.text()
        self._history_index = index
        self.filter_edit.setText(self._draft if index == -1 else entries[index])
        self._history_index = index  # setText above reset it through textChanged

    def _on_filter_text_changed(self, _text: str) -> None:
        self._history_index = -1
        self._validate_timer.start()

    def _show_problem(self, problem: FilterProblem | None) -> None:
        if problem is None:
            self.error_label.hide()
            self.error_label.clear()
            self.filter_edit.setStyleSheet("")
            return
        red = error_colour(self.palette()).name()
        where = f"At character {problem.position + 1}: " if problem.position is not None else ""
        self.error_label.setText(where + problem.message)
        self.error_label.setStyleSheet(f"color: {red};")
        self.error_label.show()
        self.filter_edit.setStyleSheet(
            f"QLineEdit {{ border: 1px solid {red}; border-radius: 3px; padding: 2px 4px; }}"
        )

    # --- other controls -----------------------------------------------------------------------

    def name_search(self) -> str:
        return self.name_edit.text().strip()

    def _emit_name_search(self) -> None:
        text = self.name_search()
        if text != self._last_name_search:
            self._last_name_search = text
            self.name_search_changed.emit(text)

    def statuses(self) -> set[str]:
        """The checked statuses; empty means no status filter."""
        return {s for s, action in self.status_actions.items() if action.isChecked()}

    def set_statuses(self, statuses: set[str]) -> None:
        """Check exactly ``statuses`` (no signal)."""
        for status, action in self.status_actions.items():
            action.setChecked(status in statuses)
        self._update_status_text()

    def _on_status_toggled(self, _action: object) -> None:
        self._update_status_text()
        self.statuses_changed.emit(self.statuses())

    def _update_status_text(self) -> None:
        checked = [s.capitalize() for s in RUN_STATUSES if self.status_actions[s].isChecked()]
        self.status_button.setText("Status: " + (", ".join(checked) if checked else "all") + " ▾")

    def view(self) -> str:
        return "deleted" if self.deleted_button.isChecked() else "active"

    def set_view(self, view: str) -> None:
        self.deleted_button.setChecked(view == "deleted")

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def focus_name_search(self) -> None:
        self.name_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.name_edit.selectAll()
