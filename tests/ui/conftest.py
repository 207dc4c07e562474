"""UI test fixtures: QSettings isolated per test, and Qt warnings that fail a test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QMessageLogContext, QSettings, QtMsgType, qInstallMessageHandler

from flowdeck.ui.settings import Settings
from flowdeck.ui.tasks import TaskRunner

# Qt messages that say nothing about Flowdeck (substrings).
# The offscreen platform cannot raise windows or grab the keyboard for popups.
ALLOWED_QT_WARNINGS = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
    "This plugin does not support grabbing the keyboard",
)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Every test gets empty settings in its own tmp folder, never the user's."""
    folder = tmp_path_factory.mktemp("qsettings")
    for settings_format in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(settings_format, QSettings.Scope.UserScope, str(folder / "user"))
        QSettings.setPath(settings_format, QSettings.Scope.SystemScope, str(folder / "system"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    settings = Settings()
    settings.qsettings.clear()
    yield settings
    settings.sync()


class QtMessages:
    """Qt warnings and critical messages seen during a test."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def handle(self, kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
        serious = (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
        if kind in serious and not any(allowed in message for allowed in ALLOWED_QT_WARNINGS):
            self.problems.append(f"{kind.name}: {message}")


@pytest.fixture(autouse=True)
def fail_on_qt_warnings() -> Iterator[QtMessages]:
    """Fails every GUI test at teardown if Qt printed a warning (other than the allow-listed)."""
    messages = QtMessages()
    previous = qInstallMessageHandler(messages.handle)
    try:
        yield messages
    finally:
        qInstallMessageHandler(previous)
    assert not messages.problems, "Qt warned during the test:\n" + "\n".join(messages.problems)


@pytest.fixture
def qt_warnings(fail_on_qt_warnings: QtMessages) -> QtMessages:
    """Qt warnings fail the test (the offscreen platform's popup limits are allowed above)."""
    return fail_on_qt_warnings


@pytest.fixture
def runner(qtbot) -> Iterator[TaskRunner]:  # noqa: ANN001
    """A task runner of its own; every task has finished when the test ends."""
    task_runner = TaskRunner()
    yield task_runner
    task_runner.cancel_all()
    assert task_runner.wait_idle(10_000)


@pytest.fixture
def shell(qapp, qt_warnings):  # noqa: ANN001, ANN201
    """What a page needs (runner, settings, context, write path), without a main window."""
    from flowdeck.ui.shell.context import Context
    from flowdeck.ui.shell.page import Shell
    from flowdeck.ui.shell.writes import WritePath

    task_runner = TaskRunner()
    context = Context()
    yield Shell(task_runner, Settings(), context, WritePath(task_runner, context))
    task_runner.cancel_all()
    task_runner.wait_idle()


@pytest.fixture(scope="session")
def comparison_frame(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """Eight runs written by MLflow for the comparison charts (see helpers/comparison_runs)."""
    from tests.helpers.comparison_runs import write_comparison_frame

    return write_comparison_frame(tmp_path_factory.mktemp("comparison"))


@pytest.fixture
def comparison_table(qapp, comparison_frame, fail_on_qt_warnings):  # noqa: ANN001, ANN201
    from flowdeck.core.runs_table import RunsTable

    return RunsTable.build(comparison_frame)


@pytest.fixture
def unthrottled_mouse() -> Iterator[None]:
    """pyqtgraph drops mouse moves closer than 10 ms apart; synthetic drags are faster."""
    import pyqtgraph as pg

    previous = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOption("mouseRateLimit", 0)
    yield
    pg.setConfigOption("mouseRateLimit", previous)
