"""Progress reports and cancel checks of long store calls, on the caller's ``TaskState``."""

from __future__ import annotations

from collections.abc import Callable

from flowdeck.core.task_state import TaskState


class Progress:
    """Counts the finished chunks of one store call and reports them on its token.

    Without a token every method returns at once: ``state=None`` calls pay nothing.
    """

    __slots__ = ("done", "state", "text", "total")

    def __init__(self, state: TaskState | None, total: int, text: str) -> None:
        self.state = state
        self.total = total
        self.text = text
        self.done = 0

    def check(self) -> None:
        """Raise ``Cancelled`` if the task was cancelled."""
        if self.state is not None:
            self.state.check()

    def say(self, text: str) -> None:
        """Report ``text`` with the count so far (later reports keep it; any thread)."""
        self.text = text
        if self.state is not None and not self.state.cancelled:
            self.state.progress(self.done, self.total, text)

    def advance(self, count: int = 1) -> None:
        """``count`` more items are done: report it, then raise ``Cancelled`` if cancelled."""
        if self.state is None:
            return
        self.state.check()  # (cancelled by an earlier report: this one is not made)
        self.done = min(self.done + count, self.total)
        self.state.progress(self.done, self.total, self.text)
        self.state.check()


class SubtaskState(TaskState):
    """A task's token for one store call inside it: the task's cancel flag, its own progress.

    ``report`` receives the call's (done, total, text) and maps it onto the whole task.
    """

    def __init__(self, task: TaskState, report: Callable[[int, int, str], None]) -> None:
        super().__init__(report)
        self._task = task

    @property
    def cancelled(self) -> bool:
        return self._task.cancelled

    def cancel(self) -> None:
        self._task.cancel()

    def check(self) -> None:
        self._task.check()
