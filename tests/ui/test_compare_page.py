"""The comparison page on runs written by MLflow: values, charts, artifacts, Ctrl+D."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QTextDocument
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QWidget
from tests.helpers.windows import close_window, open_store, shown_window

from flowdeck.core.addresses import experiment_address, parse_address, run_address
from flowdeck.core.compare import ADDED, REMOVED
from flowdeck.core.task_state import TaskState
from flowdeck.store import open_store as open_location
from flowdeck.store.base import Store
from flowdeck.store.writer_core import Change
from flowdeck.ui.pages.compare.page import ComparePage
from flowdeck.ui.pages.compare.text_diff import TINTS, ink
from flowdeck.ui.pages.compare.values import BEST, COLOUR_ROLE
from flowdeck.ui.runs.loading import load_runs
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import create_page

TIMEOUT = 30_000
SHOTS = Path("/tmp/compare")
ALPHA = "<b>alpha</b>"  # shown as typed, never as rich text
NAMES = (ALPHA, "beta", "gamma")
RED, BLUE = QColor("#d03030"), QColor("#3050d0")
CONFIG = "name: demo\nlr: {lr}\nepochs: 3\n"


@dataclass(frozen=True)
class Written:
    db: Path
    experiments: tuple[str, str]
    run_ids: tuple[str, str, str]


def _png(path: Path, colour: QColor) -> Path:
    image = QImage(80, 60, QImage.Format.Format_RGB32)
    image.fill(colour)
    assert image.save(str(path))
    return path


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, qapp) -> Written:  # noqa: ANN001
    """alpha and beta in one experiment, gamma in another; params, metrics, tags, artifacts."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    folder = tmp_path_factory.mktemp("compare-ui")
    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    first = client.create_experiment("vision", artifact_location=str(folder / "a"))
    second = client.create_experiment("other", artifact_location=str(folder / "b"))
    images = {}
    for number, colour in ((0, RED), (1, BLUE)):
        (folder / f"png{number}").mkdir()
        images[number] = _png(folder / f"png{number}" / "plot.png", colour)
    run_ids = []
    for number, name in enumerate(NAMES):
        run_id = client.create_run(first if number < 2 else second, run_name=name).info.run_id
        client.log_param(run_id, "optimizer", "adam")
        client.log_param(run_id, "lr", f"0.0{number + 1}")
        losses = [1.0 - 0.1 * step + (0.05, -0.05, 0.1)[number] for step in range(5)]
        client.log_batch(
            run_id,
            metrics=[Metric("loss", v, 1_700_000_000_000 + s, s) for s, v in enumerate(losses)]
            + [Metric("accuracy", 0.7 + 0.1 * (number % 2), 1_700_000_000_000, 0)],
            synchronous=True,
        )
        client.set_tag(run_id, "team", "vision")
        client.set_tag(run_id, "stage", "prod" if number == 0 else "dev")
        client.log_text(run_id, CONFIG.format(lr="0.02" if number == 1 else "0.01"), "config.yaml")
        if number < 2:
            client.log_text(run_id, "the same notes\n", "notes.txt")
            client.log_artifact(run_id, str(images[number]), "plots")
            client.log_text(run_id, f"deep {number}\n", "sub/deep.txt")
            weights = folder / f"png{number}" / "weights.bin"
            weights.write_bytes(bytes(range(256)) * 4)
            client.log_artifact(run_id, str(weights))
        if number == 0:
            client.log_text(run_id, "only here\n", "only_alpha.txt")
        client.set_terminated(run_id)
        run_ids.append(run_id)
    return Written(folder / "mlflow.db", (first, second), tuple(run_ids))


@pytest.fixture
def store(written: Written) -> Store:
    opened = open_location(written.db)
    yield opened
    opened.close()


def opened(qtbot, shell: Shell, store: Store, run_ids) -> ComparePage:  # noqa: ANN001
    page = create_page(shell, store, parse_address("compare/" + ",".join(run_ids)))
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.start()
    assert page.error is None
    return page


def shot(widget: QWidget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SHOTS / f"{name}.png"))


def table_rows(page: ComparePage) -> dict[str, list[str]]:
    model = page.values.model
    return {
        model.index(r, 0).data(): [model.index(r, c).data() for c in range(1, model.columnCount())]
        for r in range(model.rowCount())
    }


def row_of(page: ComparePage, label: str) -> int:
    model = page.values.model
    return next(r for r in range(model.rowCount()) if model.index(r, 0).data() == label)


def is_bold(page: ComparePage, label: str, column: int) -> bool:
    font = page.values.model.index(row_of(page, label), column).data(Qt.ItemDataRole.FontRole)
    return font is not None and font.bold()


