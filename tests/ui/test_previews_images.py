"""The image, gallery, step-image, Markdown, external and hex previewers on real files."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QFontInfo, QImage, QPainter, QWheelEvent
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from flowdeck.core.artifacts.kinds import kind_of
from flowdeck.core.entities import ArtifactEntry
from flowdeck.core.errors import CorruptStore
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_size
from flowdeck.ui.artifacts.previewer import Previewer, PreviewSource
from flowdeck.ui.artifacts.previews.gallery import MAX_THUMBNAILS, GalleryPreviewer
from flowdeck.ui.artifacts.previews.image import ImagePreviewer, decode_image
from flowdeck.ui.artifacts.previews.other import (
    MAX_MARKDOWN_BYTES,
    ExternalPreviewer,
    HexPreviewer,
    MarkdownPreviewer,
)
from flowdeck.ui.artifacts.previews.steps import StepImagesPreviewer

SHOTS = Path("/tmp/previews")
MINE = (ImagePreviewer, GalleryPreviewer, StepImagesPreviewer, MarkdownPreviewer,
        ExternalPreviewer, HexPreviewer)
RED, GREEN, BLUE, YELLOW = (QColor(c) for c in ("#d03030", "#30a040", "#3050d0", "#e0c020"))
STEP_COLOURS = [(200, 40, 40), (40, 160, 60), (40, 70, 200), (220, 190, 30), (150, 40, 170)]


# --- helpers -----------------------------------------------------------------------------------


def write_quadrants(path: Path, width: int = 400, height: int = 300) -> Path:
    """An image with a red, green, blue and yellow quarter (saved in the suffix's format)."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    half_w, half_h = width // 2, height // 2
    painter.fillRect(0, 0, half_w, half_h, RED)
    painter.fillRect(half_w, 0, width - half_w, half_h, GREEN)
    painter.fillRect(0, half_h, half_w, height - half_h, BLUE)
    painter.fillRect(half_w, half_h, width - half_w, height - half_h, YELLOW)
    painter.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    assert image.save(str(path))
    return path


def local_source(root: Path, path: str, is_dir: bool = False) -> PreviewSource:
    """What the host builds for a local store: ``fetch`` returns the file in place; a folder
    lists its children, a file gets its parent folder's children."""
    folder = path if is_dir else (path.rsplit("/", 1)[0] if "/" in path else "")
    children = sorted((root / folder).iterdir()) if (root / folder).is_dir() else []
    entries = tuple(
        ArtifactEntry(
            f"{folder}/{child.name}" if folder else child.name,
            child.is_dir(),
            None if child.is_dir() else child.stat().st_size,
        )
        for child in children
    )
    local = root / path
    kind = "folder" if is_dir else kind_of(path, local.read_bytes()[:4096])
    return PreviewSource(
        run_id="run",
        path=path,
        is_dir=is_dir,
        kind=kind,
        size=None if is_dir else local.stat().st_size,
        entries=entries,
        fetch=lambda _state, artifact: root / artifact,
    )


def best_of_mine(source: PreviewSource) -> type[Previewer]:
    return max(MINE, key=lambda cls: cls.accepts(source))


def shown(cls: type[Previewer], source: PreviewSource, qtbot, runner) -> Previewer:  # noqa: ANN001
    widget = cls(runner)
    qtbot.addWidget(widget)
    widget.resize(820, 600)
    widget.show_data(cls.prepare(TaskState(), source))
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def screenshot(widget: QWidget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SHOTS / f"{name}.png"))


def colour_at(widget: QWidget, point: QPoint) -> QColor:
    return widget.grab().toImage().pixelColor(point)


def close(colour: QColor, expected: QColor | tuple[int, int, int], tolerance: int = 12) -> bool:
    want = expected if isinstance(expected, QColor) else QColor(*expected)
    return all(
        abs(a - b) <= tolerance
        for a, b in zip(colour.getRgb()[:3], want.getRgb()[:3], strict=True)
    )


