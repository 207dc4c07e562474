"""Group metric names into chart sections by their prefix, e.g. "train/loss" into "train"."""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIGIT_RUNS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """A sort key that orders numbers inside names by value ("layer2" before "layer10")."""
    parts = _DIGIT_RUNS.split(text.casefold())
    # split() alternates text and digits starting with text, so parts at odd indices are numbers
    numbered = tuple(int(part) if index % 2 else part for index, part in enumerate(parts))
    return numbered, text


def metric_sections(keys: Iterable[str]) -> list[tuple[str, list[str]]]:
    """``[(section, keys)]``: keys grouped by what precedes their last "/".

    Keys without a "/" form the section "" which comes first; "a/b/c" belongs to "a/b".
    Sections and the keys inside each are in natural order; repeated keys appear once.
    """
    sections: dict[str, list[str]] = {}
    for key in dict.fromkeys(keys):
        section = key.rpartition("/")[0]
        sections.setdefault(section, []).append(key)
    return [
        (section, sorted(sections[section], key=natural_key))
        for section in sorted(sections, key=natural_key)
    ]
