"""What kind of file an artifact is, from its name and its first bytes (never from its content type)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePosixPath

IMAGE = "image"
SVG = "svg"
TEXT = "text"
JSON = "json"
YAML = "yaml"
MLMODEL = "mlmodel"
MLPROJECT = "mlproject"
TABLE = "table"  # csv, tsv, parquet
MARKDOWN = "markdown"
EXTERNAL = "external"  # html, pdf: shown by the system viewer, never rendered in the app
BINARY = "binary"

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"})
TEXT_SUFFIXES = frozenset(
    {
        ".txt", ".log", ".err", ".out", ".py", ".cfg", ".conf", ".ini", ".toml", ".xml",
        ".properties", ".js", ".ts", ".sh", ".r", ".sql", ".rst", ".jsonnet", ".pbtxt",
        ".c", ".h", ".cpp", ".java", ".scala", ".go", ".rs", ".tex", ".diff", ".patch",
        ".requirements", ".env",
    }
)
TEXT_NAMES = frozenset({"requirements.txt", "dockerfile", "makefile", "license", "readme"})
SUFFIX_KINDS = {
    ".json": JSON,
    ".geojson": JSON,
    ".yaml": YAML,
    ".yml": YAML,
    ".csv": TABLE,
    ".tsv": TABLE,
    ".parquet": TABLE,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".html": EXTERNAL,
    ".htm": EXTERNAL,
    ".pdf": EXTERNAL,
    ".svg": SVG,
}
NAME_KINDS = {"mlmodel": MLMODEL, "mlproject": MLPROJECT}
SNIFF_BYTES = 4096


def kind_of(name: str, head: bytes | None = None) -> str:
    """The preview kind of the artifact ``name``; ``head`` (its first bytes, when known) turns
    a text-named binary into ``BINARY`` and an unknown name with text content into ``TEXT``."""
    base = PurePosixPath(name.replace("\\", "/")).name
    lowered = base.lower()
    suffix = PurePosixPath(lowered).suffix
    kind = NAME_KINDS.get(lowered) or SUFFIX_KINDS.get(suffix)
    if kind is None and suffix in IMAGE_SUFFIXES:
        kind = IMAGE
    if kind is None and (suffix in TEXT_SUFFIXES or lowered in TEXT_NAMES):
        kind = TEXT
    if head is None:
        return kind or BINARY
    if kind in (TEXT, JSON, YAML, MLMODEL, MLPROJECT, MARKDOWN) and looks_binary(head):
        return BINARY
    if kind is None:
        return TEXT if head and not looks_binary(head) else BINARY
    return kind


def looks_binary(head: bytes) -> bool:
    """True when ``head`` is not text: a NUL byte, or not UTF-8 / Latin-1 printable enough."""
    if b"\0" in head:
        return True
    sample = head[:SNIFF_BYTES]
    try:
        sample.decode("utf-8")
        return False
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data":  # a character cut at the end of the sample
            return False
    controls = sum(1 for byte in sample if byte < 9 or 13 < byte < 32)
    return controls > len(sample) // 20


LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"


def logged_tables(tags: Mapping[str, str]) -> frozenset[str]:
    """Artifact paths that ``mlflow.log_table`` wrote, from the run's ``mlflow.loggedArtifacts``
    tag (``[{"path": "eval.json", "type": "table"}]``); empty when the tag is absent or odd."""
    try:
        entries = json.loads(tags.get(LOGGED_ARTIFACTS_TAG) or "[]")
    except ValueError:
        return frozenset()
    if not isinstance(entries, list):
        return frozenset()
    return frozenset(
        str(entry["path"])
        for entry in entries
        if isinstance(entry, dict) and entry.get("type") == "table" and entry.get("path")
    )
