"""SQL LIKE / ILIKE in time linear in the text for any pattern, with each backend's rules."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from flowdeck.core.errors import InvalidFilter

try:  # Python's own table of extra case-insensitive equivalences (ſ ~ s, K ~ k, ...)
    from re._casefix import _EXTRA_CASES as _RE_EXTRA_CASES  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - older Pythons keep it in sre_compile
    _RE_EXTRA_CASES = {}

ASCII = "ascii"  # SQLite's lower(): only A-Z fold
UNICODE = "unicode"  # per-character lower case (PostgreSQL, MySQL)
REGEX = "regex"  # Python's re.IGNORECASE (MLflow's FileStore)
GENERAL_CI = "general_ci"  # MariaDB's utf8mb4_general_ci: case and accents fold (Ñ ~ n)


@dataclass(frozen=True)
class LikeRules:
    """How one backend evaluates ``LIKE`` and ``ILIKE``, as MLflow's search does on it.

    ``ilike_fold`` is how ILIKE folds case; ``escape`` the character that makes the next one
    literal (PostgreSQL and MySQL default to a backslash; SQLite has none); ``regex_lines``
    follows MLflow's FileStore, which turns the pattern into a regular expression: ``_`` and
    ``%`` never match a line break, a pattern without a trailing ``%`` may leave one final
    line break over, and one with a trailing ``%`` only has to match a prefix;
    ``byte_wildcards`` follows MySQL's ``BINARY`` LIKE, where ``_`` stands for one UTF-8 byte.
    """

    name: str
    ilike_fold: str = UNICODE
    escape: str | None = None
    regex_lines: bool = False
    byte_wildcards: bool = False


SQLITE = LikeRules("sqlite", ilike_fold=ASCII)
POSTGRES = LikeRules("postgresql", escape="\\")
MYSQL = LikeRules("mysql", ilike_fold=GENERAL_CI, escape="\\", byte_wildcards=True)
FILES = LikeRules("file", ilike_fold=REGEX, regex_lines=True)
PLAIN = LikeRules("plain", ilike_fold=REGEX)  # SQL wildcards, Python's case folding

RULES_BY_DIALECT = {"sqlite": SQLITE, "postgresql": POSTGRES, "mysql": MYSQL, "mariadb": MYSQL}

Piece = tuple[str | int, ...]  # literal text and counts of ``_`` wildcards, in order


class _Fold(dict):
    """A lazily filled ``str.translate`` table mapping each character to its folded form."""

    def __init__(self, fold: Callable[[str], str]) -> None:
        super().__init__()
        self._fold = fold

    def __missing__(self, code: int) -> str:
        folded = self[code] = self._fold(chr(code))
        return folded


def _ascii_lower(char: str) -> str:
    return char.lower() if "A" <= char <= "Z" else char


def _simple_lower(char: str) -> str:
    """Unicode simple lower case: one character in, one out (İ becomes i, not i + dot)."""
    lower = char.lower()
    return lower if len(lower) == 1 else lower[0]


def _regex_lower(char: str) -> str:
    """One representative of the characters ``re.IGNORECASE`` treats as equal to ``char``."""
    lower = _simple_lower(char)
    extra = _RE_EXTRA_CASES.get(ord(lower))
    return chr(min(ord(lower), *extra)) if extra else lower


def _general_ci(char: str) -> str:
    """One weight per character, as utf8mb4_general_ci: the base letter, case folded."""
    if char == "ß":
        return "s"
    base = unicodedata.normalize("NFD", char)[0]
    upper = base.upper()
    return _simple_lower(upper if len(upper) == 1 else base)


_FOLDS = {
    ASCII: _Fold(_ascii_lower),
    UNICODE: _Fold(_simple_lower),
    REGEX: _Fold(_regex_lower),
    GENERAL_CI: _Fold(_general_ci),
}


def fold_case(text: str, fold: str) -> str:
    """``text`` with case folded the way ``fold`` says; the length never changes."""
    return text.translate(_FOLDS[fold])


@dataclass(frozen=True)
class LikePattern:
    """A LIKE pattern split at its ``%`` wildcards, ready to match many texts."""

    pieces: tuple[Piece, ...]  # pieces between ``%``; one piece means no ``%`` at all
    fold: str | None
    rules: LikeRules

    def __call__(self, text: str) -> bool:
        return self.matches(text)

    def matches(self, text: str) -> bool:
        """True when the whole of ``text`` matches (no backtracking: leftmost placement)."""
        if self.fold is not None:
            text = fold_case(text, self.fold)
        if self.rules.byte_wildcards and self.fold is None:
            return _bytes_match(self, text)
        if not self.rules.regex_lines:
            return _match(text, self.pieces, lines=False)
        if len(self.pieces) > 1 and self.pieces[-1] == ():
            return _match(text, self.pieces, lines=True, open_end=True)
        # Without a trailing %, MLflow's regex ends in ``$``: one final line break may remain.
        return _match(text, self.pieces, lines=True) or (
            text.endswith("\n") and _match(text[:-1], self.pieces, lines=True)
        )


def _bytes_match(pattern: LikePattern, text: str) -> bool:
    """MySQL: ``col LIKE :v AND BINARY col LIKE :v`` — by characters and by UTF-8 bytes."""
    if not _match(text, pattern.pieces, lines=False):
        return False
    if text.isascii() and all(isinstance(s, int) or s.isascii() for p in pattern.pieces for s in p):
        return True
    pieces = tuple(
        tuple(s if isinstance(s, int) else _utf8(s) for s in piece) for piece in pattern.pieces
    )
    return _match(_utf8(text), pieces, lines=False)


def _utf8(text: str) -> str:
    """A text's UTF-8 bytes as a str of code points 0-255."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


