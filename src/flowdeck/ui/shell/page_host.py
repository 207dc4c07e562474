"""The centre of the window: tabs of pages, each with its own back/forward history."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QStackedWidget, QTabBar, QTabWidget, QVBoxLayout, QWidget

from flowdeck.core.addresses import Address
from flowdeck.store.base import Store
from flowdeck.ui.shell.page import Page, Shell
from flowdeck.ui.shell.page_types import create_page

EMPTY_TEXT = (
    "Open a store with File → Open Store… (Ctrl+O), then pick an experiment, a model or "
    "the traces of an experiment in the sidebar.\n\nCtrl+K finds any command."
)
MAX_HISTORY = 50
TITLE_WIDTH = 36


@dataclass(frozen=True)
class Visit:
    """One entry of a tab's history."""

    store: Store
    address: Address


class Tab(QWidget):
    """Holds the page of one tab and the addresses visited in it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.page: Page | None = None
        self.history: list[Visit] = []
        self.position = -1
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    @property
    def visit(self) -> Visit | None:
        return self.history[self.position] if 0 <= self.position < len(self.history) else None

    def can_go_back(self) -> bool:
        return self.position > 0

    def can_go_forward(self) -> bool:
        return self.position < len(self.history) - 1

    def push(self, visit: Visit) -> None:
        del self.history[self.position + 1 :]
        self.history.append(visit)
        if len(self.history) > MAX_HISTORY:
            del self.history[0]
        self.position = len(self.history) - 1

    def replace(self, visit: Visit) -> None:
        if self.position >= 0:
            self.history[self.position] = visit

    def set_page(self, page: Page) -> None:
        self.drop_page()
        self.page = page
        self._layout.addWidget(page)

    def drop_page(self) -> None:
        if self.page is not None:
            self.page.close_page()
            self.page.hide()
            self.page.setParent(None)
            self.page.deleteLater()
            self.page = None

    def forget_store(self, store: Store) -> None:
        self.history = [v for v in self.history if v.store is not store]
        self.position = min(self.position, len(self.history) - 1)


class PageHost(QWidget):
    """Tabs like an IDE: open an address here or in a new tab, go back and forward, close."""

    current_page_changed = Signal(object)  # Page | None
    page_opened = Signal(object)  # Page, after it started loading
    history_changed = Signal()  # back/forward availability or tab titles changed

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell = shell
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setElideMode(Qt.TextElideMode.ElideRight)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(self._current_changed)
        self.tabs.tabBar().installEventFilter(self)
        self.empty_label = QLabel(EMPTY_TEXT, self)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setEnabled(False)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(self.tabs)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    # --- queries ---------------------------------------------------------------------------------

    def count(self) -> int:
        return self.tabs.count()

    def tab(self, index: int) -> Tab:
        widget = self.tabs.widget(index)
        assert isinstance(widget, Tab)
        return widget

    def current_tab(self) -> Tab | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, Tab) else None

    def current_page(self) -> Page | None:
        tab = self.current_tab()
        return tab.page if tab is not None else None

    def pages(self) -> list[Page]:
        found = (self.tab(i).page for i in range(self.count()))
        return [page for page in found if page is not None]

    def visits(self) -> list[Visit]:
        """The address shown in each tab, left to right (what is saved between sessions)."""
        found = (self.tab(i).visit for i in range(self.count()))
        return [visit for visit in found if visit is not None]

    def can_go_back(self) -> bool:
        tab = self.current_tab()
        return tab is not None and tab.can_go_back()

    def can_go_forward(self) -> bool:
        tab = self.current_tab()
        return tab is not None and tab.can_go_forward()

    # --- navigation ------------------------------------------------------------------------------

    def open(
        self, store: Store, address: Address, new_tab: bool = False, background: bool = False
    ) -> Page:
        """Show ``address`` of ``store`` in the current tab (a new one if asked or none is open);
        ``background`` leaves the current tab in front (a middle-click)."""
        tab = None if new_tab else self.current_tab()
        if tab is not None and tab.visit == Visit(store, address) and tab.page is not None:
            return tab.page
        if tab is None:
            tab = Tab()
            index = self.tabs.addTab(tab, str(address))
            tab.push(Visit(store, address))
            page = self._show(tab, store, address)
            self.stack.setCurrentWidget(self.tabs)
            if not background or self.count() == 1:
                self.tabs.setCurrentIndex(index)
                self._current_changed(index)
            return page
        tab.push(Visit(store, address))
        page = self._show(tab, store, address)
        self._current_changed(self.tabs.currentIndex())
        return page

    def back(self) -> None:
        self._step(-1)

    def forward(self) -> None:
        self._step(+1)

    def _step(self, delta: int) -> None:
        tab = self.current_tab()
        if tab is None or not 0 <= tab.position + delta < len(tab.history):
            return
        tab.position += delta
        visit = tab.history[tab.position]
        self._show(tab, visit.store, visit.address)
        self._current_changed(self.tabs.currentIndex())

    def close_tab(self, index: int) -> None:
        if not 0 <= index < self.count():
            return
        tab = self.tab(index)
        tab.drop_page()
        self.tabs.removeTab(index)
        tab.deleteLater()
        if self.count() == 0:
            self.stack.setCurrentWidget(self.empty_label)
            self._current_changed(-1)

    def close_current(self) -> None:
        self.close_tab(self.tabs.currentIndex())

    def close_all(self) -> None:
        while self.count():
            self.close_tab(self.count() - 1)

    def close_store(self, store: Store) -> None:
        """Close every tab showing ``store``; other history entries of it are forgotten."""
        for index in reversed(range(self.count())):
            tab = self.tab(index)
            visit = tab.visit
            if visit is not None and visit.store is store:
                self.close_tab(index)
            else:
                tab.forget_store(store)
        self.history_changed.emit()

    def refresh_current(self) -> None:
        page = self.current_page()
        if page is not None:
            page.refresh()

    # --- internals -------------------------------------------------------------------------------

    def _show(self, tab: Tab, store: Store, address: Address) -> Page:
        page = create_page(self.shell, store, address)
        tab.set_page(page)
        page.title_changed.connect(lambda _t, t=tab: self._retitle(t))
        page.address_changed.connect(lambda a, t=tab, p=page: self._moved(t, p, a))
        page.open_requested.connect(
            lambda a, new, p=page: self.open(p.store, a, new_tab=new, background=new)
        )
        page.open_in_store_requested.connect(  # a page of several stores opens one's page
            lambda s, a, new: self.open(s, a, new_tab=new, background=new)
        )
        self._retitle(tab)
        page.start()
        self.page_opened.emit(page)
        return page

    def _moved(self, tab: Tab, page: Page, address: Address) -> None:
        if tab.page is page:
            tab.replace(Visit(page.store, address))
            self._retitle(tab)

    def _retitle(self, tab: Tab) -> None:
        index = self.tabs.indexOf(tab)
        if index < 0 or tab.page is None:
            return
        title = tab.page.title()
        shown = title if len(title) <= TITLE_WIDTH else title[: TITLE_WIDTH - 1] + "…"
        self.tabs.setTabText(index, shown)
        visit = tab.visit
        store = visit.store if visit is not None else None  # None: a page of no store (welcome)
        store_name = store.display_name if store is not None else ""
        self.tabs.setTabToolTip(index, f"{title}\n{visit.address if visit else ''}\n{store_name}")
        self.history_changed.emit()

    def _current_changed(self, _index: int) -> None:
        self.history_changed.emit()
        self.current_page_changed.emit(self.current_page())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if (
            watched is self.tabs.tabBar()
            and event.type() == QEvent.Type.MouseButtonRelease
            and isinstance(event, QMouseEvent)
            and event.button() == Qt.MouseButton.MiddleButton
        ):
            bar = self.tabs.tabBar()
            assert isinstance(bar, QTabBar)
            index = bar.tabAt(event.position().toPoint())
            if index >= 0:
                self.close_tab(index)
                return True
        return False
