"""UI test fixtures: QSettings isolated per test, and Qt warnings that fail a test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QMessageLogContext, QSettings, QtMsgType, qInstallMessageHandler

from flowdeck.ui.settings import Settings

# Qt messages that say nothing about Flowdeck (substrings).
ALLOWED_QT_WARNINGS = ("This plugin does not support propagateSizeHints()",)


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


@pytest.fixture
def fail_on_qt_warnings() -> Iterator[QtMessages]:
    """Fails the test at teardown if Qt printed a warning (other than the allow-listed ones)."""
    messages = QtMessages()
    previous = qInstallMessageHandler(messages.handle)
    try:
        yield messages
    finally:
        qInstallMessageHandler(previous)
    assert not messages.problems, "Qt warned during the test:\n" + "\n".join(messages.problems)
