"""The Artifacts tab: tree, preview host and actions on file, SQLite and served stores."""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout
from tests.helpers.servers import ServerProcess, start_mlflow_server

from flowdeck.core.errors import CorruptStore
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_size
from flowdeck.store import open_store
from flowdeck.store.artifact_fetch import PARTIAL
from flowdeck.store.base import Store
from flowdeck.ui.artifacts.browser import ArtifactsView
from flowdeck.ui.artifacts.host import NO_PREVIEW_TEXT
from flowdeck.ui.artifacts.previewer import Previewer, PreviewSource, previewer
from flowdeck.ui.artifacts.tree_model import LOADING_TEXT, SIZE_COLUMN
from flowdeck.ui.shell.context import Context
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.writes import WritePath

BACKENDS = ["files", "sqlite", "rest"]
MANY = 1000
BIG = 1_500_000
SCREENSHOT = Path("/tmp/previews/browser.png")


@previewer
class ProbePreviewer(Previewer):
    """A previewer of this test only: ``*.probe`` files, shown as their text and siblings."""

    title = "Probe"

    def __init__(self, runner: Any, parent: Any = None) -> None:
        super().__init__(runner, parent)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        QVBoxLayout(self).addWidget(self.label)

    @classmethod
    def accepts(cls, source: PreviewSource) -> int:
        return 1000 if source.name.endswith(".probe") else 0

    @staticmethod
    def prepare(state: TaskState, source: PreviewSource) -> Any:
        assert source.fetch is not None
        text = source.fetch(state, source.path).read_text()
        if text.startswith("damaged"):
            raise CorruptStore(f"{source.name} is damaged.")
        if text.startswith("bug"):
            raise ValueError("a previewer bug")
        return text.strip(), source.kind, [entry.path for entry in source.entries]

    def show_data(self, data: Any) -> None:
        text, kind, siblings = data
        self.label.setText(f"{text} [{kind}] {len(siblings)} siblings")
        self.siblings = siblings


@dataclass
class Logged:
    location: str  # what open_store takes
    tracking_uri: str  # what MLflow's client takes
    run_id: str
    artifact_uri: str


def log_run(tracking_uri: str, artifact_location: str | None, many: bool) -> str:
    """log_artifact, log_text, log_dict and nested folders, as a user's script would."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.create_experiment(
        f"browser-{uuid.uuid4().hex[:8]}", artifact_location=artifact_location
    )
    run_id = client.create_run(experiment).info.run_id
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "weights.bin").write_bytes(os.urandom(3000))
        client.log_artifact(run_id, str(root / "weights.bin"))
        plots = root / "plots"
        (plots / "deep" / "inner").mkdir(parents=True)
        (plots / "curve.csv").write_text("step,loss\n0,1.0\n1,0.5\n")
        (plots / "deep" / "inner" / "leaf.txt").write_text("leaf\n")
        client.log_artifacts(run_id, str(plots), "plots")
        bulk = root / "bulk"
        bulk.mkdir()
        for index in range(4):
            (bulk / f"part-{index}.bin").write_bytes(os.urandom(BIG))
        client.log_artifacts(run_id, str(bulk), "bulk")
        if many:
            folder = root / "many"
            folder.mkdir()
            for index in range(MANY):
                (folder / f"file-{index:04d}.txt").write_text(f"file {index}\n")
            client.log_artifacts(run_id, str(folder), "many")
    client.log_text(run_id, "hello flowdeck\n", "notes.txt")
    client.log_dict(run_id, {"lr": 0.1, "layers": [1, 2]}, "config/params.json")
    for name, text in (("good", "a probe"), ("damaged", "damaged"), ("broken", "bug")):
        client.log_text(run_id, text, f"probes/{name}.probe")
    client.set_terminated(run_id)
    return run_id


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real ``mlflow server`` with proxied artifacts (``mlflow-artifacts:`` URIs)."""
    process = start_mlflow_server(tmp_path_factory.mktemp("browser-server"))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """One run per backend, written by MLflow, created on first use."""
    made: dict[str, Logged] = {}

    def get(backend: str) -> Logged:
        if backend not in made:
            made[backend] = _write(backend, request, tmp_path_factory)
        return made[backend]

    return get


