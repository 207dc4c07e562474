"""The sidebar widget: search, the navigation tree, a deleted toggle, and the edit actions."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.addresses import Address, across_address, experiment_address
from flowdeck.core.context import Item, Selection
from flowdeck.core.store_keys import key_of, split_key
from flowdeck.store.base import Store
from flowdeck.ui.sidebar.listing import ExperimentEntry
from flowdeck.ui.sidebar.model import Kind, Role, StoreTreeModel
from flowdeck.ui.sidebar.nodes import RowKey
from flowdeck.ui.sidebar.tree import ExperimentFilter, NavigationTree
from flowdeck.ui.tasks import TaskRunner

Rows = QItemSelectionModel.SelectionFlag.Rows


def focus_of(store: Store | None, entries: list[ExperimentEntry]) -> Selection:
    """The edit focus for these selected experiments (empty without any)."""
    if store is None or not entries:
        return Selection()
    items = tuple(
        Item(
            entry.experiment_id,
            entry.name,
            entry.deleted,
            description=entry.description,
            tags=tuple(sorted(entry.tags.items())),
        )
        for entry in entries
    )
    return Selection("experiment", store, items)


class Sidebar(QWidget):
    """Open stores and what they hold; selecting or clicking a row asks to open its page."""

    experiments_selected = Signal(object, list)  # Store | None, list[str] experiment ids
    open_requested = Signal(object, object, bool)  # Store | None, Address, new tab
    focus_changed = Signal(object)  # flowdeck.core.context.Selection

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.model = StoreTreeModel(runner, self)
        self.proxy = ExperimentFilter(self)
        self.proxy.setSourceModel(self.model)
        self._last_emitted: tuple[Store | None, list[str]] | None = None
        self._last_across: Address | None = None  # experiments of several stores, last opened
        self._focus = Selection()
        self._restoring = False
        self._navigate = True
        self._opened_since_press = False
        self._kept_current: dict[int, RowKey] = {}  # by id(store), while its rows are replaced
        self._expanded: dict[int, set[RowKey]] = {}  # by id(store); kept when rows are removed
        self._context_actions: list[QAction | None] = []
        self.action_buttons: list[QToolButton] = []

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search experiments")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._search_changed)

        self.tree = NavigationTree()
        self.tree.setModel(self.proxy)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.selectionModel().selectionChanged.connect(self._selection_changed)
        self.tree.pressed.connect(self._pressed)
        self.tree.clicked.connect(self._clicked)
        self.tree.enter_pressed.connect(self._enter_pressed)
        self.tree.middle_clicked.connect(self._middle_clicked)
        self.tree.expanded.connect(lambda index: self._track_expanded(index, True))
        self.tree.collapsed.connect(lambda index: self._track_expanded(index, False))
        self.context_menu = QMenu(self)

        self.show_deleted = QCheckBox("Show deleted")
        self.show_deleted.setToolTip("Also list deleted experiments (greyed)")
        self.show_deleted.toggled.connect(self.model.set_show_deleted)

        self.message_label = QLabel()
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: palette(link-visited);")
        self.message_label.hide()

        self.model.store_loaded.connect(self._expand_store)
        self.model.children_about_to_reset.connect(self._children_about_to_reset)
        self.model.children_reset.connect(self._children_reset)
        self.model.rowsInserted.connect(self._expand_new_stores)
        self.model.rowsRemoved.connect(self._rows_removed)

        self._buttons_row = QHBoxLayout()
        self._buttons_row.setSpacing(2)
        self._buttons_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addLayout(self._buttons_row)
        layout.addWidget(self.show_deleted)
        layout.addWidget(self.message_label)

    # --- public API ------------------------------------------------------------------------------

    def add_store(self, store: Store) -> None:
        self.model.add_store(store)

    def remove_store(self, store: Store) -> None:
        self.model.remove_store(store)

    def refresh(self, store: Store) -> None:
        """Reload the store's experiments and then its models."""
        self.model.refresh(store)

    def refresh_models(self, store: Store) -> None:
        self.model.refresh_models(store)

    def set_read_only(self, store: Store, reason: str | None) -> None:
        self.model.set_read_only(store, reason)

    def set_actions(self, buttons: list[QAction], context_menu: list[QAction | None]) -> None:
        """Tool buttons under the tree for ``buttons``; the tree's menu (None: a separator)."""
        for button in self.action_buttons:
            self._buttons_row.removeWidget(button)
            button.deleteLater()
        self.action_buttons = []
        for position, action in enumerate(buttons):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            self._buttons_row.insertWidget(position, button)
            self.action_buttons.append(button)
        self._context_actions = list(context_menu)

    def current_selection(self) -> tuple[Store | None, list[ExperimentEntry]]:
        """The store the selection belongs to and its selected experiments (in the shown order)."""
        current = self.tree.currentIndex()
        store = current.data(Role.STORE) if current.isValid() else None
        rows = sorted(self.tree.selectionModel().selectedRows(), key=self._visual_order)
        selected = [self.proxy.mapToSource(index) for index in rows]
        if store is None or (selected and not self.tree.selectionModel().isSelected(current)):
            stores = [s for s in (index.data(Role.STORE) for index in selected) if s is not None]
            store = stores[0] if stores else store
        entries: dict[str, ExperimentEntry] = {}
        for index in selected:
            entry = self.model.entry(index)
            if entry is not None and index.data(Role.STORE) is store:
                entries.setdefault(entry.experiment_id, entry)
        return store, list(entries.values())

    def selected_keys(self) -> list[str]:
        """The selected experiments of every store, ``<store number>:<id>`` in shown order."""
        rows = sorted(self.tree.selectionModel().selectedRows(), key=self._visual_order)
        numbers = {id(store): n for n, store in enumerate(self.model.stores, start=1)}
        keys: dict[str, None] = {}
        for index in (self.proxy.mapToSource(row) for row in rows):
            entry, store = self.model.entry(index), index.data(Role.STORE)
            if entry is not None and id(store) in numbers:
                keys[key_of(numbers[id(store)], entry.experiment_id)] = None
        return list(keys)

    def _across(self) -> Address | None:
        """The page of the selected experiments when they belong to two or more stores."""
        keys = self.selected_keys()
        return across_address(keys) if len({split_key(k)[0] for k in keys}) > 1 else None

    def select_keys(self, keys: list[str] | tuple[str, ...]) -> None:
        """Select experiments of several stores (``<store number>:<id>``), without navigating."""
        found = []
        for key in keys:
            number, experiment_id = split_key(key)
            if number <= len(self.model.stores):
                store = self.model.stores[number - 1]
                found.append(self.model.experiment_index(store, experiment_id))
        self._select_rows(found, navigate=False)

    def focus_selection(self) -> Selection:
        """The selected experiments as edit commands see them (empty for other rows)."""
        return focus_of(*self.current_selection())

    def select_experiments(
        self, store: Store, experiment_ids: list[str], *, navigate: bool = True
    ) -> None:
        """Select these experiments (those still shown) and make the first one current.

        ``navigate=False`` mirrors a page that is already open: no ``open_requested``.
        """
        found = [self.model.experiment_index(store, e) for e in experiment_ids]
        self._select_rows(found, navigate=navigate)

    def _select_rows(self, source_indexes: list[QModelIndex], *, navigate: bool) -> None:
        """Select the rows of these model indexes that are shown, the first one current."""
        selection = QItemSelection()
        first = QModelIndex()
        for source_index in source_indexes:
            index = self.proxy.mapFromSource(source_index)
            if index.isValid():
                selection.select(index, index)
                first = first if first.isValid() else index
        selection_model = self.tree.selectionModel()
        self._navigate = navigate
        try:
            if first.isValid():
                selection_model.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
            selection_model.select(
                selection, QItemSelectionModel.SelectionFlag.ClearAndSelect | Rows
            )
        finally:
            self._navigate = True

    def select_store(self, store: Store) -> None:
        """Make the store's row current (an already open store was opened again)."""
        index = self.proxy.mapFromSource(self.model.store_index(store))
        if index.isValid():
            self.tree.setCurrentIndex(index)

    def show_address(self, store: Store | None, address: Address) -> None:
        """Select the row of the page now shown (no ``open_requested``); pages without a row
        of their own (a run, a trace) leave the selection as it is."""
        if address.kind == "experiment" and store is not None:
            self.select_experiments(store, list(address.ids), navigate=False)
            return
        if address.kind == "across":
            if self.selected_keys() != list(address.ids):
                self.select_keys(address.ids)
            return
        model = self.model
        if address.kind == "servers":
            index = model.servers_index()
        elif store is None:
            return
        elif address.kind == "models":
            index = model.models_index(store)
        elif address.kind in ("model", "model-version"):
            index = model.model_index(store, address.first_id)
        elif address.kind == "traces":
            index = model.traces_index(store, address.first_id)
        elif address.kind == "logged-models":
            index = model.logged_models_index(store, address.first_id)
        else:
            return
        shown = self.proxy.mapFromSource(index)
        if shown.isValid() and shown != self.tree.currentIndex():
            self.tree.selectionModel().setCurrentIndex(
                shown, QItemSelectionModel.SelectionFlag.ClearAndSelect | Rows
            )

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    # --- navigation ------------------------------------------------------------------------------

    def _request(self, index: QModelIndex, new_tab: bool) -> bool:
        address = index.data(Role.ADDRESS)
        if not isinstance(address, Address):
            return False
        self.open_requested.emit(index.data(Role.STORE), address, new_tab)
        return True

    def _pressed(self, _index: QModelIndex) -> None:
        self._opened_since_press = False

    def _clicked(self, index: QModelIndex) -> None:
        if index.data(Role.KIND) != Kind.EXPERIMENT:
            self._request(index, False)
        elif not self._opened_since_press and self.tree.selectionModel().isSelected(index):
            self._open_selected(index)  # a click that left the selection as it was

    def _open_selected(self, index: QModelIndex) -> None:
        """Open the selected experiments if ``index`` is one of them, else just its experiment."""
        store, entries = self.current_selection()
        ids = [entry.experiment_id for entry in entries]
        across = self._across()
        if across is not None and self.tree.selectionModel().isSelected(index):
            self.open_requested.emit(None, across, False)
        elif ids and self.tree.selectionModel().isSelected(index):
            self.open_requested.emit(store, experiment_address(ids), False)
        else:
            self._request(index, False)

    def _middle_clicked(self, index: QModelIndex) -> None:
        self._request(index, True)

    def _enter_pressed(self, index: QModelIndex) -> None:
        if index.data(Role.KIND) == Kind.EXPERIMENT:
            self._open_selected(index)
        elif not self._request(index, False) and self.proxy.hasChildren(index):
            self.tree.setExpanded(index, not self.tree.isExpanded(index))

    # --- selection ---------------------------------------------------------------------------------

    def _visual_order(self, index: QModelIndex) -> tuple[int, ...]:
        path = []
        while index.isValid():
            path.append(index.row())
            index = index.parent()
        return tuple(reversed(path))

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        if self._restoring:
            return
        self._normalise_selection()
        self._emit_selection(always_focus=True)

    def _normalise_selection(self) -> None:
        """Keep either experiments (of any stores), or the current row alone."""
        current = self.tree.currentIndex()
        if not current.isValid():
            return
        selection_model = self.tree.selectionModel()
        if current.data(Role.KIND) == Kind.EXPERIMENT:
            drop = [
                index
                for index in selection_model.selectedRows()
                if index.data(Role.KIND) != Kind.EXPERIMENT or index.data(Role.STORE) is None
            ]
        elif selection_model.isSelected(current):
            drop = [index for index in selection_model.selectedRows() if index != current]
        else:
            drop = []
        if not drop:
            return
        deselect = QItemSelection()
        for index in drop:
            deselect.select(index, index)
        self._restoring = True
        try:
            selection_model.select(deselect, QItemSelectionModel.SelectionFlag.Deselect | Rows)
        finally:
            self._restoring = False

    def _emit_selection(self, always_focus: bool) -> None:
        store, entries = self.current_selection()
        ids = [entry.experiment_id for entry in entries]
        last, across = self._last_emitted, self._across()
        if last is None or last[0] is not store or last[1] != ids:
            self._last_emitted = (store, ids)
            self.experiments_selected.emit(store, ids)
            if ids and self._navigate and across is None:
                self._opened_since_press = True
                self.open_requested.emit(store, experiment_address(ids), False)
        if across is not None and across != self._last_across and self._navigate:
            self._opened_since_press = True
            self.open_requested.emit(None, across, False)
        self._last_across = across
        focus = focus_of(store, entries)
        if always_focus or focus != self._focus:
            self._focus = focus
            self.focus_changed.emit(focus)

    # --- rows replaced under a store ----------------------------------------------------------

    def _children_about_to_reset(self, store: Store) -> None:
        self._restoring = True
        current = self.tree.currentIndex()
        if (
            self.tree.selectionModel().isSelected(current)
            and current.data(Role.STORE) is store
            and current.data(Role.KIND) != Kind.EXPERIMENT
        ):
            key = self.model.row_key(self.proxy.mapToSource(current))
            if key is not None:
                self._kept_current[id(store)] = key

    def _children_reset(self, store: Store) -> None:
        """Expand and reselect what was expanded and selected before the rows were replaced."""
        current = self._kept_current.pop(id(store), None)
        expanded = self._expanded.get(id(store), set())
        previous = self._last_emitted
        try:
            wanted = expanded if current is None else {*expanded, current}
            indexes = self.model.indexes_by_key(store, wanted)
            for key in expanded:
                if key in indexes:
                    self.tree.expand(self.proxy.mapFromSource(indexes[key]))
            if previous is not None and previous[0] is store and previous[1]:
                self.select_experiments(store, previous[1])
            elif current is not None and current in indexes:
                index = self.proxy.mapFromSource(indexes[current])
                self.tree.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect | Rows
                )
        finally:
            self._restoring = False
        if previous is not None and previous[0] is store:
            self._emit_selection(always_focus=False)

    def _rows_removed(self, parent: QModelIndex, _first: int, _last: int) -> None:
        if parent.isValid():
            return
        alive = {id(store) for store in self.model.stores}
        for kept in (self._expanded, self._kept_current):
            for key in [key for key in kept if key not in alive]:
                del kept[key]
        if not self._restoring:  # a closed store: its experiments are no longer selected
            self._emit_selection(always_focus=False)

    # --- expansion, search and the context menu ------------------------------------------------

    def _search_changed(self, text: str) -> None:
        self._navigate = False  # hiding selected experiments updates the selection, not the page
        try:
            self.proxy.set_search(text)
        finally:
            self._navigate = True
        for store in self.model.stores:
            self._expand_store(store)

    def _track_expanded(self, index: QModelIndex, expanded: bool) -> None:
        source = self.proxy.mapToSource(index)
        store, key = source.data(Role.STORE), self.model.row_key(source)
        if store is None or key is None:
            return
        keys = self._expanded.setdefault(id(store), set())
        if expanded:
            keys.add(key)
        else:
            keys.discard(key)

    def _expand_store(self, store: Store) -> None:
        self.tree.expand(self.proxy.mapFromSource(self.model.store_index(store)))

    def _expand_new_stores(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid():
            return
        for row in range(first, last + 1):
            self.tree.expand(self.proxy.mapFromSource(self.model.index(row, 0)))

    def _context_menu(self, position: QPoint) -> None:
        index = self.tree.indexAt(position)
        if index.isValid() and not self.tree.selectionModel().isSelected(index):
            self.tree.setCurrentIndex(index)
        self.context_menu.clear()
        for action in self._context_actions:
            if action is None:
                self.context_menu.addSeparator()
            else:
                self.context_menu.addAction(action)
        if not self.context_menu.isEmpty():
            self.context_menu.popup(self.tree.viewport().mapToGlobal(position))