def labels_text(widget: QWidget) -> str:
    return "\n".join(label.text() for label in widget.findChildren(QLabel) if label.isVisible())


def wheel(widget: QWidget, at: QPointF, notches: int) -> None:
    event = QWheelEvent(
        at, widget.mapToGlobal(at), QPoint(), QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


# --- images --------------------------------------------------------------------------------------


def test_png_is_fitted_then_shown_at_100_percent_zoomed_and_panned(qtbot, runner, qt_warnings, tmp_path):
    write_quadrants(tmp_path / "plots" / "quadrants.png", 1600, 1200)
    source = local_source(tmp_path, "plots/quadrants.png")
    assert best_of_mine(source) is ImagePreviewer and ImagePreviewer.accepts(source) == 10
    widget = shown(ImagePreviewer, source, qtbot, runner)
    screenshot(widget, "image")
    view = widget.view
    size = format_size((tmp_path / "plots" / "quadrants.png").stat().st_size)
    assert f"1600 × 1200 px · {size}" in labels_text(widget)
    rect = view.image_rect()
    assert view.fitted and view.rect().toRectF().contains(rect)
    assert rect.height() == pytest.approx(view.height(), abs=1)  # the whole image, as large as fits
    assert close(colour_at(view, QPoint(int(rect.left() + 10), int(rect.top() + 10))), RED)
    assert close(colour_at(view, QPoint(int(rect.right() - 10), int(rect.bottom() - 10))), YELLOW)

    qtbot.keyClick(view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert not view.fitted and view.scale() == 1.0 and "100 %" in widget.bar.info.text()
    assert view.image_rect().width() == 1600
    centre = view.rect().center()
    assert close(colour_at(view, centre + QPoint(-10, -10)), RED)  # zoomed around the centre
    assert close(colour_at(view, centre + QPoint(10, 10)), YELLOW)

    anchor = QPointF(view.image_rect().left() + 700, view.image_rect().top() + 500)
    wheel(view, anchor, 2)
    assert view.scale() == pytest.approx(1.25**2)
    rect = view.image_rect()
    image_point = ((anchor.x() - rect.left()) / view.scale(), (anchor.y() - rect.top()) / view.scale())
    assert image_point == pytest.approx((700, 500), abs=0.5)  # the point under the cursor stays

    before = view.image_rect().topLeft()
    centre = view.rect().center()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(view, centre + QPoint(-40, -30))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=centre + QPoint(-40, -30))
    moved = view.image_rect().topLeft() - before
    assert moved.x() < 0 or moved.y() < 0

    qtbot.mouseClick(widget.bar.in_button, Qt.MouseButton.LeftButton)
    assert view.scale() == pytest.approx(1.25**3)
    qtbot.mouseClick(widget.bar.fit_button, Qt.MouseButton.LeftButton)
    assert view.fitted and widget.bar.fit_button.isChecked()


def test_arrow_keys_ask_for_the_previous_and_next_image_of_the_folder(qtbot, runner, qt_warnings, tmp_path):
    for name in ("img1.jpg", "img2.png", "img10.jpg"):
        write_quadrants(tmp_path / "samples" / name, 120, 90)
    (tmp_path / "samples" / "notes.txt").write_text("not an image")
    source = local_source(tmp_path, "samples/img2.png")
    widget = shown(ImagePreviewer, source, qtbot, runner)
    widget.setFocus()
    with qtbot.waitSignal(widget.open_requested) as blocker:
        qtbot.keyClick(widget.view, Qt.Key.Key_Right)
    assert blocker.args == ["samples/img10.jpg"]  # natural order: img2 before img10
    with qtbot.waitSignal(widget.open_requested) as blocker:
        qtbot.keyClick(widget.view, Qt.Key.Key_Up)
    assert blocker.args == ["samples/img1.jpg"]

    jpeg = shown(ImagePreviewer, local_source(tmp_path, "samples/img10.jpg"), qtbot, runner)
    assert "120 × 90 px" in labels_text(jpeg)
    with qtbot.assertNotEmitted(jpeg.open_requested):
        qtbot.keyClick(jpeg.view, Qt.Key.Key_Right)  # the last image: nothing to open


def test_a_truncated_png_gives_a_plain_message_on_the_worker_and_no_crash(qtbot, runner, qt_warnings, tmp_path):
    good = write_quadrants(tmp_path / "good.png").read_bytes()
    (tmp_path / "broken.png").write_bytes(good[: len(good) // 2])
    source = local_source(tmp_path, "broken.png")
    assert ImagePreviewer.accepts(source) == 10
    errors: list[BaseException] = []
    runner.submit(ImagePreviewer.prepare, source, on_error=lambda error, _details: errors.append(error))
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], CorruptStore)
    assert str(errors[0]) == "This image could not be read: the file is damaged or incomplete."

    (tmp_path / "text.png").write_text("hello")
    with pytest.raises(CorruptStore, match="not in an image format"):
        ImagePreviewer.prepare(TaskState(), local_source(tmp_path, "text.png"))


def test_prepare_runs_on_a_task_runner_worker(qtbot, runner, qt_warnings, tmp_path):
    write_quadrants(tmp_path / "q.png")
    fetched_on: list[threading.Thread] = []
    base = local_source(tmp_path, "q.png")

    def fetch(_state: TaskState, artifact: str) -> Path:
        fetched_on.append(threading.current_thread())
        return tmp_path / artifact

    source = PreviewSource(base.run_id, base.path, False, base.kind, base.size, base.entries, fetch)
    widget = ImagePreviewer(runner)
    qtbot.addWidget(widget)
    runner.submit(ImagePreviewer.prepare, source, on_result=widget.show_data)
    qtbot.waitUntil(lambda: widget.data is not None)
    assert fetched_on and fetched_on[0] is not threading.main_thread()
    assert widget.view.image_size().width() == 400


def test_very_large_images_are_decoded_scaled_down_and_say_so(qtbot, runner, qt_warnings, tmp_path):
    path = write_quadrants(tmp_path / "big.png", 400, 300)
    decoded = decode_image(path, max_pixels=12_000)
    assert decoded.scaled_down and (decoded.width, decoded.height) == (400, 300)
    assert decoded.image.width() * decoded.image.height() <= 12_000
    widget = ImagePreviewer(runner)
    qtbot.addWidget(widget)
    widget.show_data(ImagePreviewer.prepare(TaskState(), local_source(tmp_path, "big.png")))
    assert not widget.notice.isVisibleTo(widget)
    data = widget.data
    widget.show_data(type(data)(decoded, data.path, None, None))
    assert widget.notice.isVisibleTo(widget)
    assert "shown scaled down to 126 × 94 px" in widget.notice.text()
    assert "400 × 300 px" in widget.bar.info.text()


def test_svg_is_drawn_without_reading_the_files_it_points_to(qtbot, runner, qt_warnings, tmp_path):
    write_quadrants(tmp_path / "secret.png", 60, 60)
    (tmp_path / "drawing.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' width="200" height="100"><rect width="200" height="100" fill="#30a040"/>'
        f'<image x="0" y="0" width="100" height="100" xlink:href="{tmp_path / "secret.png"}"/>'
        '<image x="100" y="0" width="100" height="100" href="https://example.com/x.png"/></svg>'
    )
    source = local_source(tmp_path, "drawing.svg")
    assert source.kind == "svg" and best_of_mine(source) is ImagePreviewer
    widget = shown(ImagePreviewer, source, qtbot, runner)
    screenshot(widget, "svg")
    rect = widget.view.image_rect()
    assert "200 × 100 px" in labels_text(widget)
    top_left = colour_at(widget.view, QPoint(int(rect.left() + 8), int(rect.top() + 8)))
    assert close(top_left, GREEN)  # not the red corner of secret.png


# --- gallery -------------------------------------------------------------------------------------


def test_gallery_of_30_images_loads_thumbnails_moves_with_arrows_and_opens_with_enter(
    qtbot, runner, qt_warnings, tmp_path
):
    colours = [QColor.fromHsv(12 * index, 180, 220) for index in range(30)]
    for index, colour in enumerate(colours, start=1):
        image = QImage(320, 200, QImage.Format.Format_RGB32)
        image.fill(colour)
        (tmp_path / "samples").mkdir(exist_ok=True)
        image.save(str(tmp_path / "samples" / f"sample_{index}.png"))
    (tmp_path / "samples" / "labels.csv").write_text("a,b\n")
    source = local_source(tmp_path, "samples", is_dir=True)
    assert GalleryPreviewer.accepts(source) == 6 and best_of_mine(source) is GalleryPreviewer
    assert StepImagesPreviewer.accepts(source) == 0
    widget = shown(GalleryPreviewer, source, qtbot, runner)
    grid = widget.grid
    assert grid.count() == 30 and grid.item(0).text() == "sample_1.png"
    assert grid.item(1).text() == "sample_2.png" and grid.item(29).text() == "sample_30.png"
    assert widget.summary.text() == "30 images · 1 other file is listed in the browser only"
    qtbot.waitUntil(lambda: widget.thumbnail_loaded("samples/sample_1.png"))
    screenshot(widget, "gallery")
    first = grid.visualItemRect(grid.item(0))
    third = grid.visualItemRect(grid.item(2))  # not the current one: no selection tint
    assert close(colour_at(grid.viewport(), third.center() - QPoint(0, 10)), colours[2], 20)

    grid.scrollToBottom()
    qtbot.waitUntil(lambda: widget.thumbnail_loaded("samples/sample_30.png"))

    grid.setFocus()
    grid.setCurrentRow(0)
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert widget.current_path() == "samples/sample_2.png"
    per_row = sum(1 for row in range(30) if grid.visualItemRect(grid.item(row)).top() == first.top())
    qtbot.keyClick(grid, Qt.Key.Key_Down)
    assert widget.current_path() == f"samples/sample_{2 + per_row}.png"
    with qtbot.waitSignal(widget.open_requested) as blocker:
        qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert blocker.args == [f"samples/sample_{2 + per_row}.png"]
    with qtbot.waitSignal(widget.open_requested) as blocker:
        grid.scrollToItem(grid.item(2))
        at = grid.visualItemRect(grid.item(2)).center()
        qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=at)  # a real double-click
        qtbot.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=at)  # is press, release, double
    assert blocker.args == ["samples/sample_3.png"]


