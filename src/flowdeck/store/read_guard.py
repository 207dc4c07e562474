"""Wraps a Store class's public calls so that a damaged store surfaces only as typed errors."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from flowdeck.core.errors import CorruptStore, FlowdeckError, NotFound, PermissionDenied

StoreClass = TypeVar("StoreClass", bound=type)
# (store, exception) -> the typed error to raise instead, or None to let it through (a bug).
Translator = Callable[[Any, Exception], FlowdeckError | None]

# Public names that are not reads: releasing resources, recording notes, the write path.
NOT_READS = frozenset({"close", "note_problem", "writer"})
_GUARDED = "__flowdeck_read_guard__"


def guard_reads(cls: StoreClass, translate: Translator) -> StoreClass:
    """Wrap every public method and property of ``cls`` (inherited ones included).

    An exception that is not a ``FlowdeckError`` goes through ``translate``; when it names a
    typed error, that is raised (chained to the original, which stays in the traceback for
    the log); otherwise the original propagates, so bugs in Flowdeck's own code still look
    like bugs.
    """
    for name in dir(cls):
        if name.startswith("_") or name in NOT_READS:
            continue
        attribute = inspect.getattr_static(cls, name)
        if isinstance(attribute, property) and attribute.fget is not None:
            if not getattr(attribute.fget, _GUARDED, False):
                getter = _guarded(attribute.fget, translate)
                setattr(cls, name, property(getter, attribute.fset, attribute.fdel))
        elif inspect.isfunction(attribute) and not getattr(attribute, _GUARDED, False):
            setattr(cls, name, _guarded(attribute, translate))
    return cls


def _guarded(function: Callable[..., Any], translate: Translator) -> Callable[..., Any]:
    @functools.wraps(function)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(self, *args, **kwargs)
        except FlowdeckError:
            raise
        except Exception as exc:
            typed = translate(self, exc)
            if typed is None:
                raise
            raise typed from exc

    setattr(call, _GUARDED, True)
    return call


def os_error(error: OSError, store_name: str) -> FlowdeckError:
    """A typed error for a file that could not be read while reading ``store_name``."""
    where = error.filename or store_name
    reason = error.strerror or type(error).__name__
    if isinstance(error, PermissionError):
        return PermissionDenied(
            f"Flowdeck may not read {where} (permission denied).", detail=str(error)
        )
    if isinstance(error, FileNotFoundError | NotADirectoryError):
        return NotFound(
            f"{where} disappeared while Flowdeck read {store_name}; reload to see the store "
            "as it is now.",
            detail=str(error),
        )
    return CorruptStore(f"{where} in {store_name} cannot be read: {reason}.", detail=str(error))
