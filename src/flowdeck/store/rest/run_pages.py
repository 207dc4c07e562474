"""The pages of one ``runs/search`` from a tracking server, several asked for at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flowdeck.core.task_state import TaskState
from flowdeck.store.rest.client import RestClient, _items, _token
from flowdeck.store.rest.offset_pages import NotOffsets, offset_of, offset_pages

ENDPOINT = "runs/search"
RUNS_PER_PAGE = 1_000
PAGES_IN_FLIGHT = 4  # the server's workers list pages in parallel


def search_pages(
    client: RestClient,
    payload: dict[str, Any],
    state: TaskState | None = None,
    on_page: Callable[[int], None] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """The pages of one runs search, in the server's order. ``payload["max_results"]`` is the
    page size; when the server's page tokens are MLflow's offsets, ``PAGES_IN_FLIGHT`` pages
    after the first are asked for at a time. ``on_page`` is told each page's size as it
    arrives; ``state`` is checked before each request."""
    counted = on_page or (lambda _runs: None)
    if state is not None:
        state.check()
    first = client.post(ENDPOINT, payload, is_search=True)
    first_items = _items(first, ENDPOINT, "runs")
    counted(len(first_items))
    yield first_items
    token = _token(first, ENDPOINT)
    size = int(payload["max_results"])
    if token and offset_of(token) == size:

        def page(page_token: str) -> tuple[list[dict[str, Any]], str | None]:
            if state is not None:
                state.check()
            answer = client.post(ENDPOINT, {**payload, "page_token": page_token}, is_search=True)
            return _items(answer, ENDPOINT, "runs"), _token(answer, ENDPOINT)

        try:
            arrived = []
            for offset, items in offset_pages(page, size, size, PAGES_IN_FLIGHT):
                counted(len(items))
                arrived.append((offset, items))
        except NotOffsets:
            pass  # read page after page below (callers skip a run seen twice)
        else:
            arrived.sort(key=lambda offset_items: offset_items[0])
            for _, items in arrived:
                yield items
            return
    if token:
        rest = {**payload, "page_token": token}
        for items in client.iter_pages("POST", ENDPOINT, rest, "runs", is_search=True, state=state):
            counted(len(items))
            yield items


def unseen_runs(
    pages: Iterable[list[dict[str, Any]]], seen: set[str]
) -> Iterator[list[dict[str, Any]]]:
    """The pages without the runs in ``seen``, which grows as they pass (a search read again
    page after page, or several searches whose union is wanted)."""
    for page in pages:
        fresh = [raw for raw in page if not run_id_of(raw) or run_id_of(raw) not in seen]
        seen.update(run_id_of(raw) for raw in fresh)
        yield fresh


def run_id_of(raw: Any) -> str:
    """The run id of a server's run object; "" when malformed (``RunTableBuilder`` says how)."""
    info = raw.get("info") if isinstance(raw, dict) else None
    if not isinstance(info, dict):
        return ""
    return str(info.get("run_id") or info.get("run_uuid") or "")
