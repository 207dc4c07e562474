"""Fast reading of MLflow's meta.yaml files: a flat-file parser with a YAML fallback."""

from __future__ import annotations

import re
from typing import Any

import yaml

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # libyaml missing: the pure-Python loader gives the same result
    _Loader = yaml.SafeLoader

_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"[-+]?([0-9][0-9]*)?\.[0-9]+([eE][-+]?[0-9]+)?\Z")
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
# A bare value starting with one of these is not a plain flat scalar: let YAML decide.
_SPECIAL_START = set('"{[|>&*!%@`#?,-')


class MetaError(ValueError):
    """A meta.yaml file is empty, truncated or not a mapping."""


def parse_meta(data: bytes | str) -> dict[str, Any]:
    """Parse a meta.yaml body into a dict; raises ``MetaError`` when it is not a mapping."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    if not text.strip():
        raise MetaError("the file is empty")
    parsed = _parse_flat(text)
    if parsed is None:
        try:
            parsed = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as error:
            raise MetaError(f"it is not valid YAML ({_first_line(error)})") from None
    if not isinstance(parsed, dict):
        raise MetaError("it does not hold key: value lines")
    return parsed


def _parse_flat(text: str) -> dict[str, Any] | None:
    """Parse ``key: value`` lines with plain or single-quoted scalars; None if anything else."""
    result: dict[str, Any] = {}
    for line in text.split("\n"):
        if not line:
            continue
        if line[0] in " \t#-" or "\r" in line:
            return None
        key, sep, raw = line.partition(": ")
        if not sep:
            if line.endswith(":"):
                return None  # a nested block follows
            return None
        value = _scalar(raw)
        if value is _NOT_FLAT:
            return None
        result[key] = value
    return result


_NOT_FLAT = object()


def _scalar(raw: str) -> Any:
    if raw == "[]":
        return []
    if raw == "{}":
        return {}
    if raw.startswith("'"):
        if len(raw) < 2 or not raw.endswith("'"):
            return _NOT_FLAT
        inner = raw[1:-1]
        if inner.replace("''", "").count("'"):
            return _NOT_FLAT
        return inner.replace("''", "'")
    if raw and (raw[0] in _SPECIAL_START or ": " in raw or " #" in raw or raw.endswith(":")):
        return _NOT_FLAT
    if not raw:
        return None
    for tag, regexp in _RESOLVERS.get(raw[0], ()):
        if regexp.match(raw):
            return _resolved(tag, raw)
    return raw


def _resolved(tag: str, raw: str) -> Any:
    """The value of a plain scalar YAML resolved to ``tag``, or ``_NOT_FLAT`` for rare forms."""
    if tag.endswith(":null"):
        return None
    if tag.endswith(":bool"):
        return raw.lower() in ("yes", "true", "on", "y")
    if tag.endswith(":int") and _INT.match(raw):
        return int(raw)
    if tag.endswith(":float") and _FLOAT.match(raw):
        return float(raw)
    return _NOT_FLAT


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
