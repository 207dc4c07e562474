"""Artifact transfers with progress and cancel: the per-run download cache, and copies out of it.

The cache rule. Remote artifacts of one run are kept in
``<user cache>/flowdeck/artifacts/<hash of store location + run id>/<stamp>/``, where the
stamp is the run's end time in milliseconds (``active`` while the run has none):

* a run that is resumed and ends again gets a new stamp, so everything is fetched again (the
  folders of the run's older stamps are deleted then);
* inside one stamp, a cached file is reused only while its size equals the size the store
  lists now: an artifact logged again with a different size is fetched again, and one logged
  after the last fetch is fetched when first asked for. An artifact rewritten with exactly the
  same size while the stamp stays is the one change this rule cannot see (Refresh does not
  help then; clearing the cache folder does).

Every file is written under ``<hash>/.partial/`` first and renamed into place once complete,
so a cancelled or failed download never leaves a file that looks complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from flowdeck.core.entities import ArtifactEntry
from flowdeck.core.errors import CorruptStore, FlowdeckError, NotFound
from flowdeck.core.task_state import TaskState, check

CHUNK_BYTES = 1 << 16
ACTIVE_STAMP = "active"
PARTIAL = ".partial"
#: A folder walk stops past this many nested folders or this many listed entries.
MAX_TREE_DEPTH = 64
MAX_TREE_ENTRIES = 100_000

#: ``lister(relative_dir) -> entries`` with paths relative to the artifact root.
Lister = Callable[[str], list[ArtifactEntry]]
#: ``download(relative_file, destination, on_bytes)``: writes the file to ``destination``,
#: calling ``on_bytes(count)`` after each chunk when it can (that call raises on cancel).
Download = Callable[[str, Path, Callable[[int], None]], None]


class TreeTooLarge(FlowdeckError):
    """An artifact folder is nested too deep or holds too many entries to fetch as a whole."""


class Streamed(Protocol):
    """What ``http_download`` needs of a response (``requests.Response`` fits)."""

    def iter_content(self, chunk_size: int) -> Iterable[bytes]: ...


def run_stamp(end_time: int | None) -> str:
    """The cache stamp of a run: its end time, or ``active`` while it runs."""
    return str(int(end_time)) if end_time else ACTIVE_STAMP


def run_cache(run_folder: Path, stamp: str) -> Path:
    """The stamp's folder inside a run's cache folder; other stamps of the run are deleted."""
    if run_folder.is_dir():
        for child in run_folder.iterdir():
            if child.name not in (stamp, PARTIAL) and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
    return run_folder / stamp


class Transfer:
    """Byte progress and cancel checks of one fetch or copy (``state=None`` costs nothing)."""

    def __init__(self, state: TaskState | None, total_bytes: int, files: int, verb: str) -> None:
        self.state = state
        self.total_bytes = total_bytes
        self.files = files
        self.verb = verb
        self.done_bytes = 0
        self.done_files = 0
        self._file_bytes = 0

    def add(self, count: int) -> None:
        """``count`` more bytes of the current file: report, then raise if cancelled."""
        self._file_bytes += count
        self.done_bytes += count
        self._report()

    def file_done(self, size: int | None) -> None:
        """One more file is complete (``size`` accounts for bytes no chunk reported)."""
        if size is not None and size > self._file_bytes:
            self.done_bytes += size - self._file_bytes
        self._file_bytes = 0
        self.done_files += 1
        self._report()

    def _report(self) -> None:
        if self.state is None:
            return
        text = f"{self.verb} {min(self.done_files + 1, self.files)} of {self.files} files"
        if self.files == 1:
            text = f"{self.verb} 1 file"
        if self.total_bytes > 0:
            self.state.progress(min(self.done_bytes, self.total_bytes), self.total_bytes, text)
        else:
            self.state.progress(self.done_files, max(self.files, 1), text)
        self.state.check()


def fetch_remote(
    relative: str,
    folder: Path,
    lister: Lister,
    download: Download,
    state: TaskState | None = None,
) -> Path:
    """``relative`` (a file, a folder, "" for the root) below ``folder``, downloading only the
    files not already there with the listed size. Every listed name is checked first."""
    from flowdeck.store.artifacts import inside

    check(state)
    files, folders = _plan(relative, folder, lister, state)
    transfer = Transfer(state, sum(entry.file_size or 0 for entry in files), len(files), "Fetching")
    partial = folder.parent / PARTIAL
    for entry in files:
        check(state)
        destination = inside(folder, entry.path)
        if destination.is_file() and (
            entry.file_size is None or destination.stat().st_size == entry.file_size
        ):
            transfer.file_done(entry.file_size)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(partial, destination, _fetcher(download, entry.path, transfer))
        transfer.file_done(entry.file_size)
    for name in folders:
        (inside(folder, name) if name else folder).mkdir(parents=True, exist_ok=True)
    return inside(folder, relative) if relative else folder.resolve()


def _fetcher(download: Download, relative: str, transfer: Transfer) -> Callable[[Path], None]:
    return lambda temporary: download(relative, temporary, transfer.add)


def _plan(
    relative: str, folder: Path, lister: Lister, state: TaskState | None
) -> tuple[list[ArtifactEntry], list[str]]:
    """The files to fetch and the folders to create for ``relative``."""
    from flowdeck.store.artifacts import inside

    if relative:
        parent = relative.rpartition("/")[0]
        siblings = lister(parent)
        for entry in siblings:
            inside(folder, entry.path)
        match = next((entry for entry in siblings if entry.path == relative), None)
        if match is None:
            raise NotFound(f"There is no artifact '{relative}' in this run.")
        if not match.is_dir:
            return [match], []
    files: list[ArtifactEntry] = []
    folders = [relative]
    pending = [relative]
    base_depth = _depth(relative)
    listed = 0
    while pending:
        check(state)
        directory = pending.pop()
        if _depth(directory) - base_depth > MAX_TREE_DEPTH:
            raise TreeTooLarge(
                f"Flowdeck stopped fetching '{relative or 'the artifacts'}': its folders are "
                f"nested more than {MAX_TREE_DEPTH} levels deep. Fetch a folder further down."
            )
        for entry in lister(directory):
            listed += 1
            if listed > MAX_TREE_ENTRIES:
                raise TreeTooLarge(
                    f"Flowdeck stopped fetching '{relative or 'the artifacts'}': it holds more "
                    f"than {MAX_TREE_ENTRIES:,} files and folders. Fetch a smaller folder."
                )
            inside(folder, entry.path)
            if entry.path == directory:
                continue
            if directory and not entry.path.startswith(directory + "/"):
                raise CorruptStore(f"The artifact name '{entry.path}' is not inside '{directory}'.")
            if entry.is_dir:
                folders.append(entry.path)
                pending.append(entry.path)
            else:
                files.append(entry)
    return files, folders


def _depth(relative: str) -> int:
    return relative.count("/") + 1 if relative else 0


def _write_atomically(partial: Path, destination: Path, write: Callable[[Path], Any]) -> None:
    """``write(temporary)`` below ``partial``, then rename to ``destination``; never half."""
    partial.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".flowdeck-part-", dir=partial)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def http_download(open_stream: Callable[[str], AbstractContextManager[Streamed]]) -> Download:
    """A ``Download`` over streamed HTTP responses: ``open_stream(relative)`` starts one."""

    def download(relative: str, destination: Path, on_bytes: Callable[[int], None]) -> None:
        with open_stream(relative) as response, destination.open("wb") as out:
            for chunk in response.iter_content(CHUNK_BYTES):
                out.write(chunk)
                on_bytes(len(chunk))

    return download


def whole_file(download: Callable[[str, Path], None]) -> Download:
    """A ``Download`` over a writer that cannot report chunks (cloud repositories)."""
    return lambda relative, destination, _on_bytes: download(relative, destination)


# --- copies out of the cache (the Download… action) ---------------------------------------------


def free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name (2)``, ``name (3)``… when that is taken."""
    candidate = folder / name
    stem, dot, suffix = name.partition(".") if not name.startswith(".") else (name, "", "")
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem} ({number}){dot}{suffix}"
        number += 1
    return candidate