def header_colours(page: ComparePage) -> list[str]:
    """The colour of each run's swatch, read from the header's icon pixels."""
    model = page.values.model
    colours = []
    for column in range(1, model.columnCount()):
        icon = model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DecorationRole)
        image = icon.pixmap(12, 12).toImage()
        colours.append(image.pixelColor(6, 6).name())
        assert model.headerData(column, Qt.Orientation.Horizontal, COLOUR_ROLE) == colours[-1]
    return colours


def header_click(qtbot, page: ComparePage, column: int, modifier=Qt.KeyboardModifier.NoModifier):  # noqa: ANN001, ANN201
    header = page.values.header
    point = QPoint(header.sectionViewportPosition(column) + 10, header.height() // 2)
    with qtbot.waitSignal(page.open_requested) as opened_signal:
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, modifier, point)
    return opened_signal.args


# --- values ----------------------------------------------------------------------------------------


def test_values_side_by_side_with_differences_and_best(
    qtbot, shell, store, written, qtmodeltester
) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, written.run_ids)
    model = page.values.model
    qtmodeltester.check(model)

    assert page.title() == "Compare 3 runs"
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Key", *NAMES]
    rows = table_rows(page)
    assert rows["lr"] == ["0.01", "0.02", "0.03"]
    assert rows["optimizer"] == ["adam"] * 3
    assert rows["Params (2)"] == [None] * 3
    assert is_bold(page, "lr", 1) and not is_bold(page, "optimizer", 1)
    assert rows["stage"] == ["prod", "dev", "dev"] and is_bold(page, "stage", 2)
    # beta's loss ends lowest (a loss: lower is better); beta's accuracy is highest
    assert rows["loss"][1].startswith(BEST) and not rows["loss"][0].startswith(BEST)
    best = model.index(row_of(page, "loss"), 2).data(Qt.ItemDataRole.BackgroundRole)
    assert best is not None and best.color().alpha() > 0
    assert model.index(row_of(page, "loss"), 1).data(Qt.ItemDataRole.BackgroundRole) is None
    assert rows["accuracy"][1] == BEST + "0.8"
    assert "mlflow.runName" not in rows

    page.values.differences.setChecked(True)
    qtmodeltester.check(model)
    rows = table_rows(page)
    assert "optimizer" not in rows and "team" not in rows
    assert {"lr", "stage", "loss", "accuracy"} <= set(rows)
    page.values.differences.setChecked(False)

    page.values.min_max.setChecked(True)
    page.values.system_tags.setChecked(True)
    rows = table_rows(page)
    assert rows["loss (min)"][1] == BEST + "0.55"  # beta reached the lowest loss
    assert rows["loss (max)"] == ["1.05", "0.95", "1.1"]  # no best: a loss's max is no goal
    assert rows["mlflow.runName"] == list(NAMES)
    page.values.search.setText("LOSS")
    assert [k for k in table_rows(page) if not k.startswith("Metrics")] == [
        "loss",
        "loss (min)",
        "loss (max)",
    ]
    page.values.copy_button.click()
    copied = QGuiApplication.clipboard().text().splitlines()
    assert copied[0] == "\t".join(["Section", "Key", *NAMES])
    assert copied[1] == "Metrics\tloss\t0.65\t0.55\t0.7"
    page.values.search.clear()
    page.values.min_max.setChecked(False)
    page.values.system_tags.setChecked(False)
    for part in (page.message, page.values, page.artifacts):
        for label in [part, *part.findChildren(QLabel)]:
            if isinstance(label, QLabel):
                assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
    shot(page, "values")

    assert header_click(qtbot, page, 2) == [run_address(written.run_ids[1]), False]
    ctrl = Qt.KeyboardModifier.ControlModifier
    assert header_click(qtbot, page, 1, ctrl) == [run_address(written.run_ids[0]), True]
    assert page.selection().ids == list(written.run_ids)
    assert page.shows(Change("run", (written.run_ids[2],), "rename"))
    assert not page.shows(Change("run", ("other",), "rename"))


def test_header_colours_are_the_runs_table_colours(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, written.run_ids[::-1])  # another order, the same colours
    table = load_runs(TaskState(), store, list(written.experiments), "", "active", False).table
    expected = [table.colours[table.row_of(run_id)] for run_id in written.run_ids[::-1]]
    assert header_colours(page) == expected
    assert len(set(expected)) > 1


def test_a_refresh_after_a_write_shows_the_new_value(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, written.run_ids[:2])
    shell.context.changed.connect(page.apply_change)
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        shell.writes.write(
            store, lambda writer: writer.set_run_tag(written.run_ids[1], "fresh", "yes"), "Tagged."
        )
    assert table_rows(page)["fresh"] == ["—", "yes"]


