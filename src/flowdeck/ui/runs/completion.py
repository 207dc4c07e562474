"""Key completion for MLflow filter text in a QLineEdit: metric/param/tag keys and prefixes."""

from __future__ import annotations

from PySide6.QtCore import QObject, QStringListModel, Qt
from PySide6.QtWidgets import QCompleter, QLineEdit

from flowdeck.core.filter_check import CLAUSE_START, completions_for, identifier_at


class FilterCompleter(QObject):
    """Offers completions for the name under the cursor of ``edit`` and inserts the chosen one.

    Unlike ``QLineEdit.setCompleter`` it replaces only the name being typed, not the whole text.
    """

    def __init__(self, edit: QLineEdit) -> None:
        super().__init__(edit)
        self._edit = edit
        self._metrics: list[str] = []
        self._params: list[str] = []
        self._tags: list[str] = []
        self._model = QStringListModel(self)
        self.completer = QCompleter(self._model, self)
        self.completer.setWidget(edit)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setMaxVisibleItems(12)
        self.completer.activated.connect(self.insert_completion)
        edit.textEdited.connect(self.update_popup)

    def set_keys(self, metrics: list[str], params: list[str], tags: list[str]) -> None:
        self._metrics, self._params, self._tags = sorted(metrics), sorted(params), sorted(tags)

    def popup_visible(self) -> bool:
        return self.completer.popup().isVisible()

    def candidates(self) -> list[str]:
        """Completions that match what is typed at the cursor now (what the popup lists)."""
        self._refresh()
        return [
            self.completer.completionModel().index(row, 0).data()
            for row in range(self.completer.completionCount())
        ]

    def update_popup(self, _text: str = "") -> None:
        """Show or hide the popup for the text and cursor of the line edit."""
        context = self._refresh()
        wanted = context.kind is not None and (context.kind != CLAUSE_START or context.partial)
        count = self.completer.completionCount()
        only_itself = count == 1 and self.completer.currentCompletion() == context.partial
        if not wanted or count == 0 or only_itself:
            self.completer.popup().hide()
            return
        self.completer.complete()

    def insert_completion(self, completion: str) -> None:
        text, cursor = self._edit.text(), self._edit.cursorPosition()
        context = identifier_at(text, cursor)
        start = cursor - len(context.partial)
        self._edit.setText(text[:start] + completion + text[cursor:])
        self._edit.setCursorPosition(start + len(completion))
        if completion.endswith("."):  # a prefix: go straight on to its keys
            self.update_popup()

    def _refresh(self):  # -> CursorContext
        context = identifier_at(self._edit.text(), self._edit.cursorPosition())
        words = completions_for(context.kind, self._metrics, self._params, self._tags)
        if self._model.stringList() != words:
            self._model.setStringList(words)
        self.completer.setCompletionPrefix(context.partial)
        return context
