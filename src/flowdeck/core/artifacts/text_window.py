"""Windows of a text file by byte offsets (head, tail, next chunk, around a match) and chunked search."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flowdeck.core.task_state import TaskState

MIB = 1024 * 1024
WHOLE_BYTES = 4 * MIB  # files up to this size are read whole
HEAD_BYTES = 1 * MIB
TAIL_BYTES = 1 * MIB
CHUNK_BYTES = 1 * MIB  # "load more" and the window around a search match
SEARCH_CHUNK_BYTES = 1 * MIB
MAX_MATCHES = 10_000
MAX_CHAR_BYTES = 4  # a UTF-8 character

Readable = Path | str | BinaryIO


@dataclass(frozen=True)
class TextWindow:
    """The decoded text of the bytes ``[start, end)`` of a file of ``size`` bytes."""

    text: str
    start: int
    end: int
    size: int
    bytes_read: int  # what reading the window cost, cut-off bytes included
    longest_line: int = -1  # in characters; -1: measure it

    def __post_init__(self) -> None:
        if self.longest_line < 0:
            longest = max((len(line) for line in self.text.split("\n")), default=0)
            object.__setattr__(self, "longest_line", longest)


def decode(data: bytes) -> str:
    """UTF-8 with replacement characters; Windows line ends become ``\\n``."""
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n")


def utf16_length(text: str) -> int:
    """The length of ``text`` as a Qt document counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le", errors="surrogatepass")) // 2


@contextlib.contextmanager
def _opened(source: Readable) -> Iterator[BinaryIO]:
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            yield handle
    else:
        yield source


def _size(handle: BinaryIO) -> int:
    position = handle.tell()
    size = handle.seek(0, 2)
    handle.seek(position)
    return size


def _read(handle: BinaryIO, offset: int, count: int) -> bytes:
    handle.seek(offset)
    parts: list[bytes] = []
    remaining = count
    while remaining > 0:
        part = handle.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _char_start(data: bytes, index: int) -> int:
    """``index`` moved back (at most 3 bytes) to the start of a UTF-8 character."""
    floor = max(0, index - MAX_CHAR_BYTES + 1)
    while index > floor and 0x80 <= data[index] < 0xC0:
        index -= 1
    return index


def _cut_end(data: bytes, at_eof: bool) -> int:
    """Where a window read from a line start ends: after its last newline (whole lines)."""
    if at_eof or not data:
        return len(data)
    newline = data.rfind(b"\n")
    if newline >= 0:
        return newline + 1
    return _char_start(data, len(data) - 1) if len(data) > 1 else len(data)  # one huge line


def _cut_start(data: bytes, at_line_start: bool) -> int:
    """Where a window read from the middle of a line starts: after its first newline, or at
    the first whole character when the window is one part of a huge line."""
    if at_line_start or not data:
        return 0
    newline = data.find(b"\n")
    if 0 <= newline < len(data) - 1:
        return newline + 1
    index = 0
    while index < min(len(data), MAX_CHAR_BYTES - 1) and 0x80 <= data[index] < 0xC0:
        index += 1
    return index


@dataclass(frozen=True)
class TextStart:
    """What a text preview shows first: the whole file, or its head and its tail."""

    path: Path
    size: int
    head: TextWindow
    tail: TextWindow | None  # None when the head is the whole file

    @property
    def bytes_read(self) -> int:
        return self.head.bytes_read + (self.tail.bytes_read if self.tail else 0)

    @property
    def longest_line(self) -> int:
        return max(self.head.longest_line, self.tail.longest_line if self.tail else 0)


def open_text(
    path: Path,
    *,
    whole: int = WHOLE_BYTES,
    head: int = HEAD_BYTES,
    tail: int = TAIL_BYTES,
) -> TextStart:
    """The whole file when it has at most ``whole`` bytes, else its head and its tail."""
    with open(path, "rb") as handle:
        size = _size(handle)
        if size <= whole:
            return TextStart(path, size, read_chunk(handle, 0, whole), None)
        first = read_head(handle, head)
        last = read_tail(handle, tail, not_before=first.end)
        return TextStart(path, size, first, last)


def read_head(source: Readable, limit: int = HEAD_BYTES) -> TextWindow:
    """The first ``limit`` bytes at most, ending after a newline unless the file ends there."""
    return read_chunk(source, 0, limit)