def test_runs_that_do_not_exist_are_named(qtbot, shell, store, written) -> None:  # noqa: ANN001
    for ids, text in (
        ((written.run_ids[0], "nope"), "There is no run with ID nope in mlflow.db."),
        (
            ("nope", "gone", written.run_ids[1]),
            "There are no runs with IDs nope, gone in mlflow.db.",
        ),
    ):
        page = create_page(shell, store, parse_address("compare/" + ",".join(ids)))
        qtbot.addWidget(page)
        with qtbot.waitSignal(page.failed, timeout=TIMEOUT) as failed:
            page.start()
        assert failed.args == [text, True]
        assert page.message.text() == text and page.stack.currentWidget() is page.message


# --- charts ----------------------------------------------------------------------------------------


def test_charts_tab_charts_the_runs_in_their_colours(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, written.run_ids)
    charts = page.charts
    with qtbot.waitSignal(charts.drawn, timeout=TIMEOUT):
        page.tabs.setCurrentIndex(1)
    assert [run.run_id for run in charts.runs] == list(written.run_ids)
    assert [run.colour for run in charts.runs] == header_colours(page)
    assert [run.name for run in charts.runs] == list(NAMES)
    assert sorted(charts.charts) == ["accuracy", "loss"]
    shot(page, "charts")

    page.tabs.setCurrentIndex(0)
    page.values.table.selectRow(row_of(page, "loss"))
    with qtbot.waitSignal(charts.drawn, timeout=TIMEOUT):
        page.tabs.setCurrentIndex(1)
    assert list(charts.charts) == ["loss"]


# --- artifacts --------------------------------------------------------------------------------------


def open_artifacts(qtbot, page: ComparePage):  # noqa: ANN001, ANN201
    view = page.artifacts
    with qtbot.waitSignal(view.listed, timeout=TIMEOUT):
        page.tabs.setCurrentIndex(2)
    return view


def choose(qtbot, view, path: str) -> None:  # noqa: ANN001
    item = view.item_at(path)
    assert item is not None, path
    with qtbot.waitSignal(view.compared, timeout=TIMEOUT) as compared:
        view.tree.setCurrentItem(item)
    assert compared.args == [path]


def marked_lines(editor: QPlainTextEdit) -> dict[str, tuple[QColor, QColor] | None]:
    """Each non-empty line of the editor with its background tint and text colour (or None)."""
    document: QTextDocument = editor.document()
    out = {}
    block = document.begin()
    while block.isValid():
        if block.text():
            tint = block.blockFormat().background()
            text = block.begin().fragment().charFormat().foreground()
            marked = tint.style() != Qt.BrushStyle.NoBrush
            out[block.text()] = (tint.color(), text.color()) if marked else None
        block = block.next()
    return out


def looks(editor: QPlainTextEdit, kind: str) -> tuple[QColor, QColor]:
    return TINTS[kind], ink(editor, kind)


def test_artifact_tree_and_a_yaml_diff_in_both_modes(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, written.run_ids)
    view = open_artifacts(qtbot, page)
    tree = view.tree
    top = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert top == ["plots/", "sub/", "config.yaml", "notes.txt", "only_alpha.txt", "weights.bin"]
    only = view.item_at("only_alpha.txt")
    assert [only.text(c) for c in (2, 3)] == ["—", "—"] and only.text(1).endswith("B")
    assert view.item_at("plots/red.png") is None  # folders are listed when expanded

    choose(qtbot, view, "config.yaml")
    assert view.verdict.text().startswith("The files differ")
    assert view.stack.currentWidget() is view.text_view
    editor = view.text_view.unified
    unified = marked_lines(editor)
    assert unified["-lr: 0.01"] == looks(editor, REMOVED)
    assert unified["+lr: 0.02"] == looks(editor, ADDED)
    assert looks(editor, REMOVED)[1] != looks(editor, ADDED)[1]
    assert unified[" name: demo"] is None  # unchanged lines stay plain
    view.text_view.setCurrentIndex(1)
    left, right = view.text_view.left, view.text_view.right
    assert marked_lines(left)["lr: 0.01"] == looks(left, REMOVED)
    assert marked_lines(right)["lr: 0.02"] == looks(right, ADDED)
    assert marked_lines(left)["name: demo"] is None
    assert left.document().toPlainText().splitlines().index("lr: 0.01") == (
        right.document().toPlainText().splitlines().index("lr: 0.02")
    )
    shot(page, "artifacts-text-side")
    view.text_view.setCurrentIndex(0)
    shot(page, "artifacts-text")

    with qtbot.waitSignal(view.compared, timeout=TIMEOUT):
        view.right_run.setCurrentIndex(2)  # alpha and gamma logged the same config
    assert view.text_view.unified.toPlainText() == "The texts are identical."


