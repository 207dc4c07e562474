"""Text, JSON/YAML, MLmodel and table previewers on real files, through prepare and show_data."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow.models import infer_signature
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QGroupBox, QLabel, QTableWidget
from tests.helpers.contract import mlflow_reading

from flowdeck.core.artifacts import kinds
from flowdeck.ui.artifacts.previewer import PreviewSource, best_previewer
from flowdeck.ui.artifacts.previews.mlmodel import MLmodelPreviewer
from flowdeck.ui.artifacts.previews.structured import LazyHighlighter, StructuredPreviewer
from flowdeck.ui.artifacts.previews.table import TableData, TablePreviewer
from flowdeck.ui.artifacts.previews.text import SLICE_CHARS, TextPreviewer, TextView

SHOTS = Path("/tmp/previews")
MIB = 1024 * 1024
TIMEOUT = 10_000
MINE = (TextPreviewer, StructuredPreviewer, MLmodelPreviewer, TablePreviewer)


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):  # noqa: ANN001, ANN201
        return model_input


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Artifacts written by MLflow: log_text, log_dict (JSON and YAML), log_table, a model."""
    folder = tmp_path_factory.mktemp("logged")
    with mlflow_reading((folder / "mlruns").as_uri()), mlflow.start_run() as run:
        mlflow.log_text("epoch 1: loss 0.9\nepoch 2: loss 0.5\nepoch 3: loss 0.2\n", "train.log")
        config = {"model": {"name": "mlp", "layers": [64, 32]}, "lr": 0.001, "tags": ["a", "b"]}
        mlflow.log_dict(config, "config.json")
        mlflow.log_dict(config, "config.yaml")
        results = pd.DataFrame({"question": ["q1", "q2", "q3"], "score": [9.0, 10.0, 100.0]})
        mlflow.log_table(results, "eval/results.json")
        frame = pd.DataFrame({"age": [31.0, 42.0], "city": ["Oslo", "Lima"]})
        model = mlflow.pyfunc.log_model(
            name="model",
            python_model=Doubler(),
            signature=infer_signature(frame, frame["age"], params={"temperature": 0.7}),
            input_example=frame,
            pip_requirements=["mlflow"],
        )
    mlruns = folder / "mlruns"
    mlmodel = next(path for path in mlruns.rglob("MLmodel") if model.model_id in str(path))
    return {"run": next(mlruns.rglob(f"{run.info.run_id}/artifacts")), "model": mlmodel.parent}


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 50 MB log with one line in its middle that says NEEDLE."""
    path = tmp_path_factory.mktemp("big") / "big.log"
    line = "2024-05-01 12:00:00 INFO worker-3 step={:07d} loss=0.123456 throughput=1234.5/s ok\n"
    count = 50 * MIB // len(line.format(0))
    with open(path, "w", encoding="utf-8") as handle:
        for block in range(0, count, 10_000):
            lines = [line.format(i) for i in range(block, min(count, block + 10_000))]
            if block <= count // 2 < block + 10_000:
                lines[count // 2 - block] = "2024-05-01 12:00:00 ERROR NEEDLE in the middle\n"
            handle.write("".join(lines))
    return path


def source_for(root: Path, relative: str, kind: str | None = None) -> PreviewSource:
    """What the browser would hand over for ``root/relative`` (fetch: the file in place)."""
    local = root / relative
    with open(local, "rb") as handle:
        head = handle.read(4096)
    return PreviewSource(
        run_id="run",
        path=relative,
        is_dir=False,
        kind=kind or kinds.kind_of(relative, head),
        size=local.stat().st_size,
        fetch=lambda _state, path: root / path,
    )


def prepared(qtbot, runner, cls, source: PreviewSource) -> Any:  # noqa: ANN001
    """``cls.prepare`` run on the task runner, as the host runs it."""
    results: list[Any] = []
    errors: list[BaseException] = []
    runner.submit(
        cls.prepare, source, on_result=results.append, on_error=lambda e, _d: errors.append(e)
    )
    qtbot.waitUntil(lambda: bool(results or errors), timeout=TIMEOUT)
    if errors:
        raise errors[0]
    return results[0]


def shown(qtbot, runner, source: PreviewSource, expected: type) -> Any:  # noqa: ANN001
    """The previewer the host would pick for ``source``, shown with its prepared data."""
    assert best_previewer(source) is expected
    widget = expected(runner)
    qtbot.addWidget(widget)
    widget.resize(900, 560)
    widget.show()
    qtbot.waitExposed(widget)
    widget.show_data(prepared(qtbot, runner, expected, source))
    settle(qtbot, widget)
    return widget


def settle(qtbot, widget) -> None:  # noqa: ANN001
    """Wait until the text views have put all their text into their documents."""
    views = widget.findChildren(TextView)
    qtbot.waitUntil(lambda: not any(view.feeding for view in views), timeout=TIMEOUT)


def screenshot(widget, name: str) -> None:  # noqa: ANN001
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SHOTS / f"{name}.png"))




def process_bytes_read() -> int | None:
    try:
        return int(re.search(r"^rchar: (\d+)$", Path("/proc/self/io").read_text(), re.M)[1])
    except OSError:
        return None


# --- scores ---------------------------------------------------------------------------------


def test_scores_pick_the_specialised_previewer_and_binary_text_is_not_ours(tmp_path, qt_warnings):
    def score(cls: type, kind: str, name: str = "file", is_dir: bool = False) -> int:
        return cls.accepts(PreviewSource("run", name, is_dir, kind))

    assert score(TextPreviewer, kinds.TEXT) == 10
    assert [score(TextPreviewer, k) for k in (kinds.JSON, kinds.YAML, kinds.MARKDOWN)] == [3] * 3
    assert (
        score(StructuredPreviewer, kinds.JSON) == score(StructuredPreviewer, kinds.MLPROJECT) == 10
    )
    assert score(MLmodelPreviewer, kinds.MLMODEL) == 20
    assert score(TablePreviewer, kinds.TABLE, "a.csv") == 10
    assert score(TablePreviewer, kinds.TABLE, "eval/results.json") == 12
    assert all(score(cls, "folder", "", is_dir=True) == 0 for cls in MINE)
    (tmp_path / "weights.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    binary = source_for(tmp_path, "weights.txt")
    assert binary.kind == kinds.BINARY
    assert all(cls.accepts(binary) == 0 for cls in MINE)
    assert best_previewer(binary) not in MINE


# --- text -----------------------------------------------------------------------------------


def test_a_small_log_written_by_mlflow_is_shown_whole_in_plain_monospace(
    qtbot, runner, logged, qt_warnings
):
    widget = shown(qtbot, runner, source_for(logged["run"], "train.log"), TextPreviewer)
    view = widget.view
    assert view.edit.toPlainText() == "epoch 1: loss 0.9\nepoch 2: loss 0.5\nepoch 3: loss 0.2\n"
    assert view.edit.isReadOnly() and QFontInfo(view.edit.font()).fixedPitch()
    assert view.info.text() == "3 lines · 54 bytes"
    assert not view.load_more_button.isVisible() and not view.whole_button.isVisible()
    view.wrap.setChecked(False)
    assert view.edit.lineWrapMode() == view.edit.LineWrapMode.NoWrap
    screenshot(widget, "text")


def test_a_50_mb_log_shows_head_and_tail_and_loads_more_on_scroll_and_on_click(
    qtbot, runner, big_log, qt_warnings
):
    before = process_bytes_read()
    widget = shown(qtbot, runner, source_for(big_log.parent, big_log.name), TextPreviewer)
    after = process_bytes_read()
    view = widget.view
    text = view.edit.toPlainText()
    assert text.startswith("2024-05-01 12:00:00 INFO worker-3 step=0000000 ")
    lines = text.splitlines()
    markers = [line for line in lines if "not loaded" in line]
    assert markers == ["… 48.0 MB not loaded — scroll or press Load more"]
    last_line = big_log.read_bytes()[-200:].decode().splitlines()[-1]
    assert lines[-1] == last_line
    assert view.info.text().endswith("lines loaded · 2.0 MB of 50.0 MB")
    assert view.load_more_button.isVisible()
    assert view.bytes_read <= 2 * MIB
    if before is not None:
        assert after - before < 8 * MIB  # what the kernel saw this whole process read
    screenshot(widget, "text-big")

    marker_line = lines.index(markers[0])
    head_last = lines[marker_line - 1]
    slices: list[int] = []
    insert = view._insert

    def counted(position: int, text: str, char_format: object) -> None:
        slices.append(len(text))
        insert(position, text, char_format)

    view._insert = counted  # the real insert, counted
    with qtbot.waitSignal(view.loaded, timeout=TIMEOUT):
        view.edit.verticalScrollBar().setValue(marker_line - 5)  # the marker comes into view
        screenshot(widget, "text-big-marker")  # before the chunk is delivered
    # the 1 MB chunk goes into the document in slices, each a step of its own, so the window
    # can answer between them (the stall itself is measured in benchmarks/bench_run_page.py)
    assert len(slices) >= 4 and max(slices) <= SLICE_CHARS
    lines = view.edit.toPlainText().splitlines()
    number = int(re.search(r"step=(\d+)", head_last)[1])
    assert lines[lines.index(head_last) + 1].startswith(
        f"2024-05-01 12:00:00 INFO worker-3 step={number + 1:07d} "
    )
    assert [line for line in lines if "not loaded" in line] == [
        "… 47.0 MB not loaded — scroll or press Load more"
    ]
    with qtbot.waitSignal(view.loaded, timeout=TIMEOUT):
        qtbot.mouseClick(view.load_more_button, Qt.MouseButton.LeftButton)
    assert "… 46.0 MB not loaded — scroll or press Load more" in view.edit.toPlainText()
    assert view.bytes_read <= 4 * MIB + 1024
    assert view.info.text().endswith("lines loaded · 4.0 MB of 50.0 MB")


def test_find_next_and_previous_with_keys_and_wrap_around(qtbot, runner, tmp_path, qt_warnings):
    log = "".join(f"{'ERROR' if i in (3, 10, 42) else 'INFO'} line {i}\n" for i in range(60))
    (tmp_path / "run.log").write_text(log)
    widget = shown(qtbot, runner, source_for(tmp_path, "run.log"), TextPreviewer)
    view = widget.view
    view.edit.setFocus()
    qtbot.keyClick(view.edit, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.find_edit.hasFocus()
    qtbot.keyClicks(view.find_edit, "error")

    def line() -> int:
        return view.edit.textCursor().blockNumber()

    qtbot.keyClick(view.find_edit, Qt.Key.Key_Return)
    assert line() == 3 and view.edit.textCursor().selectedText() == "ERROR"
    qtbot.keyClick(view.find_edit, Qt.Key.Key_F3)
    assert line() == 10
    view.edit.setFocus()
    qtbot.keyClick(view.edit, Qt.Key.Key_F3)
    assert line() == 42
    qtbot.keyClick(view.edit, Qt.Key.Key_F3)
    assert line() == 3  # wrapped around
    qtbot.keyClick(view.edit, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert line() == 42
    qtbot.mouseClick(view.previous_button, Qt.MouseButton.LeftButton)
    assert line() == 10
    view.case.setChecked(True)
    assert not view.find()
    assert view.find_status.text() == "Not found"
    screenshot(widget, "text-find")


def test_search_the_whole_file_jumps_into_the_part_not_loaded(qtbot, runner, big_log, qt_warnings):
    widget = shown(qtbot, runner, source_for(big_log.parent, big_log.name), TextPreviewer)
    view = widget.view
    qtbot.keyClicks(view.find_edit, "needle")
    qtbot.keyClick(view.find_edit, Qt.Key.Key_Return)
    assert view.find_status.text() == "Not found in the loaded text"
    with (
        qtbot.waitSignal(view.found, timeout=TIMEOUT) as found,
        qtbot.waitSignal(view.loaded, timeout=TIMEOUT),
    ):
        qtbot.mouseClick(view.whole_button, Qt.MouseButton.LeftButton)
    assert found.args == [1]
    cursor = view.edit.textCursor()
    assert cursor.selectedText() == "NEEDLE"
    assert cursor.block().text() == "2024-05-01 12:00:00 ERROR NEEDLE in the middle"
    assert view.find_status.text() == "1 of 1 in the file"
    markers = [line for line in view.edit.toPlainText().splitlines() if "not loaded" in line]
    assert len(markers) == 2  # the window around the match split the gap in two
    assert view.bytes_read <= 3 * MIB + 1024
    view.edit.moveCursor(view.edit.textCursor().MoveOperation.Start)
    qtbot.keyClick(view.find_edit, Qt.Key.Key_F3)  # the match is loaded now: found in place
    qtbot.waitUntil(lambda: view.edit.textCursor().selectedText() == "NEEDLE", timeout=TIMEOUT)
    assert view.edit.textCursor().block().text().endswith("ERROR NEEDLE in the middle")
    screenshot(widget, "text-search-file")


def colour_all(qtbot, view: TextView) -> list:  # noqa: ANN001
    """The lines of ``view`` once the highlighter has coloured them all (all on screen)."""
    document = view.edit.document()
    lines = [document.findBlockByNumber(n) for n in range(document.blockCount())]
    qtbot.waitUntil(lambda: all(line.userState() == 1 for line in lines), timeout=TIMEOUT)
    return lines


def test_a_file_of_one_huge_line_is_always_wrapped(qtbot, runner, tmp_path, qt_warnings):
    (tmp_path / "minified.txt").write_text('{"values": [' + "1234567, " * 40_000 + "0]}")
    widget = shown(qtbot, runner, source_for(tmp_path, "minified.txt"), TextPreviewer)
    assert widget.view.wrap.isChecked() and not widget.view.wrap.isEnabled()
    assert widget.view.info.text() == "1 line · 351.6 KB"


# --- JSON / YAML ----------------------------------------------------------------------------


def tree_rows(widget: StructuredPreviewer) -> list[tuple[str, str]]:
    model = widget.tree.model()
    return [
        (model.index(row, 0).data(), model.index(row, 1).data()) for row in range(model.rowCount())
    ]


def test_json_from_mlflow_log_dict_as_a_tree_and_highlighted_raw_text(
    qtbot, runner, logged, qt_warnings
):
    widget = shown(qtbot, runner, source_for(logged["run"], "config.json"), StructuredPreviewer)
    assert widget.tabs.tabText(widget.tabs.currentIndex()) == "Tree"
    assert tree_rows(widget) == [("model", "{2 keys}"), ("lr", "0.001"), ("tags", "[2 items]")]
    assert widget.tree_summary.text() == "9 entries"
    widget.tree.collapseAll()
    assert not widget.tree.isExpanded(widget.tree.model().index(0, 0))
    widget.tree.expandAll()
    assert widget.tree.isExpanded(widget.tree.model().index(0, 0))
    screenshot(widget, "json-tree")
    widget.tabs.setCurrentWidget(widget.raw)
    settle(qtbot, widget)
    assert widget.raw.edit.toPlainText() == (logged["run"] / "config.json").read_text()
    assert isinstance(widget.highlighter, LazyHighlighter)
    lines = colour_all(qtbot, widget.raw)
    colours = {
        (line.text()[f.start : f.start + f.length], f.format.foreground().color().name())
        for line in lines
        for f in line.layout().formats()
    }
    assert {('"name"', "#2f7ed8"), ('"mlp"', "#2a9d3c"), ("0.001", "#e0600f")} <= colours
    assert not widget.problem.isVisible()
    screenshot(widget, "json-raw")


def test_yaml_and_mlproject(qtbot, runner, logged, tmp_path, qt_warnings):
    widget = shown(qtbot, runner, source_for(logged["run"], "config.yaml"), StructuredPreviewer)
    assert dict(tree_rows(widget)) == {"model": "{2 keys}", "lr": "0.001", "tags": "[2 items]"}
    (tmp_path / "MLproject").write_text(
        "name: demo\npython_env: python_env.yaml\nentry_points:\n  main:\n"
        "    parameters:\n      alpha: {type: float, default: 0.1}\n"
        "    command: python train.py --alpha {alpha}\n"
    )
    project = source_for(tmp_path, "MLproject")
    assert project.kind == kinds.MLPROJECT
    widget = shown(qtbot, runner, project, StructuredPreviewer)
    assert tree_rows(widget)[0] == ("name", '"demo"')
    screenshot(widget, "mlproject")


def test_invalid_json_shows_the_raw_text_with_the_error_line_marked(
    qtbot, runner, tmp_path, qt_warnings
):
    (tmp_path / "broken.json").write_text('{\n  "a": 1,\n  "b": [1 2],\n  "c": true\n}\n')
    widget = shown(qtbot, runner, source_for(tmp_path, "broken.json"), StructuredPreviewer)
    assert widget.problem.isVisible()
    assert widget.problem.text() == "Invalid JSON at line 3, column 11: Expecting ',' delimiter."
    assert widget.problem.textFormat() == Qt.TextFormat.PlainText
    assert widget.tabs.currentWidget() is widget.raw and widget.tabs.count() == 1
    marked = widget.raw.edit.extraSelections()
    assert [selection.cursor.block().text() for selection in marked] == ['  "b": [1 2],']
    colour_all(qtbot, widget.raw)
    screenshot(widget, "json-invalid")
    rows = ",\n".join(f'  {{"id": {i}, "name": "item {i}"}}' for i in range(80_000))
    (tmp_path / "long.json").write_text("[\n" + rows + ",\n  oops\n]\n")  # ~2.6 MB
    widget.show_data(
        prepared(qtbot, runner, StructuredPreviewer, source_for(tmp_path, "long.json"))
    )
    settle(qtbot, widget)
    assert widget.problem.text() == "Invalid JSON at line 80002, column 3: Expecting value."
    marked = widget.raw.edit.extraSelections()
    assert [selection.cursor.block().text() for selection in marked] == ["  oops"]
    assert widget.raw.edit.textCursor().blockNumber() == 80_001  # scrolled to it


def test_a_log_table_json_is_offered_as_a_table(qtbot, runner, logged, qt_warnings):
    source = source_for(logged["run"], "eval/results.json")
    widget = shown(qtbot, runner, source, StructuredPreviewer)
    assert widget.tabs.tabText(0) == "Table" and widget.tabs.currentIndex() == 0
    assert widget.table.summary.text() == "3 rows · 2 columns"
    as_table = PreviewSource("run", source.path, False, kinds.TABLE, fetch=source.fetch)
    table = shown(qtbot, runner, as_table, TablePreviewer)  # the host marked it a table
    table.table.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    assert [table.table.model.cell(row, 1) for row in range(3)] == ["100.0", "10.0", "9.0"]


# --- MLmodel --------------------------------------------------------------------------------


def test_mlmodel_of_a_pyfunc_model_shows_flavors_signature_and_example(
    qtbot, runner, logged, qt_warnings
):
    root = logged["model"].parent
    source = source_for(root, "artifacts/MLmodel")
    widget = shown(qtbot, runner, source, MLmodelPreviewer)
    assert widget.tabs.currentWidget() is widget.scroll
    boxes = widget.overview.findChildren(QGroupBox)
    assert [box.title() for box in boxes] == ["python_function"]
    labels = [label.text() for label in widget.overview.findChildren(QLabel)]
    assert "mlflow.pyfunc.model" in labels and "Signature (columns)" in labels
    assert all(
        label.textFormat() == Qt.TextFormat.PlainText
        for label in widget.overview.findChildren(QLabel)
    )
    tables = widget.overview.findChildren(QTableWidget)

    def cells(table: QTableWidget) -> list[list[str]]:
        return [
            [table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())
        ]

    assert [cells(table) for table in tables] == [
        [["age", "double", "yes"], ["city", "string", "yes"]],
        [["age", "double", "yes"]],
        [["temperature", "double", "0.7"]],
    ]
    example = widget.example_view.toPlainText()
    assert '"Oslo"' in example and '"columns": ["age", "city"]' in example
    screenshot(widget, "mlmodel")
    bar = widget.scroll.verticalScrollBar()
    bar.setValue(bar.maximum())
    screenshot(widget, "mlmodel-example")
    widget.tabs.setCurrentWidget(widget.raw)
    assert "loader_module: mlflow.pyfunc.model" in widget.raw.edit.toPlainText()
    qtbot.waitUntil(lambda: widget.raw.edit.firstVisibleBlock().userState() == 1)
    screenshot(widget, "mlmodel-raw")


# --- tables ---------------------------------------------------------------------------------


def test_a_csv_of_100000_rows_shows_10000_sorted_numerically(qtbot, runner, tmp_path, qt_warnings):
    with open(tmp_path / "metrics.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "loss", "split"])
        for i in range(100_000):
            writer.writerow([i, i % 1000, "train" if i % 2 else "val"])
    widget = shown(qtbot, runner, source_for(tmp_path, "metrics.csv"), TablePreviewer)
    table = widget.table
    assert table.summary.text() == "10,000 of 100,000 rows · 3 columns"
    header = table.view.horizontalHeader()

    def click_loss_header() -> str:
        x = header.sectionViewportPosition(1) + header.sectionSize(1) // 2
        point = QPoint(x, header.height() // 2)
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=point)
        return table.model.cell(0, 1)

    values = {click_loss_header(), click_loss_header()}
    assert values == {"0", "999"}  # numbers, not text ("999" < "99" would be wrong)
    screenshot(widget, "table")


def test_ragged_csv_note_and_counting_rows_later(qtbot, runner, tmp_path, qt_warnings):
    (tmp_path / "ragged.csv").write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n" + "7,8,9\n" * 5000)
    widget = shown(qtbot, runner, source_for(tmp_path, "ragged.csv"), TablePreviewer)
    assert widget.table.notes.isVisible()
    assert widget.table.notes.text() == (
        "2 rows had the wrong number of fields (the header has 3 fields)."
    )
    screenshot(widget, "table-ragged")
    from flowdeck.core.artifacts.tables import read_csv

    path = tmp_path / "ragged.csv"
    widget.show_data(TableData(path, read_csv(None, path, max_rows=100)))
    assert widget.table.summary.text() == "100 of … rows (counting) · 4 columns"
    qtbot.waitUntil(lambda: "5,003" in widget.table.summary.text(), timeout=TIMEOUT)
    assert widget.table.summary.text() == "100 of 5,003 rows · 4 columns"


def test_parquet_and_a_corrupt_parquet(qtbot, runner, tmp_path, qt_warnings):
    frame = pd.DataFrame({"id": range(20_000), "p": [i / 20_000 for i in range(20_000)]})
    frame.to_parquet(tmp_path / "scores.parquet")
    widget = shown(qtbot, runner, source_for(tmp_path, "scores.parquet"), TablePreviewer)
    assert widget.table.summary.text() == "10,000 of 20,000 rows · 2 columns"
    (tmp_path / "broken.parquet").write_bytes(b"PAR1" + b"\x00" * 100)
    with pytest.raises(Exception, match="This Parquet file cannot be read") as error:
        prepared(qtbot, runner, TablePreviewer, source_for(tmp_path, "broken.parquet"))
    assert type(error.value).__name__ == "CorruptStore"
