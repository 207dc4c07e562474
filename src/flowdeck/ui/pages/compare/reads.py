"""Worker reads of the comparison page (Qt-free): the runs, their artifact folders and files."""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from flowdeck.core.artifacts.kinds import (
    IMAGE,
    JSON,
    MARKDOWN,
    MLMODEL,
    MLPROJECT,
    SNIFF_BYTES,
    TABLE,
    TEXT,
    YAML,
    kind_of,
)
from flowdeck.core.compare import TextDiff, text_diff
from flowdeck.core.entities import ArtifactEntry, RunDetail
from flowdeck.core.errors import FlowdeckError, NotFound, Unsupported
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.store.progress import SubtaskState

TEXT_CAP = 2 * 1024 * 1024  # larger text files are compared by hash only
HASH_CHUNK = 1024 * 1024
TEXT_KINDS = frozenset({TEXT, JSON, YAML, MARKDOWN, MLMODEL, MLPROJECT})
TEXT_TABLES = frozenset({".csv", ".tsv"})
# How the artifacts tab shows a file.
AS_TEXT, AS_IMAGE, AS_BYTES = "text", "image", "bytes"


# --- the runs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompareView:
    """The compared runs, in address order, and what the values table needs besides them."""

    details: tuple[RunDetail, ...]
    extremes: dict[tuple[str, str], tuple[float, float]]  # (run id, key) → (min, max)
    experiment_names: dict[str, str]
    note: str = ""  # why min/max are missing ('' when they are not)


def read_compare(state: TaskState, store: Store, run_ids: tuple[str, ...]) -> CompareView:
    """Every run; ``NotFound`` names all the missing ones. Then metric min/max and names."""
    details: list[RunDetail] = []
    missing: list[str] = []
    for run_id in run_ids:
        state.check()
        try:
            details.append(store.run(run_id))
        except NotFound as error:
            if type(error) is not NotFound:  # a server without the route says nothing is missing
                raise Unsupported(error.message) from error
            missing.append(run_id)
    if len(missing) == 1:
        raise NotFound(f"There is no run with ID {missing[0]} in {store.display_name}.")
    if missing:
        raise NotFound(f"There are no runs with IDs {', '.join(missing)} in {store.display_name}.")
    keys = sorted({key for detail in details for key in detail.metrics})
    extremes: dict[tuple[str, str], tuple[float, float]] = {}
    note = ""
    if keys:
        try:
            frame = store.metric_summaries(list(run_ids), keys, state=state)
            for run_id, key, low, high in zip(
                frame["run_id"], frame["key"], frame["min"], frame["max"], strict=True
            ):
                extremes[(str(run_id), str(key))] = (float(low), float(high))
        except FlowdeckError as error:
            note = f"Min and max are not available: {error.message}"
    state.check()
    names: dict[str, str] = {}
    try:
        frame = store.experiments(view="all")
        names = {str(i): str(n) for i, n in zip(frame["experiment_id"], frame["name"], strict=True)}
    except FlowdeckError:
        pass
    return CompareView(tuple(details), extremes, names, note)


# --- artifact folders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergedEntry:
    """One path of the union of the runs' artifacts: the runs that have it, with sizes."""

    path: str
    is_dir: bool
    sizes: dict[str, int | None]  # run id → size (None for folders or unknown)

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name


@dataclass(frozen=True)
class FolderListing:
    path: str
    entries: tuple[MergedEntry, ...]  # folders first, then files, each by name
    problems: dict[str, str] = field(default_factory=dict)  # run id → why it was not listed