def export(state: TaskState | None, source: Path, folder: Path, name: str) -> Path:
    """Copy a fetched file or folder into ``folder`` under a free name (never overwriting).

    The copy is built under a hidden temporary name and renamed at the end: a cancelled or
    failed copy leaves nothing in ``folder``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = free_name(folder, name or source.name)
    if source.is_file():
        transfer = Transfer(state, source.stat().st_size, 1, "Copying")
        _write_atomically(folder, target, lambda part: _copy_file(source, part, transfer))
        return target
    pairs = [
        (Path(top) / file_name, Path(top).relative_to(source) / file_name)
        for top, _dirs, file_names in os.walk(source)
        for file_name in file_names
    ]
    total = sum(path.stat().st_size for path, _ in pairs)
    transfer = Transfer(state, total, len(pairs), "Copying")
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.part-", dir=folder))
    try:
        for top, dirs, _files in os.walk(source):
            for directory in dirs:
                (building / Path(top).relative_to(source) / directory).mkdir(exist_ok=True)
        for path, inner in pairs:
            check(state)
            _copy_file(path, building / inner, transfer)
        os.replace(building, target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return target


def _copy_file(source: Path, destination: Path, transfer: Transfer) -> None:
    with source.open("rb") as inp, destination.open("wb") as out:
        while chunk := inp.read(CHUNK_BYTES):
            out.write(chunk)
            transfer.add(len(chunk))
    shutil.copystat(source, destination, follow_symlinks=True)
    transfer.file_done(None)
