"""Low-level reads of many small files: whole files as bytes, key folders as dicts."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from flowdeck.core.task_state import TaskState

T = TypeVar("T")
R = TypeVar("R")

_CHUNK = 65536
# Non-blocking open: a FIFO (or a device) inside mlruns/ would otherwise block the read until
# some other program writes to it. It has no effect on regular files.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


class NotRegularFile(OSError):
    """A name in the store is a FIFO, socket or device, not a file MLflow wrote: not read."""


def read_bytes(path: str) -> bytes:
    """The whole file; small files cost one read. Raises ``NotRegularFile`` for a FIFO,
    socket or device (checked on the open descriptor, so it never blocks)."""
    fd = os.open(path, _READ_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file (a pipe or device)", path)
        data = os.read(fd, _CHUNK)
        if len(data) < _CHUNK:
            return data
        chunks = [data]
        while chunk := os.read(fd, _CHUNK * 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_chunks(path: str, size: int = 4 << 20) -> Iterator[bytes]:
    """The file in chunks of ``size`` bytes (opened and checked at once, not on first use).

    For big files parsed piece by piece: no 160 MB join holding the GIL."""
    fd = os.open(path, _READ_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file (a pipe or device)", path)
    except BaseException:
        os.close(fd)
        raise

    def chunks() -> Iterator[bytes]:
        try:
            while chunk := os.read(fd, size):
                yield chunk
        finally:
            os.close(fd)

    return chunks()


def read_text(path: str) -> str:
    """A key file's value as MLflow reads it (UTF-8, no newline translation)."""
    return read_bytes(path).decode("utf-8", errors="replace")


def read_key_folder(
    folder: str, prefix: str = "", skipped: list[str] | None = None
) -> dict[str, bytes]:
    """Every file under ``folder`` as key -> content; subfolders make ``a/b`` keys.

    Names that are not regular files (FIFOs, sockets, devices) are left out and their keys
    appended to ``skipped``.
    """
    found: dict[str, bytes] = {}
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return found
    for entry in entries:
        if entry.is_dir():
            found.update(read_key_folder(entry.path, f"{prefix}{entry.name}/", skipped))
            continue
        try:
            found[prefix + entry.name] = read_bytes(entry.path)
        except NotRegularFile:
            if skipped is not None:
                skipped.append(prefix + entry.name)
    return found


def read_text_folder(folder: str, skipped: list[str] | None = None) -> dict[str, str]:
    """Like ``read_key_folder`` with values decoded as text."""
    return {
        key: value.decode("utf-8", errors="replace")
        for key, value in read_key_folder(folder, skipped=skipped).items()
    }


def key_folder_files(folder: str, prefix: str = "") -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(key, entry) of every file under ``folder``, recursing into subfolders."""
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.is_dir():
            yield from key_folder_files(entry.path, f"{prefix}{entry.name}/")
        else:
            yield prefix + entry.name, entry


def parallel_map(
    function: Callable[[T], R],
    items: Iterable[T],
    workers: int,
    state: TaskState | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> list[R]:
    """``[function(x) for x in items]`` on a thread pool; serial when threads cannot start.

    With a ``state``, items go in batches: the token is checked between batches, nothing more
    is started once it is cancelled, and ``on_batch(batch size)`` follows each finished batch.
    """
    items = list(items)
    if state is not None:
        return _checked_map(function, items, workers, state, on_batch)
    if workers <= 1 or len(items) < 64:
        return [function(item) for item in items]
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flowdeck-files") as pool:
            chunk = max(1, len(items) // (workers * 8))
            batches = [items[i : i + chunk] for i in range(0, len(items), chunk)]
            results = pool.map(lambda batch: [function(item) for item in batch], batches)
            return [result for batch in results for result in batch]
    except RuntimeError:  # "can't start new thread" on a machine short of threads
        return [function(item) for item in items]


def _checked_map(
    function: Callable[[T], R],
    items: list[T],
    workers: int,
    state: TaskState,
    on_batch: Callable[[int], None] | None,
) -> list[R]:
    state.check()
    chunk = max(1, len(items) // (max(1, workers) * 8))
    batches = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    results: list[R] = []

    def run(batch: list[T]) -> list[R]:
        return [] if state.cancelled else [function(item) for item in batch]

    def finished(batch: list[T], batch_results: list[R]) -> None:
        results.extend(batch_results)
        if on_batch is not None:
            on_batch(len(batch))
        state.check()

    if workers <= 1 or len(items) < 64:
        for batch in batches:
            finished(batch, run(batch))
        return results
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flowdeck-files") as pool:
            futures: list[Future[list[R]]] = [pool.submit(run, batch) for batch in batches]
            try:
                for batch, future in zip(batches, futures, strict=True):
                    finished(batch, future.result())
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    except RuntimeError:  # "can't start new thread" on a machine short of threads
        results.clear()
        for batch in batches:
            finished(batch, run(batch))
    return results
