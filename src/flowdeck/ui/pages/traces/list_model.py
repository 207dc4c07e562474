"""The trace list's rows: pages of TraceInfos fetched from the store as the view scrolls."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from flowdeck.core.assessments import assessment_badges
from flowdeck.core.entities import TraceInfo
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_time, short_id
from flowdeck.core.trace_view import format_span_duration
from flowdeck.store.base import Store
from flowdeck.ui.runs.decorations import escaped_tooltip

Index = QModelIndex | QPersistentModelIndex
PAGE_SIZE = 500
SOURCE_RUN_KEY = "mlflow.sourceRun"
USER_KEY = "mlflow.trace.user"
PREVIEW_CHARS = 160


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[TraceInfo], str]
    sort: Callable[[TraceInfo], Any]
    order_by: str = ""  # the store's order_by key when the store can sort by it


def _duration(millis: int | None) -> str:
    return "" if millis is None else format_span_duration(int(millis * 1_000_000))


def _tokens(info: TraceInfo, key: str) -> int | None:
    return info.token_usage.get(key)


def _number(value: int | float | None) -> str:
    return "" if value is None else f"{value:,}"


def _cost(info: TraceInfo) -> float | None:
    total = info.cost.get("total_cost") if info.cost else None
    return total if total is not None else (sum(info.cost.values()) if info.cost else None)


def _preview(text: str | None) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


def _user_tags(info: TraceInfo) -> str:
    return "; ".join(
        f"{k}={v}" for k, v in sorted(info.tags.items()) if not k.startswith("mlflow.")
    )


COLUMNS: tuple[Column, ...] = (
    Column("Trace ID", lambda i: i.trace_id, lambda i: i.trace_id, "request_id"),
    Column("Name", lambda i: i.name or "", lambda i: i.name or "", "tags.`mlflow.traceName`"),
    Column("Request", lambda i: _preview(i.request_preview), lambda i: i.request_preview or ""),
    Column("Response", lambda i: _preview(i.response_preview), lambda i: i.response_preview or ""),
    Column("State", lambda i: i.status, lambda i: i.status, "status"),
    Column("Started", lambda i: format_time(i.timestamp_ms), lambda i: i.timestamp_ms, "timestamp_ms"),
    Column("Duration", lambda i: _duration(i.execution_time_ms),
           lambda i: i.execution_time_ms or 0, "execution_time_ms"),
    Column("In tokens", lambda i: _number(_tokens(i, "input_tokens")),
           lambda i: _tokens(i, "input_tokens") or 0),
    Column("Out tokens", lambda i: _number(_tokens(i, "output_tokens")),
           lambda i: _tokens(i, "output_tokens") or 0),
    Column("Tokens", lambda i: _number(_tokens(i, "total_tokens")),
           lambda i: _tokens(i, "total_tokens") or 0),
    Column("Cost", lambda i: "" if _cost(i) is None else f"{_cost(i):.4g}", lambda i: _cost(i) or 0),
    Column("Session", lambda i: i.session_id or "", lambda i: i.session_id or ""),
    Column("User", lambda i: i.metadata.get(USER_KEY, ""), lambda i: i.metadata.get(USER_KEY, "")),
    Column("Run", lambda i: short_id(i.metadata.get(SOURCE_RUN_KEY, "")),
           lambda i: i.metadata.get(SOURCE_RUN_KEY, "")),
    Column("Tags", _user_tags, _user_tags),
    Column("Assessments", lambda i: assessment_badges(i.assessments),
           lambda i: assessment_badges(i.assessments)),
)  # fmt: skip
STATE, RUN = 4, 13


def fetch_page(
    state: TaskState,
    store: Store,
    experiment_id: str,
    filter_string: str,
    order_by: Sequence[str],
    token: str | None,
) -> tuple[list[TraceInfo], str | None]:
    """One page of the experiment's traces (a worker call)."""
    page = store.search_traces(
        [experiment_id], filter_string, order_by, PAGE_SIZE, token, state=state
    )
    return list(page.items), page.next_token


class TraceListModel(QAbstractTableModel):
    """Rows arrive a page at a time: ``fetchMore`` asks the store for the next page."""

    page_arrived = Signal(int)  # rows now loaded
    page_failed = Signal(str)

    def __init__(self, runner: Any, store: Store, experiment_id: str) -> None:
        super().__init__()
        self.runner, self.store, self.experiment_id = runner, store, experiment_id
        self.rows: list[TraceInfo] = []
        self.filter_string = ""
        self.order_by: tuple[str, ...] = ()
        self.next_token: str | None = None
        self.exhausted = False
        self.fetching = False
        self._generation = 0

    def restart(self, filter_string: str, order_by: Sequence[str] = ()) -> None:
        """Forget the rows and read the first page for this filter and order."""
        self._generation += 1
        self.runner.cancel_owner(self)
        self.beginResetModel()
        self.rows, self.next_token, self.exhausted, self.fetching = [], None, False, False
        self.filter_string, self.order_by = filter_string, tuple(order_by)
        self.endResetModel()
        self._fetch()

    def start_with(
        self, filter_string: str, order_by: Sequence[str], items: list[TraceInfo], token: str | None
    ) -> None:
        """Show a first page read elsewhere (with the experiment, in one worker call)."""
        self._generation += 1
        self.runner.cancel_owner(self)
        self.beginResetModel()
        self.rows, self.next_token, self.fetching = [], None, True
        self.filter_string, self.order_by = filter_string, tuple(order_by)
        self.exhausted = False
        self.endResetModel()
        self._arrived(self._generation, (items, token))

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802, B008
        return not parent.isValid() and not self.exhausted and not self.fetching

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802, B008
        if self.canFetchMore(parent):
            self._fetch()

    def _fetch(self) -> None:
        self.fetching = True
        generation = self._generation
        self.runner.submit(
            fetch_page,
            self.store,
            self.experiment_id,
            self.filter_string,
            self.order_by,
            self.next_token,
            key="traces-page",
            owner=self,
            store=self.store,
            label="Reading traces",
            on_result=lambda answer: self._arrived(generation, answer),
            on_error=lambda error, _details: self._failed(generation, error),
        )

    def _arrived(self, generation: int, answer: tuple[list[TraceInfo], str | None]) -> None:
        if generation != self._generation:
            return
        items, token = answer
        self.fetching = False
        repeated = token is not None and token == self.next_token
        self.next_token = token
        self.exhausted = token is None or not items or repeated
        if items:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(items) - 1)
            self.rows.extend(items)
            self.endInsertRows()
        self.page_arrived.emit(len(self.rows))

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self.fetching = False
        self.exhausted = True
        self.page_failed.emit(getattr(error, "message", str(error)))

    def set_rows(self, rows: list[TraceInfo]) -> None:
        """Show ``rows`` in this order (a local sort or grouping of what is loaded)."""
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    # --- table --------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        info = self.rows[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(info)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() in (2, 3):
            text = info.request_preview if index.column() == 2 else info.response_preview
            return escaped_tooltip((text or "")[:4000])
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == STATE:
            return QBrush(QColor("#d32f2f")) if info.status == "ERROR" else None
        return None

    def trace_at(self, row: int) -> TraceInfo:
        return self.rows[row]