def _write(backend: str, request: pytest.FixtureRequest, factory: Any) -> Logged:
    from mlflow import MlflowClient

    folder = factory.mktemp(f"browser-{backend}")
    if backend == "files":
        uri = str(folder / "mlruns")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
            run_id = log_run(uri, None, many=True)
            artifact_uri = MlflowClient(tracking_uri=uri).get_run(run_id).info.artifact_uri
        return Logged(uri, uri, run_id, artifact_uri)
    if backend == "sqlite":
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        run_id = log_run(uri, str(folder / "artifacts"), many=True)
    else:
        uri = request.getfixturevalue("server").url
        run_id = log_run(uri, None, many=False)
    artifact_uri = MlflowClient(tracking_uri=uri).get_run(run_id).info.artifact_uri
    return Logged(uri, uri, run_id, artifact_uri)


@pytest.fixture
def shell(qapp, runner, isolated_settings) -> Shell:  # noqa: ANN001
    context = Context()
    return Shell(runner, isolated_settings, context, WritePath(runner, context))


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


@pytest.fixture(params=BACKENDS)
def opened(request, written, cache_home, qt_warnings) -> Iterator[tuple[Store, Logged]]:  # noqa: ANN001
    logged = written(request.param)
    store = open_store(logged.location)
    yield store, logged
    store.close()


def make_view(qtbot, shell: Shell, store: Store, logged: Logged, path: str = "") -> ArtifactsView:  # noqa: ANN001
    view = ArtifactsView(shell, store, logged.run_id, path)
    qtbot.addWidget(view)
    view.resize(1000, 560)
    view.show()
    qtbot.waitUntil(lambda: view.host.path == path and view.host.message_text() != "Loading…")
    return view


def shown(qtbot, view: ArtifactsView, path: str) -> None:  # noqa: ANN001
    qtbot.waitUntil(
        lambda: view.host.path == path and view.host.message_text() != "Loading…", timeout=15000
    )


def rows(view: ArtifactsView, path: str) -> list[tuple[str, str]]:
    model = view.model
    parent = model.index_of(path)
    return [
        (model.index(row, 0, parent).data(), model.index(row, SIZE_COLUMN, parent).data())
        for row in range(model.rowCount(parent))
    ]


def mlflow_download(logged: Logged, path: str, folder: Path) -> Path:
    import mlflow.artifacts

    return Path(
        mlflow.artifacts.download_artifacts(
            run_id=logged.run_id,
            artifact_path=path,
            tracking_uri=logged.tracking_uri,
            dst_path=str(folder),
        )
    )


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --- the tree ---------------------------------------------------------------------------------------


def test_tree_lists_what_mlflow_wrote_with_sizes(qtbot, shell, opened) -> None:  # noqa: ANN001
    from mlflow import MlflowClient

    store, logged = opened
    view = make_view(qtbot, shell, store, logged)
    client = MlflowClient(tracking_uri=logged.tracking_uri)
    expected = [
        (info.path.rsplit("/", 1)[-1], "" if info.is_dir else format_size(info.file_size))
        for info in sorted(
            client.list_artifacts(logged.run_id), key=lambda i: (not i.is_dir, i.path)
        )
    ]
    assert rows(view, "") == expected
    assert ("weights.bin", "2.9 KB") in expected and ("plots", "") in expected
    config = view.model.index_of("config")
    assert rows(view, "config") == [(LOADING_TEXT, "")]  # listed only when opened
    view.tree.expand(config)
    qtbot.waitUntil(lambda: rows(view, "config") != [(LOADING_TEXT, "")])
    size = client.list_artifacts(logged.run_id, "config")[0].file_size
    assert rows(view, "config") == [("params.json", format_size(size))]