def test_gallery_shows_the_first_500_images_and_counts_the_rest(qtbot, runner, qt_warnings, tmp_path):
    tiny = write_quadrants(tmp_path / "seed.png", 4, 4).read_bytes()
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(MAX_THUMBNAILS + 12):
        (folder / f"{index:04d}.png").write_bytes(tiny)
    widget = shown(GalleryPreviewer, local_source(tmp_path, "many", is_dir=True), qtbot, runner)
    assert widget.grid.count() == MAX_THUMBNAILS
    assert widget.summary.text() == "The first 500 of 512 images · 12 more are not shown"


# --- step images -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def step_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run where MLflow logged key "sample" at steps 0-4 (one colour each) and "eval/grid"."""
    from mlflow.tracking import MlflowClient

    folder = tmp_path_factory.mktemp("steps")
    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    experiment = client.create_experiment("steps", (folder / "artifacts").as_uri())
    run_id = client.create_run(experiment).info.run_id
    for step in (3, 0, 4, 1, 2):
        pixels = np.zeros((60, 90, 3), np.uint8)
        pixels[:, :] = STEP_COLOURS[step]
        client.log_image(run_id, pixels, key="sample", step=step)
    for step in range(3):
        client.log_image(run_id, np.full((30, 30, 3), 80 * step, np.uint8), key="eval/grid", step=step)
    client.set_terminated(run_id)
    return Path(client.get_run(run_id).info.artifact_uri.removeprefix("file://"))