def compile_like(pattern: str, rules: LikeRules = PLAIN, ignore_case: bool = False) -> LikePattern:
    """Compile ``pattern`` (``%`` any run of characters, ``_`` one character) under ``rules``.

    Raises ``InvalidFilter`` for a pattern the backend refuses (a trailing escape character).
    """
    return _compile(pattern, rules, ignore_case)


@lru_cache(maxsize=1024)
def _compile(pattern: str, rules: LikeRules, ignore_case: bool) -> LikePattern:
    fold = rules.ilike_fold if ignore_case else None
    pieces: list[Piece] = []
    segments: list[str | int] = []
    literal: list[str] = []

    def flush_literal() -> None:
        if literal:
            text = "".join(literal)
            segments.append(fold_case(text, fold) if fold else text)
            literal.clear()

    index = 0
    while index < len(pattern):
        char = pattern[index]
        index += 1
        if rules.escape is not None and char == rules.escape:
            if index == len(pattern):
                raise InvalidFilter(
                    f"Invalid filter: the LIKE pattern {pattern!r} ends with the escape "
                    f"character {rules.escape!r}; write it twice to match it."
                )
            literal.append(pattern[index])
            index += 1
        elif char == "%":
            flush_literal()
            pieces.append(tuple(segments))
            segments.clear()
        elif char == "_":
            flush_literal()
            if segments and isinstance(segments[-1], int):
                segments[-1] += 1
            else:
                segments.append(1)
        else:
            literal.append(char)
    flush_literal()
    pieces.append(tuple(segments))
    return LikePattern(tuple(pieces), fold, rules)


def like_match(
    text: str, pattern: str, ignore_case: bool = False, rules: LikeRules = PLAIN
) -> bool:
    """SQL ``LIKE`` (``ILIKE`` with ``ignore_case``) of one text: the whole text must match."""
    return compile_like(pattern, rules, ignore_case).matches(text)


# --- the matcher ------------------------------------------------------------------------------


def _width(piece: Piece) -> int:
    return sum(s if isinstance(s, int) else len(s) for s in piece)


def _matches_at(text: str, piece: Piece, start: int, lines: bool) -> bool:
    """``piece`` matches ``text`` at ``start`` (with ``lines``, ``_`` is never a line break)."""
    position = start
    for segment in piece:
        if isinstance(segment, int):
            end = position + segment
            if end > len(text) or (lines and text.find("\n", position, end) >= 0):
                return False
            position = end
        elif text.startswith(segment, position):
            position += len(segment)
        else:
            return False
    return True


def _find(text: str, piece: Piece, start: int, last_start: int, lines: bool) -> int:
    """The first ``i`` in ``[start, last_start]`` where ``piece`` matches; or -1.

    Searches for the piece's longest literal with ``str.find`` and checks the rest there, so
    each candidate costs the piece's length at most.
    """
    literals = [(len(s), i) for i, s in enumerate(piece) if isinstance(s, str)]
    if not literals:
        candidate = start
        while candidate <= last_start:
            if _matches_at(text, piece, candidate, lines):
                return candidate
            if not lines:
                return -1  # only the length can fail, and it fails further right too
            newline = text.find("\n", candidate, candidate + _width(piece))
            if newline < 0:
                return -1
            candidate = newline + 1
        return -1
    index = max(literals)[1]
    anchor = piece[index]
    assert isinstance(anchor, str)
    offset = _width(piece[:index])
    candidate = start
    while candidate <= last_start:
        found = text.find(anchor, candidate + offset, last_start + offset + len(anchor))
        if found < 0:
            return -1
        candidate = found - offset
        if _matches_at(text, piece, candidate, lines):
            return candidate
        candidate += 1
    return -1


def _match(text: str, pieces: tuple[Piece, ...], lines: bool, open_end: bool = False) -> bool:
    """Place each ``%``-separated piece at its leftmost possible position.

    A piece placed further left never hurts the pieces after it (with ``lines`` too: the gap
    a ``%`` spans may not hold a line break, and a piece that holds one has only one possible
    place), so no backtracking is needed: the cost is at most text × pattern length.
    """
    if len(pieces) == 1:
        return _width(pieces[0]) == len(text) and _matches_at(text, pieces[0], 0, lines)
    first, middle, last = pieces[0], pieces[1:-1], pieces[-1]
    position = _width(first)
    end = len(text) - _width(last)
    if end < position or not _matches_at(text, first, 0, lines):
        return False
    if not open_end and not _matches_at(text, last, end, lines):
        return False
    if open_end:
        end = len(text)
    for piece in middle:
        if not piece:
            continue
        last_start = end - _width(piece)
        if lines:
            newline = text.find("\n", position, last_start)
            last_start = last_start if newline < 0 else newline
        found = _find(text, piece, position, last_start, lines)
        if found < 0:
            return False
        position = found + _width(piece)
    return open_end or not lines or text.find("\n", position, end) < 0
