"""A sort key that orders its value descending inside an otherwise ascending key tuple."""

from __future__ import annotations

from typing import Any


class Descending:
    """Wraps a value so that ``sorted`` puts larger values first."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: Descending) -> bool:
        return other.value < self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Descending) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)
