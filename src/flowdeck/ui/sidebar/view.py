"""The sidebar widget: search, the store → experiment tree, a deleted toggle and experiment actions."""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from flowdeck.store.base import Store
from flowdeck.ui.sidebar.actions import ExperimentActions
from flowdeck.ui.sidebar.model import ExperimentEntry, Kind, Role, StoreTreeModel
from flowdeck.ui.tasks import TaskRunner


class ExperimentFilter(QSortFilterProxyModel):
    """Keeps every store and its loading/error rows; experiments must contain the search text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self.setRecursiveFilteringEnabled(False)

    def set_search(self, text: str) -> None:
        self._needle = text.strip().casefold()
        self.invalidateFilter()

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        if not source_parent.isValid() or not self._needle:
            return True
        index = self.sourceModel().index(source_row, 0, source_parent)
        if index.data(Role.KIND) != Kind.EXPERIMENT:
            return True
        return self._needle in str(index.data(Role.NAME)).casefold()


class Sidebar(QWidget):
    """Open stores with their experiments; emits the selected experiments of one store."""

    experiments_selected = Signal(object, list)  # Store | None, list[str] experiment ids

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.model = StoreTreeModel(runner, self)
        self.proxy = ExperimentFilter(self)
        self.proxy.setSourceModel(self.model)
        self._last_emitted: tuple[Store | None, list[str]] | None = None
        self._restoring = False

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search experiments")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._search_changed)

        self.tree = QTreeView()
        self.tree.setModel(self.proxy)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.selectionModel().selectionChanged.connect(self._selection_changed)

        self.show_deleted = QCheckBox("Show deleted")
        self.show_deleted.setToolTip("Also list deleted experiments (greyed)")
        self.show_deleted.toggled.connect(self.model.set_show_deleted)

        self.message_label = QLabel()
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: palette(link-visited);")
        self.message_label.hide()

        self.actions_ = ExperimentActions(self.model, runner, self.current_selection, self)
        self.actions_.message.connect(self.show_message)
        self.actions_.written.connect(lambda _store: self.show_message(""))
        self.tree.addActions(self.actions_.all_actions)

        self.model.store_loaded.connect(self._store_loaded)
        self.model.children_about_to_reset.connect(self._children_about_to_reset)
        self.model.children_reset.connect(self._children_reset)
        self.model.store_failed.connect(lambda _store, _message: self.actions_.update_state())
        self.model.rowsInserted.connect(self._expand_new_stores)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addLayout(self._button_row())
        layout.addWidget(self.show_deleted)
        layout.addWidget(self.message_label)
        self.actions_.update_state()

    def _button_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(2)
        for action in (
            self.actions_.create_action,
            self.actions_.rename_action,
            self.actions_.delete_action,
            self.actions_.restore_action,
        ):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            row.addWidget(button)
        more = QToolButton()
        more.setText("More")
        more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(more)
        menu.addActions(
            [self.actions_.describe_action, self.actions_.tags_action, self.actions_.refresh_action]
        )
        more.setMenu(menu)
        row.addWidget(more)
        row.addStretch(1)
        return row

    # --- public API ------------------------------------------------------------------------------

    def add_store(self, store: Store) -> None:
        self.model.add_store(store)

    def remove_store(self, store: Store) -> None:
        self.model.remove_store(store)

    def refresh(self, store: Store) -> None:
        self.model.refresh(store)

    def current_selection(self) -> tuple[Store | None, list[ExperimentEntry]]:
        """The store the selection belongs to and its selected experiments."""
        current = self.tree.currentIndex()
        store = current.data(Role.STORE) if current.isValid() else None
        selected = [self.proxy.mapToSource(i) for i in self.tree.selectionModel().selectedRows()]
        if store is None:
            stores = [index.data(Role.STORE) for index in selected]
            store = stores[0] if stores else None
        entries = []
        for store_of, experiment_id in self.model.experiment_ids(selected):
            if store_of is store:
                entry = self.model.experiment(store_of, experiment_id)
                if entry is not None:
                    entries.append(entry)
        return store, entries

    def select_experiments(self, store: Store, experiment_ids: list[str]) -> None:
        """Select these experiments (those still listed) and make the first one current."""
        selection = QItemSelection()
        first = QModelIndex()
        for experiment_id in experiment_ids:
            index = self.proxy.mapFromSource(self.model.experiment_index(store, experiment_id))
            if index.isValid():
                selection.select(index, index)
                first = first if first.isValid() else index
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        selection_model = self.tree.selectionModel()
        if first.isValid():
            selection_model.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
        selection_model.select(selection, flags)

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    # --- internals ---------------------------------------------------------------------------------

    def _search_changed(self, text: str) -> None:
        self.proxy.set_search(text)
        self.tree.expandAll()

    def _expand_new_stores(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid():
            return
        for row in range(first, last + 1):
            self.tree.expand(self.proxy.mapFromSource(self.model.index(row, 0)))

    def _store_loaded(self, store: Store) -> None:
        self.tree.expand(self.proxy.mapFromSource(self.model.store_index(store)))
        self.actions_.update_state()

    def _children_about_to_reset(self, _store: Store) -> None:
        self._restoring = True

    def _children_reset(self, store: Store) -> None:
        """Reselect what was selected before the store's rows were replaced."""
        previous = self._last_emitted
        try:
            if previous is not None and previous[0] is store and previous[1]:
                self.select_experiments(store, previous[1])
        finally:
            self._restoring = False
        if previous is not None and previous[0] is store:
            self._emit_selection()

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self._restoring:
            return
        self._keep_one_store()
        self._emit_selection()

    def _keep_one_store(self) -> None:
        """Multi-select stays within the store of the current item: deselect the others."""
        current = self.tree.currentIndex()
        store = current.data(Role.STORE) if current.isValid() else None
        if store is None:
            return
        selection_model = self.tree.selectionModel()
        others = [i for i in selection_model.selectedRows() if i.data(Role.STORE) is not store]
        if not others:
            return
        self._restoring = True
        try:
            for index in others:
                selection_model.select(
                    index,
                    QItemSelectionModel.SelectionFlag.Deselect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        finally:
            self._restoring = False

    def _emit_selection(self) -> None:
        store, entries = self.current_selection()
        ids = [entry.experiment_id for entry in entries]
        self.actions_.update_state()
        state = (store, ids)
        last = self._last_emitted
        if last is not None and last[0] is store and last[1] == ids:
            return
        self._last_emitted = state
        self.experiments_selected.emit(store, ids)

    def _context_menu(self, position: QPoint) -> None:
        index = self.tree.indexAt(position)
        if index.isValid() and not self.tree.selectionModel().isSelected(index):
            self.tree.setCurrentIndex(index)
        self.actions_.update_state()
        menu = QMenu(self)
        for action in self.actions_.all_actions:
            if action is self.actions_.refresh_action:
                menu.addSeparator()
            menu.addAction(action)
        menu.popup(self.tree.viewport().mapToGlobal(position))