def test_step_images_slider_walks_the_steps_in_order(qtbot, runner, qt_warnings, step_run):
    source = local_source(step_run, "images", is_dir=True)
    assert StepImagesPreviewer.accepts(source) == 8
    assert best_of_mine(source) is StepImagesPreviewer  # above the gallery for the same folder
    widget = shown(StepImagesPreviewer, source, qtbot, runner)
    assert [widget.key_box.itemText(i) for i in range(widget.key_box.count())] == ["eval/grid", "sample"]
    assert widget.key == "eval/grid" and widget.step_label.text().startswith("Step 2 ·")
    widget.key_box.setCurrentText("sample")
    assert widget.step_label.text().startswith("Step 2 ·")  # the same step in the other key

    def centre_colour() -> QColor:
        return colour_at(widget.view, widget.view.rect().center())

    widget.slider.setFocus()
    qtbot.keyClick(widget.slider, Qt.Key.Key_Home)
    seen = []
    for step in range(5):
        if step:
            qtbot.keyClick(widget.slider, Qt.Key.Key_Right)
        qtbot.waitUntil(lambda step=step: close(centre_colour(), STEP_COLOURS[step]))
        seen.append(widget.step_label.text().split(" ·")[0])
        assert f"{step + 1} of 5" in widget.step_label.text()
    assert seen == ["Step 0", "Step 1", "Step 2", "Step 3", "Step 4"]
    assert "90 × 60 px" in widget.bar.info.text()  # the full-size file, not the small copy
    screenshot(widget, "steps")

    qtbot.keyClick(widget.view, Qt.Key.Key_Home)  # keys work with the image focused too
    qtbot.waitUntil(lambda: close(centre_colour(), STEP_COLOURS[0]))
    qtbot.keyClick(widget.view, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: close(centre_colour(), STEP_COLOURS[4]))
    assert widget.step_label.text().startswith("Step 4 ·")


