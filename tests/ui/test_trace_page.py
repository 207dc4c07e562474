"""The trace page on traces written by real MLflow tracing: tree, timeline, filters, detail."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

import contextlib

from PySide6.QtGui import QGuiApplication  # noqa: E402

import flowdeck.ui.pages  # noqa: E402, F401 - registers the pages
from flowdeck.core.addresses import parse_address  # noqa: E402
from flowdeck.core.trace_tree import build_trace_tree  # noqa: E402
from flowdeck.store import open_store  # noqa: E402
from flowdeck.store.base import Store  # noqa: E402
from flowdeck.ui.pages.traces.trace_page import TracePage  # noqa: E402
from flowdeck.ui.shell.page import Shell  # noqa: E402
from flowdeck.ui.shell.page_types import create_page  # noqa: E402
from flowdeck.ui.traces.json_model import JsonTreeModel  # noqa: E402
from flowdeck.ui.traces.span_detail import CHAT, DOCUMENTS  # noqa: E402
from flowdeck.ui.traces.span_model import SpanTreeModel  # noqa: E402

TIMEOUT = 30_000
SHOTS = Path("/tmp/traces")
HTML = "<b>bold?</b> <img src=x onerror=alert(1)>"


@dataclass(frozen=True)
class Written:
    path: Path
    trace_id: str


def _write(folder: Path) -> Written:
    import mlflow
    from mlflow.entities import SpanType
    from mlflow.tracing.constant import SpanAttributeKey

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        mlflow.set_experiment("agents")

        @mlflow.trace(span_type=SpanType.TOOL)
        def broken_tool(query: str) -> str:
            raise ValueError(f"tool failed on {query}")

        @mlflow.trace(name="agent", span_type=SpanType.AGENT)
        def agent(question: str) -> str:
            with mlflow.start_span("retrieve", span_type=SpanType.RETRIEVER) as span:
                span.set_inputs({"query": question})
                span.set_outputs(
                    [
                        {"page_content": "Paris is in France.", "metadata": {"doc_uri": "wiki/paris", "score": 0.92}, "id": "1"},
                        {"page_content": HTML, "metadata": {"doc_uri": "web/x"}, "id": "2"},
                    ]
                )  # fmt: skip
            with mlflow.start_span("chat", span_type=SpanType.CHAT_MODEL) as span:
                span.set_inputs({"messages": [{"role": "user", "content": HTML}]})
                span.set_outputs(
                    {
                        "choices": [
                            {
                                "message": {
                                    "role": "assistant",
                                    "content": "Paris.",
                                    "tool_calls": [
                                        {"function": {"name": "lookup", "arguments": '{"q": 1}'}}
                                    ],
                                }
                            }
                        ]
                    }
                )
                span.set_attribute(
                    SpanAttributeKey.CHAT_USAGE,
                    {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15},
                )
            with contextlib.suppress(ValueError):
                broken_tool(question)
            return "Paris."

        agent("Where is Paris?")
        trace_id = mlflow.get_last_active_trace_id()
        mlflow.flush_trace_async_logging()
    finally:
        mlflow.set_tracking_uri(previous)
    return Written(folder / "mlflow.db", trace_id)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    return _write(tmp_path_factory.mktemp("traces"))


@pytest.fixture
def store(written: Written) -> Store:
    opened = open_store(written.path)
    yield opened
    opened.close()


def opened(qtbot, shell: Shell, store: Store, trace_id: str) -> TracePage:  # noqa: ANN001
    page = create_page(shell, store, parse_address(f"trace/{trace_id}"))
    qtbot.addWidget(page)
    page.resize(1300, 760)
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.start()
    assert page.error is None, page.error
    return page


def span_named(page: TracePage, name: str) -> int:
    return next(i for i, s in enumerate(page.view.tree.spans) if s.name == name)


def visible_names(page: TracePage) -> list[str]:
    """The names of the rows shown, top to bottom (the tree's depth-first order)."""
    model = page.model
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def shown_tree(page: TracePage) -> list[tuple[str, int, int]]:
    """(name, depth, parent row) of each row shown: the tree's structure as the user sees it."""
    model, found = page.model, []
    for row in range(model.rowCount()):
        span = model.span_of(model.index(row, 0))
        parent = model.parent_of(span)
        found.append((model.index(row, 0).data(), model.depth_of(span), model.row_of(parent)))
    return found


def test_the_tree_shows_every_span_under_its_parent(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, written.trace_id)
    assert visible_names(page) == ["agent", "retrieve", "chat", "broken_tool"]
    assert shown_tree(page) == [("agent", 0, -1), ("retrieve", 1, 0), ("chat", 1, 0), ("broken_tool", 1, 0)]  # fmt: skip
    tree = page.view.tree
    root = tree.roots[0]
    assert page.model.has_children(root) and page.model.is_expanded(root)
    page.tree.collapseAll()  # the root's three children go; the selection moves to the root
    assert visible_names(page) == ["agent"] and page.selected_span() == root
    page.select_span(span_named(page, "chat"))  # expands its ancestors
    assert visible_names(page) == ["agent", "retrieve", "chat", "broken_tool"]
    assert page.view.tree.spans[page.selected_span()].name == "chat"
    page.tree.toggle(root)
    assert visible_names(page) == ["agent"]
    page.tree.toggle(root)
    assert len(visible_names(page)) == 4
    assert tree.roots[0] in page.model.critical  # the root decides the end time
    chat = page.model.index_of(span_named(page, "chat"), 3)
    assert chat.data() == "12 in · 3 out · 15"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.show()
    qtbot.waitExposed(page)
    assert page.grab().save(str(SHOTS / "trace.png"))


def test_the_arrow_keys_and_clicks_expand_and_collapse(qtbot, shell, store, written) -> None:  # noqa: ANN001
    from PySide6.QtCore import QPoint, Qt

    from flowdeck.ui.traces.span_view import ARROW

    page = opened(qtbot, shell, store, written.trace_id)
    page.show()
    qtbot.waitExposed(page)
    view, root = page.tree, page.view.tree.roots[0]
    assert page.selected_span() == root
    qtbot.keyClick(view, Qt.Key.Key_Left)  # collapses the root
    assert visible_names(page) == ["agent"]
    qtbot.keyClick(view, Qt.Key.Key_Right)  # expands it
    assert len(visible_names(page)) == 4 and page.selected_span() == root
    qtbot.keyClick(view, Qt.Key.Key_Right)  # moves to the first child
    assert page.view.tree.spans[page.selected_span()].name == "retrieve"
    qtbot.keyClick(view, Qt.Key.Key_Left)  # a leaf: moves to the parent
    assert page.selected_span() == root
    cell = view.visualRect(page.model.index_of(root))
    arrow = QPoint(view.names.arrow_left(root, cell.left()) + ARROW // 2, cell.center().y())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=arrow)
    assert visible_names(page) == ["agent"]
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=arrow)
    assert len(visible_names(page)) == 4


def test_filters_keep_matches_and_their_ancestors(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, written.trace_id)
    with qtbot.waitSignal(page.model.modelReset, timeout=TIMEOUT):
        page.type_box.setCurrentText("RETRIEVER")
    assert visible_names(page) == ["agent", "retrieve"]
    with qtbot.waitSignal(page.model.modelReset, timeout=TIMEOUT):
        page.type_box.setCurrentIndex(0)
    page.search.setText("CHA")
    with qtbot.waitSignal(page.model.modelReset, timeout=TIMEOUT):
        page.search.returnPressed.emit()
    assert visible_names(page) == ["agent", "chat"]
    with qtbot.waitSignal(page.model.modelReset, timeout=TIMEOUT):
        page.search.clear()
    assert len(visible_names(page)) == 4


def test_next_error_and_its_exception(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, written.trace_id)
    page.tree.collapseAll()
    page.buttons["error"].click()  # expands the failed span's ancestors
    assert page.view.tree.spans[page.selected_span()].name == "broken_tool"
    assert len(visible_names(page)) == 4
    events = page.detail.events.toPlainText()
    assert "ValueError" in events and "tool failed on Where is Paris?" in events
    assert "Traceback" in events or "line" in events  # the stack trace is there


def test_chat_documents_and_markup_stay_text(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, written.trace_id)
    page.select_span(span_named(page, "chat"))
    detail = page.detail
    assert detail.tabs.isTabVisible(CHAT) and not detail.tabs.isTabVisible(DOCUMENTS)
    chat = detail.chat.toPlainText()
    assert HTML in chat and "assistant" in chat and "→ tool call: lookup" in chat
    assert "img" not in detail.chat.toHtml().split("<body", 1)[1].replace("&lt;img", "")
    assert "tokens 12 in · 3 out · 15" in detail.facts.text()
    detail.tabs.setCurrentIndex(CHAT)
    page.show()
    qtbot.waitExposed(page)
    assert page.grab().save(str(SHOTS / "trace-chat.png"))

    page.select_span(span_named(page, "retrieve"))
    assert detail.tabs.isTabVisible(DOCUMENTS) and not detail.tabs.isTabVisible(CHAT)
    documents = detail.documents.toPlainText()
    assert "#1 · score 0.92 · wiki/paris" in documents and HTML in documents


def test_copy_span_and_export_in_mlflows_format(qtbot, shell, store, written, tmp_path) -> None:  # noqa: ANN001
    from mlflow.entities import Trace

    page = opened(qtbot, shell, store, written.trace_id)
    page.select_span(span_named(page, "chat"))
    page.buttons["copy"].click()
    copied = json.loads(QGuiApplication.clipboard().text())
    assert copied["name"] == "chat" and copied["span_type"] == "CHAT_MODEL"
    target = tmp_path / "trace.json"
    with qtbot.waitSignal(page.status, timeout=TIMEOUT):
        page.export(str(target))
    loaded = Trace.from_json(target.read_text())
    assert loaded.info.trace_id == written.trace_id
    assert sorted(span.name for span in loaded.data.spans) == sorted(
        s.name for s in page.view.tree.spans
    )
    chat = next(span for span in loaded.data.spans if span.name == "chat")
    assert chat.inputs == {"messages": [{"role": "user", "content": HTML}]}
    assert chat.span_type == "CHAT_MODEL"


def test_the_models_pass_qtmodeltester(qtmodeltester, store, written) -> None:  # noqa: ANN001
    model = SpanTreeModel()
    model.set_tree(build_trace_tree(store.trace(written.trace_id).spans), expand_depth=0)
    qtmodeltester.check(model)
    model.set_expanded(model.span_of(model.index(0, 0)), False)  # rows removed
    model.expand_all()
    qtmodeltester.check(model)
    values = JsonTreeModel()
    values.set_value({"a": [1, {"b": None}], "c": "x" * 500, "d": True})
    qtmodeltester.check(values)


def test_assessments_add_override_and_delete(qtbot, shell, written, tmp_path) -> None:  # noqa: ANN001
    import shutil

    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import AssessmentSource

    from flowdeck.ui.edit.confirm import ConfirmChangesDialog
    from flowdeck.ui.traces.assessment_dialog import AssessmentDialog

    shutil.copy(written.path, tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)  # conftest resets it
    judged = mlflow.log_feedback(
        trace_id=written.trace_id,
        name="relevance",
        value=False,
        rationale="off topic",
        source=AssessmentSource(source_type="LLM_JUDGE", source_id="gpt-judge"),
    )
    store = open_store(tmp_path / "mlflow.db")
    try:
        with qtbot.waitSignal(shell.context.read_only_changed, timeout=TIMEOUT):
            shell.writes.check(store)
        page = opened(qtbot, shell, store, written.trace_id)
        panel = page.assessments
        assert page.left.tabText(1) == "Assessments (1)"
        assert [panel.table.item(0, c).text() for c in (0, 2, 3)] == [
            "relevance", "no", "LLM_JUDGE: gpt-judge",
        ]  # fmt: skip
        assert not panel.buttons["override"].isEnabled()  # nothing selected yet

        page.select_span(span_named(page, "chat"))
        panel.buttons["feedback"].click()
        dialog: AssessmentDialog = panel.dialog
        assert "span chat" in dialog.findChildren(type(page.heading))[0].text()
        dialog.name_edit.setText("helpful")
        dialog.value_edit.setText("maybe")
        dialog._accept()
        assert dialog.message.text() == "Type yes or no."  # refused with the reason
        dialog.value_edit.setText("yes")
        with qtbot.waitSignal(shell.writes.finished, timeout=TIMEOUT):
            dialog._accept()
        with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
            page.start()

        panel.table.selectRow(
            next(
                r
                for r in range(panel.table.rowCount())
                if panel.table.item(r, 0).text() == "relevance"
            )
        )
        assert panel.buttons["override"].isEnabled()
        panel.buttons["override"].click()
        dialog = panel.dialog
        dialog.value_edit.setText("yes")
        dialog.rationale.setPlainText("it answers the question")
        with qtbot.waitSignal(shell.writes.finished, timeout=TIMEOUT):
            dialog._accept()

        client = MlflowClient(tracking_uri=uri)
        assessments = client.get_trace(written.trace_id).info.assessments
        helpful = next(a for a in assessments if a.name == "helpful")
        assert (
            helpful.value is True
            and helpful.span_id == page.view.tree.spans[span_named(page, "chat")].span_id
        )
        newest = next(a for a in assessments if a.name == "relevance" and a.overrides)
        assert newest.overrides == judged.assessment_id and newest.value is True
        assert newest.source.source_type == "HUMAN"

        with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
            page.start()
        states = {panel.table.item(r, 8).text() for r in range(panel.table.rowCount())}
        assert "overridden" in states
        page.show()
        page.left.setCurrentIndex(1)
        qtbot.waitExposed(page)
        assert page.grab().save(str(SHOTS / "trace-assessments.png"))

        row = next(
            r for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text() == "helpful"
        )
        panel.table.selectRow(row)
        panel.buttons["delete"].click()
        confirm = panel.dialog
        assert isinstance(confirm, ConfirmChangesDialog)
        with qtbot.waitSignal(shell.writes.finished, timeout=TIMEOUT):
            confirm.accept()
        names = [a.name for a in client.get_trace(written.trace_id).info.assessments]
        assert "helpful" not in names
    finally:
        store.close()
