"""The run's tags: the user's (editable through Edit Tags…) and MLflow's own, collapsed."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QToolButton, QVBoxLayout, QWidget

from flowdeck.ui.edit.tags_editor import is_system_tag
from flowdeck.ui.pages.overview_widgets import plain_label
from flowdeck.ui.pages.run.values import CopyTable, KeyValueModel, SearchProxy, search_box
from flowdeck.ui.sidebar.nodes import rich_tooltip


class TagsView(QWidget):
    """Search over both tables; the system tags (``mlflow.*``) stay folded until asked for."""

    edit_requested = Signal()
    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = search_box("Search tags (key or value)")
        self.edit_button = QPushButton("Edit Tags…")
        self.edit_button.setToolTip("Add, change or delete this run's tags (Ctrl+T)")
        self.user_model = KeyValueModel(("Tag", "Value"), self)
        self.user_proxy = SearchProxy(self.user_model)
        self.user_table = CopyTable(self)
        self.user_table.setModel(self.user_proxy)
        self.user_note = plain_label("This run has no tags of its own.")
        self.system_model = KeyValueModel(("System tag", "Value"), self)
        self.system_proxy = SearchProxy(self.system_model)
        self.system_table = CopyTable(self)
        self.system_table.setModel(self.system_proxy)
        self.system_toggle = QToolButton()
        self.system_toggle.setCheckable(True)
        self.system_toggle.setAutoRaise(True)
        self.system_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.system_toggle.setToolTip("Tags MLflow sets itself (mlflow.*); read-only")
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.edit_button)
        self._layout = layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.user_note)
        layout.addWidget(self.user_table, 1)
        layout.addWidget(self.system_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.system_table, 1)
        layout.addStretch(0)
        self.search.textChanged.connect(self._search)
        self.edit_button.clicked.connect(self.edit_requested)
        self.system_toggle.toggled.connect(self._show_system)
        self.user_table.copied.connect(self.copied)
        self.system_table.copied.connect(self.copied)
        self._show_system(False)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        self.user_model.set_items({k: v for k, v in tags.items() if not is_system_tag(k)})
        self.system_model.set_items({k: v for k, v in tags.items() if is_system_tag(k)})
        self.user_table.size_key_column(self.user_model.keys)
        self.system_table.size_key_column(self.system_model.keys)
        self._update()

    def set_editable(self, reason: str | None) -> None:
        """Enable Edit Tags…, or disable it and say why."""
        self.edit_button.setEnabled(reason is None)
        tip = reason or "Add, change or delete this run's tags (Ctrl+T)"
        self.edit_button.setToolTip(rich_tooltip(tip))

    def _search(self, text: str) -> None:
        for proxy in (self.user_proxy, self.system_proxy):
            proxy.setFilterFixedString(text.strip())
        self._update()

    def _show_system(self, shown: bool) -> None:
        self.system_toggle.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )
        self.system_table.setVisible(shown)
        self._update()

    def _update(self) -> None:
        searching = bool(self.search.text().strip())
        users, user_total = self.user_proxy.rowCount(), self.user_model.rowCount()
        if user_total == 0:
            self.user_note.setText("This run has no tags of its own.")
        elif searching and users == 0:
            self.user_note.setText("No tag of the run's own matches the search.")
        self.user_note.setVisible(users == 0)
        self.user_table.setVisible(users > 0)
        systems, system_total = self.system_proxy.rowCount(), self.system_model.rowCount()
        count = f"{systems} of {system_total}" if searching else str(system_total)
        self.system_toggle.setText(f"MLflow system tags ({count})")
        self.system_toggle.setVisible(system_total > 0)
        tables = users > 0 or self.system_toggle.isChecked()
        self._layout.setStretch(self._layout.count() - 1, 0 if tables else 1)