def test_a_broken_step_image_shows_its_message_and_the_other_steps_still_load(
    qtbot, runner, qt_warnings, step_run, tmp_path
):
    shutil.copytree(step_run / "images", tmp_path / "images")
    source = local_source(tmp_path, "images", is_dir=True)
    last = StepImagesPreviewer.prepare(TaskState(), source).keys["eval/grid"][-1]
    (tmp_path / last.full_path).write_bytes((tmp_path / last.full_path).read_bytes()[:40])
    widget = shown(StepImagesPreviewer, source, qtbot, runner)
    qtbot.waitUntil(lambda: "could not be read" in widget.bar.info.text())
    assert widget.bar.info.text() == "This image could not be read: the file is damaged or incomplete."
    qtbot.keyClick(widget.slider, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: widget.bar.info.text().startswith("30 × 30 px"))


# --- markdown, external, hex ---------------------------------------------------------------------


def test_markdown_is_formatted_but_loads_and_runs_nothing(qtbot, runner, qt_warnings, tmp_path):
    write_quadrants(tmp_path / "docs" / "secret.png", 200, 200)
    (tmp_path / "docs" / "README.md").write_text(
        "# Model card\n\nSome **bold** text.\n\n<script>alert('x')</script>\n\n"
        "![remote](https://example.com/track.png)\n\n![local](secret.png)\n\n"
        '<img src="secret.png">\n\nSee [the other page](other.md).\n'
    )
    source = local_source(tmp_path, "docs/README.md")
    assert best_of_mine(source) is MarkdownPreviewer
    widget = shown(MarkdownPreviewer, source, qtbot, runner)
    screenshot(widget, "markdown")
    browser = widget.browser
    document = browser.document()
    assert document.firstBlock().text() == "Model card"
    assert document.firstBlock().blockFormat().headingLevel() == 1
    assert "<script>alert('x')</script>" in browser.toPlainText()  # shown as text, not run
    picture = browser.viewport().grab().toImage()
    reds = sum(
        close(picture.pixelColor(x, y), RED)
        for x in range(0, picture.width(), 4)
        for y in range(0, picture.height(), 4)
    )
    assert reds == 0  # neither image was loaded
    assert "[image: remote]" in browser.toPlainText() and "[image: local]" in browser.toPlainText()
    assert not widget.notice.isVisibleTo(widget)

    cursor = document.find("the other page")
    cursor.setPosition(cursor.selectionStart() + 3)
    link = browser.cursorRect(cursor).center()
    assert browser.anchorAt(link) == "other.md"
    with qtbot.waitSignal(widget.open_requested) as blocker:
        qtbot.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton, pos=link)
    assert blocker.args == ["docs/other.md"]


