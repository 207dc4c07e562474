"""The Artifacts tab: the union of the runs' artifacts as a tree, and one file compared."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.compare import MISSING, TextDiff
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_size
from flowdeck.store.base import Store
from flowdeck.ui.crash import failure_text
from flowdeck.ui.labels import plain_label
from flowdeck.ui.pages.compare.image_compare import ImageCompareView
from flowdeck.ui.pages.compare.reads import (
    AS_IMAGE,
    AS_TEXT,
    FetchedSet,
    FolderListing,
    MergedEntry,
    diff_texts,
    fetch_compared,
    list_folder,
)
from flowdeck.ui.pages.compare.text_diff import TextDiffView
from flowdeck.ui.pages.compare.values import RunColumn, swatch
from flowdeck.ui.tasks import TaskHandle, TaskRunner

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
LOADING = "Loading…"
NAME_WIDTH, RUN_WIDTH, MAX_RUN_WIDTH, DETAIL_WIDTH = 200, 80, 160, 640
CHOOSE = "Select a file that two or more runs have to compare it."


def fetch_for_compare(
    state: TaskState, store: Store, run_ids: tuple[str, ...], path: str
) -> tuple[FetchedSet, dict[str, QImage]]:
    """The files, and images decoded here on the worker (QImage is safe off the GUI thread)."""
    fetched = fetch_compared(state, store, run_ids, path)
    images: dict[str, QImage] = {}
    if fetched.shown_as == AS_IMAGE:
        for file in fetched.files:
            state.check()
            images[file.run_id] = QImage(str(file.local))
    return fetched, images


class ArtifactsCompare(QWidget):
    """Folders are listed on the worker as they are expanded; a file present in two or more
    runs is fetched from each of them and compared as text, as an image or by content."""

    listed = Signal(str)  # the folder now shown in the tree ('' for the root)
    compared = Signal(str)  # the path whose comparison is now shown
    message = Signal(str)

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.store: Store | None = None
        self.columns: list[RunColumn] = []
        self.fetched: FetchedSet | None = None
        self.images: dict[str, QImage] = {}
        self._listed: set[str] = set()
        self._handles: dict[str, TaskHandle] = {}
        self.tree = QTreeWidget(self)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.title = plain_label(wrap=False)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.verdict = plain_label(wrap=True)
        self.left_run, self.right_run = QComboBox(), QComboBox()
        for combo in (self.left_run, self.right_run):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        pair = QHBoxLayout()
        pair.setContentsMargins(0, 0, 0, 0)
        self.pair_label = plain_label("Compare", wrap=False)
        self.with_label = plain_label("with", wrap=False)
        for widget in (self.pair_label, self.left_run, self.with_label, self.right_run):
            pair.addWidget(widget)
        pair.addStretch(1)
        self.pair = QWidget()
        self.pair.setLayout(pair)
        self.note = plain_label(CHOOSE, wrap=True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text_view = TextDiffView()
        self.image_view = ImageCompareView()
        self.stack = QStackedWidget()
        for widget in (self.note, self.text_view, self.image_view):
            self.stack.addWidget(widget)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(6, 0, 0, 0)
        detail_layout.addWidget(self.title)
        detail_layout.addWidget(self.verdict)
        detail_layout.addWidget(self.pair)
        detail_layout.addWidget(self.stack, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(detail)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)
        self._show_note(CHOOSE)
        self.tree.itemExpanded.connect(self._expanded)
        self.tree.currentItemChanged.connect(lambda item, _previous: self._chosen(item))
        self.left_run.currentIndexChanged.connect(lambda _i: self._show_pair())
        self.right_run.currentIndexChanged.connect(lambda _i: self._show_pair())

    # --- the tree -------------------------------------------------------------------------------

    def set_runs(self, store: Store, columns: list[RunColumn]) -> None:
        """Compare these runs' artifacts; nothing is listed until ``start``."""
        self.runner.cancel_owner(self)
        self.store, self.columns = store, list(columns)
        self._listed.clear()
        self.tree.clear()
        self.tree.setHeaderLabels(["Name", *(column.name for column in columns)])
        header = self.tree.headerItem()
        for position, column in enumerate(columns, start=1):
            header.setIcon(position, swatch(column.colour))
        self.tree.setColumnWidth(0, NAME_WIDTH)
        metrics = self.tree.header().fontMetrics()
        widths = [
            min(max(RUN_WIDTH, metrics.horizontalAdvance(c.name) + 40), MAX_RUN_WIDTH)
            for c in columns
        ]
        for position, width in enumerate(widths, start=1):
            self.tree.setColumnWidth(position, width)
        tree_width = NAME_WIDTH + sum(widths) + 24
        self.splitter.setSizes([tree_width, max(DETAIL_WIDTH, tree_width)])
        self.fetched = None
        self._show_note(CHOOSE)

    @property
    def started(self) -> bool:
        return "" in self._listed

    def start(self) -> None:
        """List the root folder (once)."""
        if self.store is not None and not self.started:
            self._listed.add("")
            self._list("", None)

    def _list(self, path: str, parent: QTreeWidgetItem | None) -> None:
        assert self.store is not None
        self.runner.submit(
            list_folder,
            self.store,
            tuple(column.run_id for column in self.columns),
            path,
            key=f"list:{path}",
            owner=self,
            store=self.store,
            label="Listing artifacts",
            on_result=lambda listing: self._fill(listing, parent),
            on_error=lambda error, _tb: self._list_failed(error, path, parent),
        )

    def _fill(self, listing: FolderListing, parent: QTreeWidgetItem | None) -> None:
        if parent is not None:
            parent.takeChildren()
        items = [self._item(entry) for entry in listing.entries]
        if parent is None:
            self.tree.addTopLevelItems(items)
        else:
            parent.addChildren(items)
        if parent is None and not items:
            self._show_note("None of these runs has artifacts.")
        if listing.problems:
            names = {column.run_id: column.name for column in self.columns}
            texts = [f"{names.get(run, run)}: {text}" for run, text in listing.problems.items()]
            self.message.emit("Some artifacts could not be listed. " + " ".join(texts))
        self.listed.emit(listing.path)

    def _list_failed(self, error: BaseException, path: str, parent: QTreeWidgetItem | None) -> None:
        text = failure_text(error, "Listing the artifacts")
        self._listed.discard(path)
        if parent is not None:
            parent.takeChildren()
            parent.addChild(QTreeWidgetItem([text]))
        else:
            self._show_note(text)
        self.message.emit(text)
        self.listed.emit(path)

    def _item(self, entry: MergedEntry) -> QTreeWidgetItem:
        cells = [entry.name + ("/" if entry.is_dir else "")]
        missing = self.palette().color(QPalette.ColorRole.PlaceholderText)
        for column in self.columns:
            if column.run_id not in entry.sizes:
                cells.append(MISSING)
            else:
                cells.append("✓" if entry.is_dir else format_size(entry.sizes[column.run_id]))
        item = QTreeWidgetItem(cells)
        item.setData(0, ENTRY_ROLE, entry)
        names = [c.name for c in self.columns if c.run_id in entry.sizes]
        item.setToolTip(
            0, f"{entry.path}\nIn {len(names)} of {len(self.columns)} runs: " + ", ".join(names)
        )
        for position, column in enumerate(self.columns, start=1):
            if column.run_id not in entry.sizes:
                item.setForeground(position, missing)
        if entry.is_dir:
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        return item

    def _expanded(self, item: QTreeWidgetItem) -> None:
        entry: MergedEntry | None = item.data(0, ENTRY_ROLE)
        if entry is None or not entry.is_dir or entry.path in self._listed:
            return
        self._listed.add(entry.path)
        item.addChild(QTreeWidgetItem([LOADING]))
        self._list(entry.path, item)

    def item_at(self, path: str) -> QTreeWidgetItem | None:
        """The tree item of ``path`` among the items listed so far."""
        found = self.tree.findItems("*", Qt.MatchFlag.MatchWildcard | Qt.MatchFlag.MatchRecursive)
        return next((i for i in found if (e := i.data(0, ENTRY_ROLE)) and e.path == path), None)

    # --- one file --------------------------------------------------------------------------------

    def _chosen(self, item: QTreeWidgetItem | None) -> None:
        entry: MergedEntry | None = None if item is None else item.data(0, ENTRY_ROLE)
        self._cancel_fetch()
        if entry is None or entry.is_dir or self.store is None:
            self.fetched = None
            self._show_note(CHOOSE)
            return
        present = [c for c in self.columns if c.run_id in entry.sizes]
        if len(present) < 2:
            alone = f"Only {present[0].name} has this file: there is nothing to compare it with."
            self._show_note(alone if present else CHOOSE, entry.path)
            self.compared.emit(entry.path)
            return
        self._show_note(f"Fetching {entry.name} from {len(present)} runs…", entry.path)
        self._handles["fetch"] = self.runner.submit(
            fetch_for_compare,
            self.store,
            tuple(c.run_id for c in present),
            entry.path,
            key="fetch",
            owner=self,
            store=self.store,
            label=f"Fetching {entry.name}",
            on_result=self._fetched,
            on_error=lambda error, _tb: self._fetch_failed(error, entry.path),
            on_progress=lambda done, total, text: self.message.emit(text),
        )

    def _cancel_fetch(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()

    def _fetch_failed(self, error: BaseException, path: str) -> None:
        text = failure_text(error, f"Fetching {path}")
        self._show_note(text, path)
        self.message.emit(text)
        self.compared.emit(path)

    def _fetched(self, result: tuple[FetchedSet, dict[str, QImage]]) -> None:
        fetched, images = result
        self.fetched, self.images = fetched, images
        names = {c.run_id: c.name for c in self.columns}
        sizes = " · ".join(f"{names[f.run_id]}: {format_size(f.size)}" for f in fetched.files)
        same = "The files are identical." if fetched.identical else "The files differ."
        if len(fetched.files) > 2 and not fetched.identical:
            groups = len({f.digest for f in fetched.files})
            same = f"The files differ ({groups} different contents in {len(fetched.files)} runs)."
        self.verdict.setText(
            " ".join(part for part in (same, fetched.note, f"Sizes: {sizes}.") if part)
        )
        self.verdict.show()
        for combo, chosen in ((self.left_run, 0), (self.right_run, 1)):
            combo.blockSignals(True)
            combo.clear()
            for file in fetched.files:
                column = next(c for c in self.columns if c.run_id == file.run_id)
                combo.addItem(swatch(column.colour), column.name, column.run_id)
            combo.setCurrentIndex(chosen)
            combo.blockSignals(False)
        self._show_pair()

    def _show_pair(self) -> None:
        fetched = self.fetched
        if fetched is None:
            return
        left, right = self.left_run.currentData(), self.right_run.currentData()
        first, second = fetched.file(left), fetched.file(right)
        if first is None or second is None:
            return
        names = (self.left_run.currentText(), self.right_run.currentText())
        images = (self.images.get(left), self.images.get(right))
        if fetched.shown_as == AS_IMAGE and all(i is not None and not i.isNull() for i in images):
            self.pair.show()
            self.image_view.set_images(names, images[0], images[1])  # type: ignore[arg-type]
            self.stack.setCurrentWidget(self.image_view)
            self.compared.emit(fetched.path)
        elif fetched.shown_as == AS_TEXT:
            self.pair.show()
            self._handles["diff"] = self.runner.submit(
                diff_texts,
                first.text or "",
                second.text or "",
                names[0],
                names[1],
                key="diff",
                owner=self,
                label="Comparing texts",
                on_result=lambda diff: self._show_diff(fetched, diff),
                on_error=lambda error, _tb: self._fetch_failed(error, fetched.path),
            )
        else:
            self.pair.hide()
            unreadable = fetched.shown_as == AS_IMAGE
            self._show_note(
                "One of the images could not be read; compared by content only."
                if unreadable
                else "These files are compared by content only (no text or image preview).",
                fetched.path,
                keep_verdict=True,
            )
            self.compared.emit(fetched.path)

    def _show_diff(self, fetched: FetchedSet, diff: TextDiff) -> None:
        if fetched is not self.fetched:
            return
        self.text_view.show_diff(diff)
        self.stack.setCurrentWidget(self.text_view)
        self.compared.emit(fetched.path)

    def _show_note(self, text: str, path: str = "", keep_verdict: bool = False) -> None:
        """``text`` in place of a comparison, under ``path`` ('' for no title)."""
        self.note.setText(text)
        self.stack.setCurrentWidget(self.note)
        self.title.setText(path)
        self.title.setVisible(bool(path))
        self.pair.hide()
        if not keep_verdict:
            self.verdict.hide()
