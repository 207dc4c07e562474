"""The previewer contract: what a preview is asked to show, and how previewers register."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from flowdeck.core.entities import ArtifactEntry
from flowdeck.core.task_state import TaskState

#: ``fetch(state, artifact_path) -> local file`` on a worker thread: the file in place for a
#: local store, else downloaded once into the store's cache (reports progress, stops on cancel).
Fetch = Callable[[TaskState, str], Path]


@dataclass(frozen=True)
class PreviewSource:
    """One file or folder of a run's artifacts, as the browser hands it to a previewer."""

    run_id: str
    path: str  # relative to the run's artifact root; "" is the root
    is_dir: bool
    kind: str  # flowdeck.core.artifacts.kinds for a file, "folder" for a folder
    size: int | None = None
    entries: tuple[ArtifactEntry, ...] = field(default_factory=tuple)  # a folder's children
    fetch: Fetch | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1] if self.path else ""


class Previewer(QWidget):
    """Shows one kind of artifact. The host calls, in order:

    1. ``accepts(source)`` (class method, GUI thread, no I/O) — a score, 0 for "not mine";
       the highest score wins, ``HexPreviewer``-style fallbacks return 1;
    2. ``prepare(state, source)`` (static, on a worker thread, Qt-free work only) — reads what
       the preview needs through ``source.fetch`` and returns plain data; it raises a
       ``FlowdeckError`` with a plain message for a broken or unreadable file;
    3. ``show_data(data)`` on the GUI thread, cheap (no parsing of whole files here).

    A previewer that loads more later (text on scroll) submits through ``self.runner`` with
    ``owner=self``; ``open_requested`` asks the host to show another artifact path.
    """

    title: ClassVar[str] = ""
    open_requested = Signal(str)  # another artifact path to show (a gallery's next image)
    message = Signal(str)  # a short status text

    def __init__(self, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner

    @classmethod
    def accepts(cls, source: PreviewSource) -> int:
        return 0

    @staticmethod
    def prepare(state: TaskState, source: PreviewSource) -> Any:
        raise NotImplementedError

    def show_data(self, data: Any) -> None:
        raise NotImplementedError


PREVIEWERS: list[type[Previewer]] = []


def previewer(cls: type[Previewer]) -> type[Previewer]:
    """Class decorator registering a previewer with the host."""
    PREVIEWERS.append(cls)
    return cls


def best_previewer(source: PreviewSource) -> type[Previewer] | None:
    """The registered previewer with the highest score for ``source`` (None if none wants it)."""
    import flowdeck.ui.artifacts.previews  # noqa: F401 - registers every previewer

    scored = [(cls.accepts(source), index, cls) for index, cls in enumerate(PREVIEWERS)]
    scored = [entry for entry in scored if entry[0] > 0]
    return max(scored)[2] if scored else None
