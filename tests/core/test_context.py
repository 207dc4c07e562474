"""The shared context: listeners hear each real change once, and closing a store clears it."""

from __future__ import annotations

from flowdeck.core.context import NOTHING, ContextState, Item, Selection


def test_listeners_hear_real_changes_once():
    state = ContextState()
    heard: list[tuple] = []
    for event in ("stores", "experiments", "selection", "focus", "read_only", "change"):
        state.subscribe(event, lambda *args, e=event: heard.append((e, *args)))
    store = object()
    state.add_store(store)
    state.add_store(store)
    state.set_experiments(store, ["1"])
    state.set_experiments(store, ("1",))
    runs = Selection("run", store, (Item("r1", "first"),))
    state.set_selection(runs)
    state.set_focus(runs)
    state.set_focus(Selection("run", store, (Item("r1", "first"),)))
    state.set_read_only(store, None)
    state.set_read_only(store, None)
    state.broadcast_change(store, "a change")
    assert [entry[0] for entry in heard] == [
        "stores", "experiments", "selection", "focus", "read_only", "change"
    ]
    assert state.read_only_reason(store) is None


def test_an_unchecked_store_is_not_writable_yet_and_closing_clears_what_it_held():
    state = ContextState()
    store = object()
    state.add_store(store)
    assert state.read_only_reason(store)  # still checking
    state.set_read_only(store, "newer schema")
    items = (Item("1", "vision", deleted=True),)
    state.set_experiments(store, ["1"])
    state.set_focus(Selection("experiment", store, items))
    assert state.focus.deleted == list(items) and not state.focus.active
    state.remove_store(store)
    assert state.stores == [] and state.store is None and state.focus == NOTHING
    assert state.read_only_reason(None) == "No store is open."