def test_select_path_opens_nested_folders(qtbot, shell, opened) -> None:  # noqa: ANN001
    store, logged = opened
    view = make_view(qtbot, shell, store, logged)
    changes: list[str] = []
    view.path_changed.connect(changes.append)
    view.select_path("plots/deep/inner/leaf.txt")
    shown(qtbot, view, "plots/deep/inner/leaf.txt")
    assert view.model.path_of(view.tree.currentIndex()) == "plots/deep/inner/leaf.txt"
    assert view.tree.isExpanded(view.model.index_of("plots/deep"))
    assert view.host.message_text() == NO_PREVIEW_TEXT or view.host.previewer is not None
    assert view.host.source is not None and view.host.source.kind == "text"
    assert changes == [], "a path set from outside is not the user's change"
    view.tree.setCurrentIndex(view.model.index_of("plots/curve.csv"))  # the user clicks
    assert changes == ["plots/curve.csv"]
    shown(qtbot, view, "plots/curve.csv")
    assert [entry.path for entry in view.host.source.entries] == [
        "plots/deep",
        "plots/curve.csv",
    ]


def test_missing_and_refused_paths_say_so(qtbot, shell, opened) -> None:  # noqa: ANN001
    store, logged = opened
    view = make_view(qtbot, shell, store, logged, "plots/nope.txt")
    assert view.host.message_text() == "There is no artifact 'plots/nope.txt' in this run."
    for bad in ("../etc/passwd", "plots\\curve.csv", "/etc/passwd"):
        view.select_path(bad)
        assert view.host.message_text() == f"'{bad}' is not a path inside the run's artifacts."
    view.select_path("notes.txt/inside")
    qtbot.waitUntil(lambda: "no artifact 'notes.txt/inside'" in view.host.message_text())
    assert not view.tree.currentIndex().isValid()


def test_downloads_land_in_the_chosen_folder(qtbot, shell, opened, tmp_path) -> None:  # noqa: ANN001
    store, logged = opened
    view = make_view(qtbot, shell, store, logged, "plots")
    target = tmp_path / "chosen"
    for path in ("plots", "config/params.json", "plots"):
        with qtbot.waitSignal(view.downloads.finished, timeout=30000):
            view.download(path, target)
    assert view.note.text().startswith("Downloaded plots to ")
    ours = tree_bytes(target / "plots")
    assert ours == tree_bytes(mlflow_download(logged, "plots", tmp_path / "mlflow"))
    assert tree_bytes(target / "plots (2)") == ours
    assert (target / "params.json").read_bytes() == (
        mlflow_download(logged, "config/params.json", tmp_path / "mlflow2").read_bytes()
    )


@pytest.mark.parametrize("backend", ["sqlite", "rest"])
def test_cancelled_download_leaves_nothing_half_done(  # noqa: PLR0913
    qtbot,
    shell,
    written,
    tmp_path,
    cache_home,
    qt_warnings,
    backend,  # noqa: ANN001
) -> None:
    logged = written(backend)
    store = open_store(logged.location)
    view = make_view(qtbot, shell, store, logged)
    target = tmp_path / "chosen"
    gate = threading.Event()
    if backend == "sqlite":  # a read ahead of it on the same file: the download must wait
        shell.runner.submit(lambda _state: gate.wait(30), store=store)
        view.download("bulk", target)
    else:  # cancel once the first bytes came in
        with qtbot.waitSignal(shell.runner.progress, timeout=30000):
            view.download("bulk", target)
    assert view.downloads.isVisible() and view.downloads.running
    qtbot.mouseClick(view.downloads.cancel_button, Qt.MouseButton.LeftButton)
    gate.set()
    assert view.note.text() == "Download cancelled."
    assert shell.runner.wait_idle(30000)
    assert not view.downloads.isVisible()
    assert not target.exists() or list(target.iterdir()) == []
    half = [p for p in cache_home.rglob("*") if p.is_file() and PARTIAL in p.parts]
    assert half == []
    complete = [p for p in cache_home.rglob("*") if p.is_file()]
    assert len(complete) < 4, "the cancelled download went on to the end"
    store.close()


