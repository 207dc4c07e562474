"""The span objects of a ``traces.json`` document, parsed a few MB at a time.

A 100,000-span trace is a 160 MB file. Reading it whole, decoding it to one string and parsing
it in one call would hold the GIL for hundreds of milliseconds (the window freezes); here the
file is read in chunks (the GIL is released while reading), each chunk decoded on its own and
every span parsed with one short call, so no step holds the GIL for more than a few ms.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from flowdeck.core.errors import CorruptStore

CHUNK = 4 << 20
_DECODER = json.JSONDecoder()
_SPACE_RE = re.compile(r"[ \t\n\r]*")
_NUMBER_TAIL = re.compile(r"[0-9.eE+\-]*")


class _Stream:
    """Text arriving chunk by chunk; ``at`` is the parse position in ``text``."""

    def __init__(self, chunks: Iterable[bytes | str]) -> None:
        self._chunks: Iterator[bytes | str] = iter(chunks)
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self.text, self.at, self.done = "", 0, False

    def more(self, count: int = 1) -> bool:
        """Append up to ``count`` chunks (dropping the parsed text); False once at the end."""
        if self.done:
            return False
        parts = [self.text[self.at :]]
        for _ in range(count):
            chunk = next(self._chunks, None)
            if chunk is None:
                parts.append(self._utf8.decode(b"", final=True))
                self.done = True
                break
            parts.append(chunk if isinstance(chunk, str) else self._utf8.decode(chunk))
        self.text, self.at = "".join(parts), 0
        return True

    def skip(self, expected: str = "") -> str:
        """Skip white space, then one character of ``expected`` (when given); the next char."""
        while True:
            self.at = _SPACE_RE.match(self.text, self.at).end()  # type: ignore[union-attr]
            if self.at < len(self.text) or not self.more():
                break
        found = self.text[self.at : self.at + 1]
        if expected:
            if not found or found not in expected:
                where = repr(found) if found else "the end of the data"
                raise ValueError(f"expected {expected!r}, found {where}")
            self.at += 1
        return found

    def value(self) -> Any:
        """The JSON value at ``at`` (read further until it is complete)."""
        count = 1
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.at)
            except ValueError:
                if self.done:
                    raise
            else:  # a number at the end of the text may go on in the next chunk ("-0." "5")
                if self.done or (
                    end < len(self.text)
                    and not (
                        type(value) in (int, float)
                        and _NUMBER_TAIL.match(self.text, end).end() == len(self.text)  # type: ignore[union-attr]
                    )
                ):
                    self.at = end
                    return value
            self.more(count)
            count *= 2  # a huge value: read ahead more each time (no quadratic re-parsing)


def _items(stream: _Stream) -> list[Any]:
    """The items of the JSON array opening at the stream's position."""
    items: list[Any] = []
    stream.skip("[")
    if stream.skip() == "]":
        stream.at += 1
        return items
    while True:
        items.append(stream.value())
        mark = stream.skip(",]")
        if mark == "]":
            return items
        stream.skip()


def _spans(stream: _Stream) -> list[Any]:
    if stream.skip() == "[":
        spans: Any = _items(stream)
    else:
        spans = None
        stream.skip("{")
        while stream.skip() != "}":
            key = stream.value()
            stream.skip(":")
            if stream.skip() == "[" and key == "spans":
                spans = _items(stream)
            else:
                stream.value()
            if stream.skip(",}") == "}":
                break
        else:
            stream.at += 1
    if stream.skip():
        raise ValueError("extra data after the document")
    if not isinstance(spans, list):
        raise CorruptStore("traces.json has no list of spans.")
    return spans


def span_items_of_chunks(chunks: Iterable[bytes | str]) -> list[Any]:
    """The span objects of a ``traces.json`` document given as chunks of its bytes (or text).

    ``{"spans": [...]}`` or a bare list; raises ``CorruptStore`` for invalid or truncated JSON.
    """
    try:
        return _spans(_Stream(chunks))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptStore(f"traces.json is not valid JSON: {exc}") from exc


def span_items(text: str | bytes) -> list[Any]:
    """The span objects of a whole ``traces.json`` document (see ``span_items_of_chunks``)."""
    view = memoryview(text) if isinstance(text, bytes) else None
    if view is None:
        return span_items_of_chunks([text])
    return span_items_of_chunks(view[at : at + CHUNK] for at in range(0, len(view), CHUNK))