def test_identical_files_lone_files_and_lazy_folders(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, written.run_ids)
    view = open_artifacts(qtbot, page)
    choose(qtbot, view, "notes.txt")
    assert view.verdict.text().startswith("The files are identical.")
    assert view.verdict.isVisible()
    choose(qtbot, view, "weights.bin")  # neither text nor image: compared by content
    assert view.verdict.isVisible() and view.title.text() == "weights.bin"
    assert view.verdict.text() == f"The files are identical. Sizes: {ALPHA}: 1.0 KB · beta: 1.0 KB."
    assert view.note.text().startswith("These files are compared by content only")
    choose(qtbot, view, "only_alpha.txt")
    assert view.note.text() == f"Only {ALPHA} has this file: there is nothing to compare it with."
    assert view.stack.currentWidget() is view.note

    with qtbot.waitSignal(view.listed, timeout=TIMEOUT) as listed:
        view.tree.expandItem(view.item_at("sub"))
    assert listed.args == ["sub"]
    deep = view.item_at("sub/deep.txt")
    assert [deep.text(c) for c in range(4)] == ["deep.txt", "7 B", "7 B", "—"]
    choose(qtbot, view, "sub/deep.txt")
    assert view.verdict.text().startswith("The files differ.")


def pixel(widget: QWidget, x_fraction: float) -> QColor:
    image = widget.grab().toImage()
    return image.pixelColor(int(image.width() * x_fraction), image.height() // 2)


def test_image_views_show_both_images(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, written.run_ids)
    view = open_artifacts(qtbot, page)
    with qtbot.waitSignal(view.listed, timeout=TIMEOUT):
        view.tree.expandItem(view.item_at("plots"))
    choose(qtbot, view, "plots/plot.png")
    images = view.image_view
    assert view.stack.currentWidget() is images
    assert view.verdict.text().startswith("The files differ.")
    assert pixel(images.first, 0.5) == RED and pixel(images.second, 0.5) == BLUE
    shot(page, "artifacts-image-side")

    images.setCurrentIndex(1)
    assert pixel(images.swipe, 0.3) == RED and pixel(images.swipe, 0.7) == BLUE
    images.slider.setValue(images.slider.maximum())
    assert pixel(images.swipe, 0.7) == RED
    images.slider.setValue(images.slider.maximum() // 4)
    shot(page, "artifacts-image-swipe")

    images.setCurrentIndex(2)
    flicker = images.flicker
    assert flicker.timer.isActive()
    seen = {pixel(flicker, 0.5).name()}
    qtbot.waitUntil(lambda: pixel(flicker, 0.5).name() not in seen, timeout=3000)
    assert {pixel(flicker, 0.5).name(), *seen} == {RED.name(), BLUE.name()}
    images.auto.setChecked(False)
    assert not flicker.timer.isActive()
    before = pixel(flicker, 0.5)
    qtbot.keyClick(flicker, Qt.Key.Key_Space)
    assert pixel(flicker, 0.5) != before
    assert images.flicker_caption.text() in (f"Showing {ALPHA}", "Showing beta")
    shot(page, "artifacts-image-flicker")
    page.tabs.setCurrentIndex(0)
    images.auto.setChecked(True)
    assert not flicker.timer.isActive()  # hidden: it does not flicker in the background


# --- the window ---------------------------------------------------------------------------------


def test_ctrl_d_compares_the_selected_runs(qtbot, qt_warnings, written) -> None:  # noqa: ANN001
    window = shown_window(qtbot, (1200, 800))
    try:
        store = open_store(qtbot, window, written.db)
        with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT) as loaded:
            window.open_page(store, experiment_address([written.experiments[0]]))
        experiment = loaded.args[0]
        pair = list(written.run_ids[:2])
        experiment.runs.select_runs(pair)
        experiment.runs.view.setFocus()
        with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT) as loaded:
            qtbot.keyClick(experiment.runs.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
        page = loaded.args[0]
        assert isinstance(page, ComparePage)
        assert sorted(page.run_ids) == sorted(pair)
        assert window.host.tabs.tabText(window.host.tabs.currentIndex()) == "Compare 2 runs"
        table = experiment.runs.table()
        assert header_colours(page) == [table.colours[table.row_of(r)] for r in page.run_ids]
        shot(window, "window")
    finally:
        close_window(window)


def test_the_pages_package_registers_the_compare_page() -> None:
    """In a fresh interpreter: importing the pages package is what makes ``compare/`` open."""
    script = (
        "import flowdeck.ui.pages\n"
        "from flowdeck.ui.shell.page_types import PAGE_TYPES\n"
        "print(PAGE_TYPES['compare'].__module__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "flowdeck.ui.pages.compare.page"