# --- the host -----------------------------------------------------------------------------------------


def test_host_runs_the_previewer_and_shows_plain_errors(qtbot, shell, opened) -> None:  # noqa: ANN001
    store, logged = opened
    view = make_view(qtbot, shell, store, logged, "probes/good.probe")
    widget = view.host.previewer
    assert isinstance(widget, ProbePreviewer)
    qtbot.waitUntil(lambda: widget.isVisible())
    assert widget.label.text() == "a probe [text] 3 siblings"
    changes: list[str] = []
    view.path_changed.connect(changes.append)
    widget.open_requested.emit("config/params.json")  # a previewer asks for another path
    shown(qtbot, view, "config/params.json")
    assert view.model.path_of(view.tree.currentIndex()) == "config/params.json"
    assert changes == ["config/params.json"]
    view.select_path("probes/damaged.probe")
    qtbot.waitUntil(lambda: view.host.message_text() == "damaged.probe is damaged.")


def test_a_previewer_bug_reaches_the_crash_dialog(
    qtbot,
    shell,
    written,
    cache_home,
    qt_warnings,
    qapp,  # noqa: ANN001
) -> None:
    from flowdeck.ui.crash import install_exception_hooks

    logged = written("sqlite")
    store = open_store(logged.location)
    router = install_exception_hooks(qapp, modal=False)
    try:
        view = make_view(qtbot, shell, store, logged)
        view.select_path("probes/broken.probe")
        qtbot.waitUntil(lambda: "failed because of a bug" in view.host.message_text())
        qtbot.waitUntil(lambda: bool(router.reports))
        assert "ValueError: a previewer bug" in router.reports[0]
    finally:
        router.uninstall()
        if router.dialog is not None:
            router.dialog.close()
        store.close()


def test_quick_selections_supersede_each_other(
    qtbot, shell, written, cache_home, qt_warnings
) -> None:  # noqa: ANN001
    logged = written("sqlite")
    store = open_store(logged.location)
    try:
        view = make_view(qtbot, shell, store, logged, "many/file-0000.txt")
        paths = [f"many/file-{index:04d}.txt" for index in range(1, 21)]
        for path in paths:
            view.tree.setCurrentIndex(view.model.index_of(path))
        assert len(shell.runner.jobs()) <= 2, "superseded reads are still queued"
        shown(qtbot, view, paths[-1])
        assert shell.runner.wait_idle(10000)
        read = [path for path in paths if view.host.local_file(path) is not None]
        assert len(read) <= 2 and paths[-1] in read
    finally:
        store.close()


def test_a_thousand_files_list_from_one_listing(
    qtbot, shell, written, cache_home, qt_warnings
) -> None:  # noqa: ANN001, E501
    logged = written("files")
    store = open_store(logged.location)
    try:
        view = make_view(qtbot, shell, store, logged)
        entries = store.list_artifacts(logged.run_id, "many")
        assert len(entries) == MANY
        # the stall of a 1,000-file folder is measured in benchmarks/bench_run_page.py
        view.model.set_listing("many", entries)
        view.tree.expand(view.model.index_of("many"))
        view.tree.viewport().repaint()
        QApplication.processEvents()
        assert view.model.rowCount(view.model.index_of("many")) == MANY
    finally:
        store.close()


def test_tree_model_passes_the_model_tester(qtbot, shell, opened, qtmodeltester) -> None:  # noqa: ANN001
    store, logged = opened
    view = make_view(qtbot, shell, store, logged, "plots/deep/inner/leaf.txt")
    shown(qtbot, view, "plots/deep/inner/leaf.txt")
    qtmodeltester.check(view.model)