def test_a_huge_markdown_file_is_cut_and_says_so(qtbot, runner, qt_warnings, tmp_path):
    section = "## Section\n\nSome *text* é.\n\n"
    (tmp_path / "long.md").write_text("# Start\n\n" + section * 90_000, encoding="utf-8")
    source = local_source(tmp_path, "long.md")
    widget = shown(MarkdownPreviewer, source, qtbot, runner)
    assert widget.notice.isVisible()
    cut = format_size(MAX_MARKDOWN_BYTES)
    assert widget.notice.text() == f"Showing the first {cut} of {format_size(source.size)}."
    assert widget.browser.document().firstBlock().text() == "Start"
    assert "\ufffd" not in widget.browser.toPlainText()[-50:]


def test_html_and_pdf_are_not_rendered_but_offered_to_the_system_viewer(qtbot, runner, qt_warnings, tmp_path):
    (tmp_path / "report.html").write_text(
        "<html><body><h1>Secret heading</h1><script>alert(1)</script>"
        '<img src="https://example.com/x.png"></body></html>'
    )
    source = local_source(tmp_path, "report.html")
    assert best_of_mine(source) is ExternalPreviewer
    widget = shown(ExternalPreviewer, source, qtbot, runner)
    screenshot(widget, "external")
    text = labels_text(widget)
    assert "report.html" in text and "Secret heading" not in text and "alert" not in text
    assert "your browser opens a copy" in text
    with qtbot.waitSignal(widget.open_externally) as blocker:
        qtbot.mouseClick(widget.open_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["report.html"]

    (tmp_path / "paper.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    pdf = shown(ExternalPreviewer, local_source(tmp_path, "paper.pdf"), qtbot, runner)
    assert "your PDF viewer opens a copy" in labels_text(pdf)


def test_a_binary_file_named_txt_gets_the_hex_dump(qtbot, runner, qt_warnings, tmp_path):
    payload = b"\x00\x01\x02MLflow\xff" * 1000  # 10 000 bytes with NULs
    (tmp_path / "notes.txt").write_bytes(payload)
    source = local_source(tmp_path, "notes.txt")
    assert source.kind == "binary" and best_of_mine(source) is HexPreviewer
    assert HexPreviewer.accepts(source) == 1
    widget = shown(HexPreviewer, source, qtbot, runner)
    screenshot(widget, "hex")
    info = widget.info.text()
    assert info.startswith("Binary file · 9.8 KB")
    assert "the name suggests text, but the content is binary" in info
    assert "the first 4.0 KB as hex" in info
    lines = widget.dump.toPlainText().splitlines()
    assert len(lines) == 256
    assert lines[0] == "00000000  00 01 02 4d 4c 66 6c 6f  77 ff 00 01 02 4d 4c 66  |...MLflow....MLf|"
    assert widget.dump.isReadOnly() and QFontInfo(widget.dump.font()).fixedPitch()
