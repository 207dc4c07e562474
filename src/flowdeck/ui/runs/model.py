"""RunsTreeModel: a thin Qt item model over a RunsTable (flat, nested-tree and grouped modes)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from flowdeck.core.runs_table import SWATCH, RunsTable
from flowdeck.core.runs_table_columns import Column, ColumnSpec
from flowdeck.core.runs_table_tree import RunGroup, RunTree
from flowdeck.core.text_format import capped
from flowdeck.ui.runs.decorations import escaped_tooltip, status_icon

FLAT = "flat"
TREE = "tree"
GROUPED = "grouped"
MODES = (FLAT, TREE, GROUPED)

# internalId of an index: table row + 1 for a run, GROUP_BASE + n for the n-th group.
GROUP_BASE = 1 << 48
# A cell shows at most this much (a 10,000-character run name elided on every paint is slow);
# its tooltip a little more, and the table's arrays (CSV export, sorting) keep all of it.
CELL_CHARS = 500
TOOLTIP_CHARS = 2_000

_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_DECORATION = Qt.ItemDataRole.DecorationRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole.value
_FONT = Qt.ItemDataRole.FontRole.value
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

_HANDLED_ROLES = frozenset(
    {
        _DISPLAY,
        _DECORATION,
        _TOOLTIP,
        _ALIGNMENT,
        _FONT,
        Qt.ItemDataRole.UserRole + 1,
        Qt.ItemDataRole.UserRole + 2,
        Qt.ItemDataRole.UserRole + 3,
    }
)

RunKey = tuple[str, object, str, int]  # ("run"|"group", run id | group key, column id, column)


class RunsTreeModel(QAbstractItemModel):
    """Rows are runs (or groups of runs); every cell is a lookup into pre-formatted arrays."""

    RunIdRole = Qt.ItemDataRole.UserRole + 1
    ColumnIdRole = Qt.ItemDataRole.UserRole + 2
    IsGroupRole = Qt.ItemDataRole.UserRole + 3

    def __init__(self, table: RunsTable | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._table = table or RunsTable([], [], np.zeros(0, dtype=np.int64), [])
        self._mode = FLAT
        self._group_column: str | None = None
        self._group_metric: str | None = None
        self._sort: tuple[str, bool] | None = None
        self._name_filter = ""
        self._status_filter: frozenset[str] | None = None
        self._chosen_columns: list[str] | None = None
        self._visible: list[Column] = []
        self._visible_ids: dict[str, int] = {}
        self._tree: RunTree | None = None
        self._roots: list[int] = []  # top-level table rows (a list: fastest to index)
        self._groups: list[RunGroup] = []
        self._group_of = np.zeros(0, dtype=np.int64)
        self._row_in_group = np.zeros(0, dtype=np.int64)
        self._group_index: dict[str | None, int] = {}
        self._colours: dict[str, QColor] = {}
        self._bold = QFont()
        self._bold.setBold(True)
        self._choose_columns()
        self._arrange()

    # --- public API -------------------------------------------------------------------------

    def table(self) -> RunsTable:
        return self._table

    def set_table(self, table: RunsTable) -> None:
        """Show ``table``; selection, expansion and current index follow run ids."""
        old_ids = {spec.id for spec in self._table.specs()}

        def swap() -> None:
            self._table = table
            self._choose_columns(old_ids)

        if self.rowCount() == 0:
            # Nothing to keep: a reset lets the view lay out once, later, instead of twice.
            self.beginResetModel()
            swap()
            self._arrange()
            self.endResetModel()
        else:
            self._relayout(swap)

    def column_specs(self) -> list[ColumnSpec]:
        """Every column the table offers (for a column chooser), visible or not."""
        return self._table.specs()

    def visible_column_ids(self) -> list[str]:
        return [column.spec.id for column in self._visible]

    def set_visible_columns(self, ids: Sequence[str]) -> None:
        """Show these columns in this order (unknown ids are skipped)."""
        self._chosen_columns = list(ids)
        self._relayout(self._choose_columns)

    def mode(self) -> str:
        return self._mode

    def set_mode(
        self, mode: str, group_column: str | None = None, group_metric: str | None = None
    ) -> None:
        """``flat``, ``tree`` (nested runs) or ``grouped`` by ``group_column`` (a column id)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        if mode == GROUPED and not (group_column and self._table.has_column(group_column)):
            raise ValueError(f"cannot group by {group_column!r}")

        def switch() -> None:
            self._mode = mode
            self._group_column = group_column if mode == GROUPED else None
            self._group_metric = group_metric if mode == GROUPED else None

        self._relayout(switch)

    def set_name_filter(self, text: str) -> None:
        """Quick search on run names (and run id prefixes); '' shows all."""
        self._relayout(lambda: setattr(self, "_name_filter", text))

    def set_status_filter(self, statuses: Collection[str] | None) -> None:
        """Show only runs with these statuses (None shows all)."""
        chosen = None if statuses is None else frozenset(s.upper() for s in statuses)
        self._relayout(lambda: setattr(self, "_status_filter", chosen))

    def sort_column_id(self) -> tuple[str, bool] | None:
        """(column id, descending) of the current sort, None for the store's order."""
        return self._sort

    def sort_by_id(self, column_id: str | None, descending: bool = False) -> None:
        """Sort by a column id (None: back to the order the store returned)."""
        known = column_id is not None and self._table.has_column(column_id)
        self._relayout(lambda: setattr(self, "_sort", (column_id, descending) if known else None))

    def run_id(self, index: QModelIndex | QPersistentModelIndex) -> str | None:
        """The run id of a run row (None for a group row or an invalid index)."""
        if not index.isValid() or index.internalId() >= GROUP_BASE:
            return None
        return self._table.run_ids[index.internalId() - 1]

    def run_ids(self, indexes: Iterable[QModelIndex]) -> list[str]:
        """Distinct run ids of ``indexes`` in the order met (group rows skipped)."""
        seen: dict[str, None] = {}
        for index in indexes:
            run_id = self.run_id(index)
            if run_id is not None:
                seen[run_id] = None
        return list(seen)

    def index_of_run(self, run_id: str, column: int = 0) -> QModelIndex:
        """The index showing ``run_id`` (invalid when it is not in the table or filtered out)."""
        row = self._table.row_of(run_id)
        return QModelIndex() if row is None else self._index_of_row(row, column)

    def visible_rows(self) -> np.ndarray:
        """Table rows in display order (depth first; group members after each other)."""
        if self._mode == GROUPED:
            parts = [group.rows for group in self._groups]
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        assert self._tree is not None
        out: list[int] = []
        stack = list(reversed(self._tree.roots.tolist()))
        while stack:
            row = stack.pop()
            out.append(row)
            stack.extend(reversed(self._tree.children_of(row).tolist()))
        return np.array(out, dtype=np.int64)

    def export_csv(self, path: str | Path, run_ids: Sequence[str] | None = None) -> None:
        """Raw values of the visible columns: the given runs, or every shown row in view order."""
        if run_ids is None:
            rows = self.visible_rows()
        else:
            found = (self._table.row_of(run_id) for run_id in run_ids)
            rows = np.array([row for row in found if row is not None], dtype=np.int64)
        self._table.to_csv(path, rows, self.visible_column_ids())

    def groups(self) -> list[RunGroup]:
        return list(self._groups)

    # --- Qt model interface -----------------------------------------------------------------

    def index(self, row: int, column: int, parent: QModelIndex | None = None) -> QModelIndex:
        if column < 0 or column >= len(self._visible) or row < 0:
            return QModelIndex()
        if parent is None or not parent.isValid():
            if self._mode == GROUPED:
                if row < len(self._groups):
                    return self.createIndex(row, column, GROUP_BASE + row)
                return QModelIndex()
            roots = self._roots
            return (
                self.createIndex(row, column, roots[row] + 1) if row < len(roots) else QModelIndex()
            )
        members = self._members(parent)
        if row >= len(members):
            return QModelIndex()
        return self.createIndex(row, column, int(members[row]) + 1)

    def parent(self, *args: QModelIndex) -> QModelIndex | QObject | None:  # type: ignore[override]
        if not args:
            return super().parent()
        index = args[0]
        if not index.isValid():
            return QModelIndex()
        node = index.internalId()
        if node >= GROUP_BASE:
            return QModelIndex()
        row = node - 1
        if self._mode == GROUPED:
            group = int(self._group_of[row])
            return self.createIndex(group, 0, GROUP_BASE + group)
        owner = int(self._tree.parent[row])
        if owner < 0:
            return QModelIndex()
        return self.createIndex(int(self._tree.row_in_parent[owner]), 0, owner + 1)

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        if parent is None or not parent.isValid():
            return len(self._groups) if self._mode == GROUPED else len(self._roots)
        if parent.column() != 0:
            return 0
        node = parent.internalId()
        if node >= GROUP_BASE:
            return len(self._groups[node - GROUP_BASE].rows)
        if self._mode != TREE:
            return 0
        return len(self._tree.children.get(node - 1, _NO_ROWS))

    def hasChildren(self, parent: QModelIndex | None = None) -> bool:
        # Called by QTreeView for every row on each relayout: keep the flat case trivial.
        if parent is None or not parent.isValid():
            return bool(self._groups) if self._mode == GROUPED else bool(self._roots)
        node = parent.internalId()
        if node >= GROUP_BASE:
            return parent.column() == 0
        return self._mode == TREE and parent.column() == 0 and (node - 1) in self._tree.children

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return len(self._visible)

    # flags() is deliberately not overridden: QAbstractItemModel's C++ default (enabled and
    # selectable) saves QTreeView two Python calls per row on every relayout.

    def data(self, index: QModelIndex, role: int = _DISPLAY) -> object:
        if role not in _HANDLED_ROLES or not index.isValid():
            return None
        node = index.internalId()
        column = self._visible[index.column()]
        if node >= GROUP_BASE:
            return self._group_data(node - GROUP_BASE, column, index.column(), role)
        row = node - 1
        if role == _DISPLAY:
            text = column.display[row]
            return text if len(text) <= CELL_CHARS else capped(text, CELL_CHARS)
        if role == _ALIGNMENT:
            return _RIGHT if column.spec.numeric else _LEFT
        if role == _DECORATION:
            if column.spec.id == SWATCH:
                return self._colour(self._table.colours[row])
            if column.spec.id == "status":
                return status_icon(column.display[row])
            return None
        if role == _TOOLTIP:
            return escaped_tooltip(capped(column.full_text(row), TOOLTIP_CHARS))
        if role == self.RunIdRole:
            return self._table.run_ids[row]
        if role == self.ColumnIdRole:
            return column.spec.id
        if role == self.IsGroupRole:
            return False
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> object:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._visible):
            return None
        spec = self._visible[section].spec
        if role == _DISPLAY:
            return spec.title
        if role == _TOOLTIP:
            return escaped_tooltip("Colour in plots" if spec.id == SWATCH else spec.id)
        if role == _ALIGNMENT:
            return _RIGHT if spec.numeric else _LEFT
        if role == self.ColumnIdRole:
            return spec.id
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self._visible):
            self.sort_by_id(None)
            return
        descending = order == Qt.SortOrder.DescendingOrder
        self.sort_by_id(self._visible[column].spec.id, descending)

    # --- internals --------------------------------------------------------------------------

    def _members(self, parent: QModelIndex) -> np.ndarray:
        node = parent.internalId()
        if node >= GROUP_BASE:
            return self._groups[node - GROUP_BASE].rows
        if self._mode == GROUPED:
            return _NO_ROWS
        return self._tree.children_of(node - 1)

    def _group_data(self, group_index: int, column: Column, section: int, role: int) -> object:
        group = self._groups[group_index]
        label_here = column.spec.id == "name" or (section == 0 and "name" not in self._visible_ids)
        metric_here = self._group_metric is not None and column.spec.id in (
            self._group_metric,
            f"metrics.{self._group_metric}",
        )
        if role == _DISPLAY:
            if label_here:
                return f"{group.label} ({group.count})"
            if metric_here:
                return group.mean_text
            return ""
        if role == _FONT:
            return self._bold
        if role == _ALIGNMENT:
            return _RIGHT if column.spec.numeric and not label_here else _LEFT
        if role == _TOOLTIP:
            return escaped_tooltip(self._group_summary(group))
        if role == self.IsGroupRole:
            return True
        if role == self.ColumnIdRole:
            return column.spec.id
        return None

    def _group_summary(self, group: RunGroup) -> str:
        assert self._group_column is not None
        title = self._table.column(self._group_column).spec.title
        lines = [f"{title} = {group.label}", f"{group.count} runs"]
        if self._group_metric and group.mean_text:
            lines.append(
                f"{self._group_metric}: mean {group.mean_text}, min {group.min_text}, "
                f"max {group.max_text}"
            )
        return "\n".join(lines)

    def _colour(self, hex_colour: str) -> QColor:
        colour = self._colours.get(hex_colour)
        if colour is None:
            colour = self._colours[hex_colour] = QColor(hex_colour)
        return colour

    def _choose_columns(self, previous_ids: set[str] | None = None) -> None:
        """Visible columns: the chosen ids that exist (plus new default ones), else defaults."""
        specs = self._table.specs()
        if self._chosen_columns is None:
            ids = [spec.id for spec in specs if spec.default_visible]
        else:
            ids = [i for i in self._chosen_columns if self._table.has_column(i)]
            if previous_ids is not None:
                chosen = set(ids)
                ids += [
                    spec.id
                    for spec in specs
                    if spec.default_visible
                    and spec.id not in previous_ids
                    and spec.id not in chosen
                ]
        self._visible = [self._table.column(i) for i in dict.fromkeys(ids)]
        self._visible_ids = {column.spec.id: i for i, column in enumerate(self._visible)}

    def _mask(self) -> np.ndarray | None:
        if not self._name_filter and self._status_filter is None:
            return None
        mask = self._table.name_matches(self._name_filter)
        if self._status_filter is not None:
            mask &= self._table.status_in(self._status_filter)
        return mask

    def _arrange(self) -> None:
        """Recompute the row layout from the table, mode, sort and filters."""
        table = self._table
        if self._sort is not None and not table.has_column(self._sort[0]):
            self._sort = None
        order = table.sort_order(*self._sort) if self._sort else None
        mask = self._mask()
        if self._mode == GROUPED and self._group_column and table.has_column(self._group_column):
            self._tree, self._roots = None, []
            self._groups = table.group_by(self._group_column, self._group_metric, order, mask)
            self._group_of = np.full(table.n_rows, -1, dtype=np.int64)
            self._row_in_group = np.full(table.n_rows, -1, dtype=np.int64)
            for number, group in enumerate(self._groups):
                self._group_of[group.rows] = number
                self._row_in_group[group.rows] = np.arange(len(group.rows))
            self._group_index = {group.key: n for n, group in enumerate(self._groups)}
        else:
            if self._mode == GROUPED:
                self._mode = FLAT
            self._groups, self._group_index = [], {}
            self._tree = table.tree(order, mask, nested=self._mode == TREE)
            self._roots = self._tree.roots.tolist()

    def _relayout(self, change: Callable[[], None]) -> None:
        """Apply ``change`` inside a layout change, moving persistent indexes by run id."""
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        keys = [self._key_of(index) for index in old]
        change()
        self._arrange()
        self.changePersistentIndexList(old, [self._index_for_key(key) for key in keys])
        self.layoutChanged.emit()

    def _key_of(self, index: QModelIndex) -> RunKey:
        column_id = self._visible[index.column()].spec.id
        node = index.internalId()
        if node >= GROUP_BASE:
            return ("group", self._groups[node - GROUP_BASE].key, column_id, index.column())
        return ("run", self._table.run_ids[node - 1], column_id, index.column())

    def _index_for_key(self, key: RunKey) -> QModelIndex:
        kind, ident, column_id, old_column = key
        if not self._visible:
            return QModelIndex()
        column = self._visible_ids.get(column_id, min(old_column, len(self._visible) - 1))
        if kind == "group":
            number = self._group_index.get(ident)  # type: ignore[arg-type]
            if number is None:
                return QModelIndex()
            return self.createIndex(number, column, GROUP_BASE + number)
        row = self._table.row_of(str(ident))
        return QModelIndex() if row is None else self._index_of_row(row, column)

    def _index_of_row(self, row: int, column: int) -> QModelIndex:
        if not 0 <= column < len(self._visible):
            return QModelIndex()
        if self._mode == GROUPED:
            position = int(self._row_in_group[row])
        else:
            position = int(self._tree.row_in_parent[row])
        return QModelIndex() if position < 0 else self.createIndex(position, column, row + 1)


_NO_ROWS = np.zeros(0, dtype=np.int64)