def read_chunk(
    source: Readable, offset: int, limit: int = CHUNK_BYTES, *, end: int | None = None
) -> TextWindow:
    """The whole lines starting at byte ``offset`` (a line start), at most ``limit`` bytes and
    never past ``end`` (the start of text already loaded after it)."""
    with _opened(source) as handle:
        size = _size(handle)
        stop = size if end is None else min(end, size)
        count = max(0, min(limit, stop - offset))
        data = _read(handle, offset, count)
        cut = _cut_end(data, offset + len(data) >= stop)
        return TextWindow(decode(data[:cut]), offset, offset + cut, size, len(data))


def read_tail(source: Readable, limit: int = TAIL_BYTES, *, not_before: int = 0) -> TextWindow:
    """The last ``limit`` bytes at most, starting at a line start (never before ``not_before``)."""
    with _opened(source) as handle:
        size = _size(handle)
        first = max(not_before, size - limit)
        data = _read(handle, first, size - first)
        cut = _cut_start(data, first == not_before)
        return TextWindow(decode(data[cut:]), first + cut, size, size, len(data))


def read_around(
    source: Readable,
    offset: int,
    limit: int = CHUNK_BYTES,
    *,
    not_before: int = 0,
    end: int | None = None,
) -> tuple[TextWindow, int]:
    """Whole lines around byte ``offset`` (about half of ``limit`` before it), within
    ``[not_before, end)`` — the gap between two loaded windows — and where ``offset`` lands
    in the window's text, in Qt document units."""
    with _opened(source) as handle:
        size = _size(handle)
        stop = size if end is None else min(end, size)
        first = max(not_before, min(offset, stop) - limit // 2)
        last = min(stop, first + limit)
        data = _read(handle, first, last - first)
    local = offset - first
    head_cut = _cut_start(data, first == not_before)
    if head_cut > local:  # the match's line starts before the window: begin at the match
        head_cut = _char_start(data, local) if local < len(data) else local
    tail_cut = _cut_end(data, last >= stop)
    if tail_cut <= local:  # no line end after the match inside the window
        tail_cut = len(data) if last >= stop else max(local + 1, _char_start(data, len(data) - 1))
    window = TextWindow(
        decode(data[head_cut:tail_cut]), first + head_cut, first + tail_cut, size, len(data)
    )
    return window, utf16_length(decode(data[head_cut:local]))


def units_before(source: Readable, start: int, offset: int) -> tuple[int, int]:
    """``(position, bytes read)``: where byte ``offset`` lands, in Qt document units, in the
    text of a window starting at byte ``start``."""
    with _opened(source) as handle:
        data = _read(handle, start, max(0, offset - start))
    return utf16_length(decode(data)), len(data)


def search_file(
    state: TaskState | None,
    source: Readable,
    needle: str,
    *,
    case_sensitive: bool = False,
    max_matches: int = MAX_MATCHES,
    chunk_bytes: int = SEARCH_CHUNK_BYTES,
) -> list[int]:
    """Byte offsets of the (non-overlapping) matches of ``needle`` in the file, in order, at
    most ``max_matches``; reads ``chunk_bytes`` at a time and stops when cancelled.

    Without ``case_sensitive`` only ASCII letters are folded (bytes are compared, not text).
    """
    pattern = needle.encode("utf-8")
    if not pattern:
        return []
    if not case_sensitive:
        pattern = pattern.lower()
    matches: list[int] = []
    overlap = len(pattern) - 1
    with _opened(source) as handle:
        size = _size(handle)
        handle.seek(0)
        carry = b""
        carry_start = 0  # file offset of carry[0]
        done = 0
        next_allowed = 0  # a match may not start inside the previous one
        while len(matches) < max_matches:
            if state is not None:
                state.check()
            chunk = handle.read(chunk_bytes)
            if not chunk:
                break
            done += len(chunk)
            data = carry + chunk
            haystack = data if case_sensitive else data.lower()
            index = haystack.find(pattern, max(0, next_allowed - carry_start))
            while index >= 0 and len(matches) < max_matches:
                matches.append(carry_start + index)
                next_allowed = carry_start + index + len(pattern)
                index = haystack.find(pattern, index + len(pattern))
            keep = min(overlap, len(data))
            carry_start += len(data) - keep
            carry = data[len(data) - keep :] if keep else b""
            if state is not None:
                state.progress(done, size, "Searching the file…")
    return matches


# --- a partly loaded document -----------------------------------------------------------------


def size_text(size: int) -> str:
    """A byte count for people: ``812 bytes``, ``3.4 KB``, ``46.0 MB``."""
    if size < 1024:
        return f"{size:,} bytes"
    if size < MIB:
        return f"{size / 1024:,.1f} KB"
    return f"{size / MIB:,.1f} MB"


def marker_text(start: int, end: int) -> str:
    """The line standing for the bytes ``[start, end)`` that are not loaded."""
    return f"… {size_text(end - start)} not loaded — scroll or press Load more\n"


@dataclass(eq=False)
class Segment:
    """A stretch of the document: loaded bytes ``[start, end)``, or a gap (its marker line)."""

    start: int
    end: int
    units: int  # its length in the document, in Qt units
    gap: bool = False


@dataclass(frozen=True)
class Edit:
    """Replace ``[position, position + removed)`` of the document by ``pieces`` (text, is a
    marker); the window's text then starts at ``window_position``."""

    position: int
    removed: int
    pieces: tuple[tuple[str, bool], ...]
    window_position: int


class TextLayout:
    """Which bytes of a file the document shows, in byte order, with a marker line per gap."""

    def __init__(self, start: TextStart) -> None:
        self.size = start.size
        head, tail = start.head, start.tail
        text = head.text
        gap_end = tail.start if tail is not None else start.size
        if head.end < gap_end and not text.endswith("\n"):
            text += "\n"  # a head cut inside one huge line: the marker gets a line of its own
        self.segments = [Segment(head.start, head.end, utf16_length(text))]
        pieces = [(text, False)]
        if head.end < gap_end:
            marker = marker_text(head.end, gap_end)
            self.segments.append(Segment(head.end, gap_end, utf16_length(marker), gap=True))
            pieces.append((marker, True))
        if tail is not None:
            self.segments.append(Segment(tail.start, tail.end, utf16_length(tail.text)))
            pieces.append((tail.text, False))
        self.pieces = tuple(pieces)  # the first document

    @property
    def gaps(self) -> list[Segment]:
        return [segment for segment in self.segments if segment.gap]

    @property
    def loaded_bytes(self) -> int:
        return sum(segment.end - segment.start for segment in self.segments if not segment.gap)

    def position_of(self, segment: Segment) -> int:
        """Where ``segment`` starts in the document."""
        position = 0
        for known in self.segments:
            if known is segment:
                return position
            position += known.units
        raise ValueError("The segment is no longer in the document.")

    def segment_at(self, offset: int) -> Segment | None:
        return next((s for s in self.segments if s.start <= offset < s.end), None)

    def fill(self, gap: Segment, window: TextWindow) -> Edit | None:
        """Put ``window`` (read inside ``gap``) where its bytes belong; None if the gap is gone."""
        if not any(known is gap for known in self.segments):
            return None
        index = next(i for i, known in enumerate(self.segments) if known is gap)
        position = self.position_of(gap)
        new: list[Segment] = []
        pieces: list[tuple[str, bool]] = []
        if window.start > gap.start:
            marker = marker_text(gap.start, window.start)
            new.append(Segment(gap.start, window.start, utf16_length(marker), gap=True))
            pieces.append((marker, True))
        text = window.text
        if window.end < gap.end and not text.endswith("\n"):
            text += "\n"
        window_position = position + sum(segment.units for segment in new)
        loaded = Segment(window.start, window.end, utf16_length(text))
        previous = self.segments[index - 1] if index else None
        if window.start == gap.start and previous is not None and not previous.gap:
            previous.end, previous.units = loaded.end, previous.units + loaded.units
        else:
            new.append(loaded)
        pieces.append((text, False))
        if window.end < gap.end:
            marker = marker_text(window.end, gap.end)
            new.append(Segment(window.end, gap.end, utf16_length(marker), gap=True))
            pieces.append((marker, True))
        self.segments[index : index + 1] = new
        return Edit(position, gap.units, tuple(pieces), window_position)
