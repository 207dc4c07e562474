"""The cancel/progress token that long work and store calls accept (Qt-free, thread-safe)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flowdeck.core.errors import Cancelled

# Progress reports closer together than this are dropped (the last one, done == total, never is).
PROGRESS_INTERVAL_S = 0.05


class TaskState:
    """What a task function sees: the cancel flag and a progress reporter (thread-safe)."""

    def __init__(self, report_progress: Callable[[int, int, str], None] | None = None) -> None:
        self._cancel_event = threading.Event()
        self._report_progress = report_progress
        self._last_progress = 0.0

    @property
    def cancelled(self) -> bool:
        """True once the task was cancelled or superseded."""
        return self._cancel_event.is_set()

    def cancel(self) -> None:
        self._cancel_event.set()

    def check(self) -> None:
        """Raise ``Cancelled`` if the task was cancelled (call it between chunks of work)."""
        if self._cancel_event.is_set():
            raise Cancelled("The task was cancelled.")

    def progress(self, done: int, total: int, text: str = "") -> None:
        """Report progress; reports are throttled, and dropped once cancelled."""
        if self._report_progress is None or self.cancelled:
            return
        now = time.monotonic()
        if done < total and now - self._last_progress < PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        self._report_progress(done, total, text)


def check(state: TaskState | None) -> None:
    """``state.check()`` when a token was given (store calls take ``state=None``)."""
    if state is not None:
        state.check()
