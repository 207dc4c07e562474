"""``traces.json`` parsed chunk by chunk: any chunk size gives what ``json.loads`` gives."""

from __future__ import annotations

import json

import pytest

from flowdeck.core.errors import CorruptStore
from flowdeck.core.span_json import span_items, span_items_of_chunks

SPANS = [
    {"name": "é — 中文 🚀", "start_time_unix_nano": 1234567890123, "attributes": {"k": '"v"'}},
    {"name": "b", "events": [{"name": "x", "timestamp": 5}], "n": 12345678901234567890},
    7,
    -0.5,
    'text with ], } and \\" inside',
    None,
    [],
]
DOCUMENTS = [
    json.dumps({"spans": SPANS}),
    json.dumps({"before": {"spans": 1}, "spans": SPANS, "after": [1, 2]}, indent=2),
    json.dumps(SPANS),
    '  {"spans" : [ ] }  ',
    "[]",
]


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[at : at + size] for at in range(0, len(data), size)]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_chunk_size_gives_the_same_items(document: str) -> None:
    loaded = json.loads(document)
    expected = loaded if isinstance(loaded, list) else loaded["spans"]
    data = document.encode()
    for size in (*range(1, 18), 64, 1 << 20):  # splits numbers, strings and UTF-8 sequences
        assert span_items_of_chunks(chunks(data, size)) == expected, size
    assert span_items(data) == span_items(document) == expected


@pytest.mark.parametrize(
    "document",
    [
        '{"spans": [1, 2',  # truncated
        '{"spans": [1, 2,]}',
        '{"spans": [1] } x',  # extra data
        '{"spans": [{"a": 1}]',
        '{"no_spans": 1}',
        '{"spans": {"a": 1}}',
        "",
        "\x00garbage",
    ],
)
def test_damaged_documents_are_corrupt(document: str) -> None:
    for size in (1, 3, 1 << 20):
        with pytest.raises(CorruptStore):
            span_items_of_chunks(chunks(document.encode(), size))


def test_invalid_utf8_is_corrupt() -> None:
    with pytest.raises(CorruptStore):
        span_items_of_chunks([b'{"spans": ["\xff"]}'])
