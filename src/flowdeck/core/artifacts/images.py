"""MLflow's per-step image files (``log_image(key=…, step=…)``): recognise, parse and group them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from flowdeck.core.artifacts import kinds
from flowdeck.core.entities import ArtifactEntry

# MLflow 3.17 writes, for ``log_image(image, key="a/b", step=3)``, two files into ``images/``:
#   a~b+step+3+timestamp+1796461019723+<uuid4>.png                  (full size, as logged)
#   a~b+step+3+timestamp+1796461019723+<uuid4>+compressed.webp      (at most 256 px a side)
# and no metadata file. Older MLflow wrote "%" instead of "+" and "#" instead of "~".
STEP_IMAGE_FOLDER = "images"
_NAME = re.compile(
    r"^(?P<key>[A-Za-z0-9_\-. ~#]+)"
    r"(?P<sep>[+%])step(?P=sep)(?P<step>-?\d+)"
    r"(?P=sep)timestamp(?P=sep)(?P<timestamp>\d+)"
    r"(?P=sep)(?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"(?:(?P<compressed>(?P=sep)compressed\.webp)|\.png)$"
)


@dataclass(frozen=True)
class StepImageName:
    """What one step-image file name says."""

    key: str  # as logged, with "/" restored
    step: int
    timestamp: int  # milliseconds since the epoch
    uuid: str
    compressed: bool


@dataclass(frozen=True)
class StepImage:
    """One logged image: its full-size file and MLflow's small preview copy (either may be missing)."""

    key: str
    step: int
    timestamp: int
    uuid: str
    full_path: str | None  # the .png as logged
    compressed_path: str | None  # the +compressed.webp copy

    @property
    def path(self) -> str:
        """The file to show: the full-size one when it exists."""
        return self.full_path or self.compressed_path or ""


def parse_step_image_name(name: str) -> StepImageName | None:
    """The key, step, timestamp and uuid in a step-image file name; None for any other name."""
    match = _NAME.match(PurePosixPath(name).name)
    if match is None:
        return None
    key = match["key"].replace("~", "/").replace("#", "/")
    if not key.strip("/ "):
        return None
    return StepImageName(
        key=key,
        step=int(match["step"]),
        timestamp=int(match["timestamp"]),
        uuid=match["uuid"].lower(),
        compressed=match["compressed"] is not None,
    )


def is_step_image(name: str) -> bool:
    return parse_step_image_name(name) is not None


def step_images(paths: Iterable[str]) -> dict[str, tuple[StepImage, ...]]:
    """Group step-image files by key, each key's images in step order (then logging time).

    ``paths`` may hold any artifact paths; names that are not step images are ignored. Keys
    come sorted by name.
    """
    names: dict[tuple[str, str], StepImageName] = {}
    files: dict[tuple[str, str], dict[bool, str]] = {}
    for path in paths:
        parsed = parse_step_image_name(path)
        if parsed is None:
            continue
        names.setdefault((parsed.key, parsed.uuid), parsed)
        files.setdefault((parsed.key, parsed.uuid), {})[parsed.compressed] = path
    grouped: dict[str, list[StepImage]] = {}
    for identity, parsed in names.items():
        pair = files[identity]
        grouped.setdefault(parsed.key, []).append(
            StepImage(
                key=parsed.key,
                step=parsed.step,
                timestamp=parsed.timestamp,
                uuid=parsed.uuid,
                full_path=pair.get(False),
                compressed_path=pair.get(True),
            )
        )
    return {
        key: tuple(sorted(grouped[key], key=lambda image: (image.step, image.timestamp, image.uuid)))
        for key in sorted(grouped)
    }


def full_size_paths(paths: Iterable[str]) -> list[str]:
    """The full-size files among ``paths`` (step-image .png files; not MLflow's compressed copies)."""
    return [path for path in paths if (parsed := parse_step_image_name(path)) and not parsed.compressed]


# A 1×1 transparent GIF: what an <image> pointing elsewhere gets instead (an empty value warns).
_BLANK_IMAGE = b"data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
_HREF = re.compile(rb"""(href\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


def drop_svg_references(data: bytes) -> bytes:
    """The SVG with every reference to another file or address removed (``href`` values that
    are neither ``#fragment`` nor inline ``data:``), so rendering it reads nothing else."""

    def neutral(match: re.Match[bytes]) -> bytes:
        value = match[3].strip()
        if value.startswith(b"#") or value.lower().startswith(b"data:"):
            return match[0]
        return match[1] + match[2] + _BLANK_IMAGE + match[2]

    return _HREF.sub(neutral, data)


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sorts "img2" before "img10", ignoring case."""
    parts = re.split(r"(\d+)", name.lower())
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in parts if part)


def entry_path(folder: str, entry: ArtifactEntry) -> str:
    """An entry's path from the artifact root (stores list either full paths or bare names)."""
    if "/" in entry.path or not folder:
        return entry.path
    return f"{folder}/{entry.path}"


def folder_images(
    folder: str, entries: Iterable[ArtifactEntry], svg: bool = True
) -> list[str]:
    """The image files (and SVG drawings if ``svg``) among a folder's children, as paths from
    the artifact root, in natural name order."""
    wanted = {kinds.IMAGE, kinds.SVG} if svg else {kinds.IMAGE}
    paths = [entry_path(folder, entry) for entry in entries if not entry.is_dir]
    images = [path for path in paths if kinds.kind_of(path) in wanted]
    return sorted(images, key=lambda path: natural_key(PurePosixPath(path).name))


def neighbours(paths: list[str], path: str) -> tuple[str | None, str | None]:
    """The paths before and after ``path`` in ``paths`` (None at either end or if absent)."""
    if path not in paths:
        return None, None
    index = paths.index(path)
    return (paths[index - 1] if index else None), (
        paths[index + 1] if index + 1 < len(paths) else None
    )