def list_folder(
    state: TaskState, store: Store, run_ids: tuple[str, ...], path: str
) -> FolderListing:
    """The union of one artifact folder over the runs that have it."""
    by_path: dict[str, list[tuple[str, ArtifactEntry]]] = {}
    problems: dict[str, str] = {}
    for index, run_id in enumerate(run_ids):
        state.check()
        state.progress(index, len(run_ids), f"Listing {path or 'the artifacts'}…")
        try:
            entries = store.list_artifacts(run_id, path)
        except NotFound:
            continue
        except FlowdeckError as error:
            problems[run_id] = error.message
            continue
        for entry in entries:
            by_path.setdefault(entry.path, []).append((run_id, entry))
    merged = [
        MergedEntry(
            entry_path,
            any(entry.is_dir for _, entry in found),
            {run_id: entry.file_size for run_id, entry in found},
        )
        for entry_path, found in by_path.items()
    ]
    merged.sort(key=lambda entry: (not entry.is_dir, entry.name.lower(), entry.name))
    return FolderListing(path, tuple(merged), problems)


# --- artifact files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchedFile:
    run_id: str
    local: Path
    size: int
    digest: str  # sha256 of the content
    text: str | None  # text-like files up to TEXT_CAP


@dataclass(frozen=True)
class FetchedSet:
    """One artifact path fetched from several runs."""

    path: str
    shown_as: str  # AS_TEXT, AS_IMAGE or AS_BYTES
    files: tuple[FetchedFile, ...]
    note: str = ""  # why a text file is compared by hash only

    @property
    def identical(self) -> bool:
        return len({f.digest for f in self.files}) == 1

    def file(self, run_id: str) -> FetchedFile | None:
        return next((f for f in self.files if f.run_id == run_id), None)


def shown_as(path: str, head: bytes) -> str:
    """How a file is compared: as text, as an image, or by its bytes."""
    kind = kind_of(path, head)
    if kind == IMAGE:
        return AS_IMAGE
    if kind in TEXT_KINDS or (kind == TABLE and PurePosixPath(path).suffix.lower() in TEXT_TABLES):
        return AS_TEXT
    return AS_BYTES


def fetch_compared(
    state: TaskState, store: Store, run_ids: tuple[str, ...], path: str
) -> FetchedSet:
    """``path`` from each run (2 or more), hashed; text-like files also read as text."""
    locals_: list[tuple[str, Path]] = []
    for index, run_id in enumerate(run_ids):
        state.check()
        state.progress(index, len(run_ids) * 2, f"Fetching {path}…")
        locals_.append((run_id, fetch_artifact(state, store, run_id, path)))
    with locals_[0][1].open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    how = shown_as(path, head)
    files: list[FetchedFile] = []
    note = ""
    for index, (run_id, local) in enumerate(locals_):
        state.progress(len(run_ids) + index, len(run_ids) * 2, f"Reading {path}…")
        size = local.stat().st_size
        text = None
        if how == AS_TEXT and size <= TEXT_CAP:
            text = local.read_bytes().decode("utf-8", errors="replace")
        elif how == AS_TEXT:
            note = (
                f"{PurePosixPath(path).name} is larger than 2 MB in some runs: compared by content."
            )
        files.append(FetchedFile(run_id, local, size, file_digest(state, local), text))
    if how == AS_TEXT and any(f.text is None for f in files):
        how = AS_BYTES
    state.progress(len(run_ids) * 2, len(run_ids) * 2, "")
    return FetchedSet(path, how, tuple(files), note)


def fetch_artifact(state: TaskState, store: Store, run_id: str, path: str) -> Path:
    """The store's local copy of the artifact (passing ``state`` when the store takes it)."""
    fetch = store.fetch_artifact
    if "state" in inspect.signature(fetch).parameters:
        return fetch(run_id, path, state=SubtaskState(state, lambda *_: None))  # type: ignore[call-arg]
    return fetch(run_id, path)


def file_digest(state: TaskState, local: Path) -> str:
    digest = hashlib.sha256()
    with local.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            state.check()
            digest.update(chunk)
    return digest.hexdigest()


def diff_texts(state: TaskState, old: str, new: str, old_name: str, new_name: str) -> TextDiff:
    """Both diff views of two texts (difflib can take seconds on large files)."""
    state.check()
    return text_diff(old, new, old_name, new_name)
