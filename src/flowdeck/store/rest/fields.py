"""Checked access to a tracking server's JSON: a missing or wrong-typed field is a ``MalformedAnswer``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flowdeck.core.errors import ServerError

_FLOAT_WORDS = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf, "inf": math.inf}


class MalformedAnswer(ServerError):
    """The server's answer lacks a field Flowdeck needs, or holds it with the wrong type."""

    def __init__(self, endpoint: str, field: str, problem: str) -> None:
        self.endpoint = endpoint
        self.field = field
        super().__init__(
            f"The tracking server sent an answer to {endpoint} that Flowdeck cannot read: "
            f"the field '{field}' {problem}."
        )


@contextmanager
def answer_of(endpoint: str) -> Iterator[None]:
    """Turn the shape errors of parsing code that reads raw JSON (``item["key"]``, ``int(…)``)
    into a ``MalformedAnswer`` naming the endpoint (and the key, for a missing one)."""
    try:
        yield
    except KeyError as exc:
        raise MalformedAnswer(
            endpoint, str(exc.args[0] if exc.args else "?"), "is missing"
        ) from None
    except (TypeError, ValueError, AttributeError, IndexError) as exc:
        raise MalformedAnswer(
            endpoint, "(unknown)", f"has an unexpected value ({type(exc).__name__}: {exc})"
        ) from None


class Fields:
    """One JSON object of an answer to ``endpoint``; ``path`` names it inside the answer."""

    __slots__ = ("data", "endpoint", "path")

    def __init__(self, data: Any, endpoint: str, path: str = "") -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise MalformedAnswer(endpoint, path or "(answer)", "is not an object")
        self.data: dict[str, Any] = data
        self.endpoint = endpoint
        self.path = path

    def name(self, key: str) -> str:
        """The dotted path of ``key`` inside the answer, for messages."""
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> MalformedAnswer:
        return MalformedAnswer(self.endpoint, self.name(key), problem)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, default: Any = None) -> Any:
        value = self.data.get(key)
        return default if value is None else value

    # --- scalars ---------------------------------------------------------------------------

    def text(self, key: str, default: str = "") -> str:
        """A string (numbers are accepted as their text); ``default`` when absent."""
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise self.fail(key, "is not text")

    def optional_text(self, key: str) -> str | None:
        """A string, or None when absent or empty."""
        return self.text(key) or None

    def required_text(self, key: str) -> str:
        """A non-empty string; ``MalformedAnswer`` when absent."""
        value = self.text(key)
        if not value:
            raise self.fail(key, "is missing")
        return value

    def integer(self, key: str, default: int | None = None) -> int | None:
        """A whole number (JSON number or its text, as protobuf sends int64); ``default`` if absent."""
        value = self.data.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise self.fail(key, "is not a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise self.fail(key, "is not a whole number")

    def number(self, key: str) -> float:
        """A float; absent is NaN, and the texts "NaN", "Infinity", "-Infinity" are understood."""
        value = self.data.get(key)
        if value is None:
            return math.nan
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            word = _FLOAT_WORDS.get(value.strip().lower())
            if word is not None:
                return word
            try:
                return float(value)
            except ValueError:
                pass
        raise self.fail(key, "is not a number")

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.fail(key, "is not true or false")

    # --- structures ------------------------------------------------------------------------

    def obj(self, key: str) -> Fields:
        """A nested object (empty when absent)."""
        return Fields(self.data.get(key), self.endpoint, self.name(key))

    def objects(self, key: str) -> list[Fields]:
        """A list of objects (empty when absent)."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "is not a list")
        name = self.name(key)
        return [Fields(item, self.endpoint, f"{name}[{i}]") for i, item in enumerate(value)]

    def texts(self, key: str) -> list[str]:
        """A list of strings (empty when absent)."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(key, "is not a list of texts")
        return value

    def key_values(self, key: str) -> dict[str, str]:
        """MLflow's ``[{key, value}, …]`` lists (params, tags) as a dict."""
        return {item.required_text("key"): item.text("value") for item in self.objects(key)}

    def mapping(self, key: str) -> dict[str, str]:
        """A JSON object of texts (v3 trace tags and metadata) as a dict of strings."""
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "is not an object")
        found = {}
        for name, item in value.items():
            if isinstance(item, dict | list):
                raise MalformedAnswer(self.endpoint, f"{self.name(key)}.{name}", "is not text")
            found[str(name)] = "" if item is None else str(item)
        return found