# --- actions ----------------------------------------------------------------------------------------


def test_copy_uri_and_enter(qtbot, shell, opened) -> None:  # noqa: ANN001
    store, logged = opened
    view = make_view(qtbot, shell, store, logged, "config/params.json")
    view.tree.setFocus()
    qtbot.keyClick(view.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: view.root_uri is not None)
    expected = f"{logged.artifact_uri.rstrip('/')}/config/params.json"
    assert QGuiApplication.clipboard().text() == expected
    assert view.note.text() == f"Copied {expected}"

    view.tree.setCurrentIndex(view.model.index_of("plots"))
    shown(qtbot, view, "plots")
    qtbot.keyClick(view.tree, Qt.Key.Key_Return)
    assert view.tree.isExpanded(view.model.index_of("plots"))
    menu = view.build_menu()
    assert [a.text() for a in menu.actions()] == [
        "Download…",
        "Open with the System's App",
        "Copy URI\tCtrl+C",
        "Refresh",
        "Register Model…",
        "Serve Locally…",
    ]


class UrlCatcher(QObject):
    """Receives the URLs QDesktopServices would hand to the system (a registered handler)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot("QUrl")
    def open(self, url: Any) -> None:
        self.urls.append(url.toLocalFile())


def test_open_with_the_system_app_and_drag_out(qtbot, shell, opened) -> None:  # noqa: ANN001
    store, logged = opened
    view = make_view(qtbot, shell, store, logged, "plots")
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        view.open_external("config/params.json")
        qtbot.waitUntil(lambda: bool(catcher.urls), timeout=15000)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    opened_file = Path(catcher.urls[0])
    assert opened_file.name == "params.json" and b'"lr": 0.1' in opened_file.read_bytes()

    assert view.drag_mime("notes.txt") is None  # never fetched: nothing to carry yet
    selection = view.tree.selectionModel()
    selection.blockSignals(True)  # the row under the mouse, before its preview fetched it
    view.tree.setCurrentIndex(view.model.index_of("notes.txt"))
    selection.blockSignals(False)
    view.tree.startDrag(Qt.DropAction.CopyAction)
    assert view.note.text() == "Downloading; drag again when done"
    qtbot.waitUntil(lambda: view.drag_mime("notes.txt") is not None, timeout=15000)
    urls = view.drag_mime("notes.txt").urls()
    assert Path(urls[0].toLocalFile()).read_text() == "hello flowdeck\n"


def test_refresh_shows_artifacts_logged_since(qtbot, shell, opened) -> None:  # noqa: ANN001
    from mlflow import MlflowClient

    store, logged = opened
    view = make_view(qtbot, shell, store, logged, "notes.txt")
    name = f"late-{uuid.uuid4().hex[:6]}.txt"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        MlflowClient(tracking_uri=logged.tracking_uri).log_text(logged.run_id, "late\n", name)
    assert name not in [row[0] for row in rows(view, "")]
    with qtbot.waitSignal(view.loaded, timeout=15000):
        view.artifact_actions.refresh.trigger()
    assert name in [row[0] for row in rows(view, "")]
    shown(qtbot, view, "notes.txt")
    assert view.model.path_of(view.tree.currentIndex()) == "notes.txt"


def test_screenshot(qtbot, shell, written, cache_home, qt_warnings) -> None:  # noqa: ANN001
    logged = written("sqlite")
    store = open_store(logged.location)
    try:
        view = make_view(qtbot, shell, store, logged, "config/params.json")
        view.tree.expand(view.model.index_of("plots"))
        qtbot.waitUntil(lambda: rows(view, "plots")[0][0] != LOADING_TEXT)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        assert view.grab().save(str(SCREENSHOT))
    finally:
        store.close()
