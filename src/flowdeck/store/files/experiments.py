"""List the experiment folders of an mlruns/ store (active and in .trash) with their tags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from flowdeck.store.experiment_frame import experiment_sort_key
from flowdeck.store.files.fsread import read_bytes, read_text_folder
from flowdeck.store.files.meta import MetaError, parse_meta

TRASH = ".trash"
REGISTRY_FOLDER = "models"


@dataclass
class ExperimentFolder:
    """One readable experiment folder."""

    experiment_id: str
    folder: str
    meta: dict[str, Any]
    deleted: bool
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def lifecycle_stage(self) -> str:
        if self.deleted:
            return "deleted"
        return str(self.meta.get("lifecycle_stage") or "active")


def scan_experiments(root: str, problems: list[str]) -> list[ExperimentFolder]:
    """Every experiment folder (active first, then .trash), sorted by id; adds problems."""
    found: dict[str, ExperimentFolder] = {}
    for parent, deleted in ((root, False), (os.path.join(root, TRASH), True)):
        try:
            entries = [e for e in os.scandir(parent) if e.is_dir()]
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if entry.name.startswith(".") or (not deleted and entry.name == REGISTRY_FOLDER):
                continue
            experiment = read_experiment_folder(entry.path, entry.name, deleted, problems)
            if experiment is not None and experiment.experiment_id not in found:
                found[experiment.experiment_id] = experiment
    return sorted(found.values(), key=lambda e: experiment_sort_key(e.experiment_id))


def read_experiment_folder(
    folder: str, name: str, deleted: bool, problems: list[str]
) -> ExperimentFolder | None:
    """One experiment folder, or None (with a problem added) when its meta.yaml is unusable."""
    where = f"Experiment folder {name}{' (in .trash)' if deleted else ''}"
    try:
        meta = parse_meta(read_bytes(os.path.join(folder, "meta.yaml")))
    except FileNotFoundError:
        problems.append(f"{where}: meta.yaml is missing; skipped.")
        return None
    except (MetaError, OSError) as error:
        problems.append(f"{where}: meta.yaml cannot be read ({error}); skipped.")
        return None
    recorded = meta.get("experiment_id")
    if recorded is None or str(recorded) != name:
        problems.append(f"{where}: meta.yaml records experiment id {recorded!r}; skipped.")
        return None
    tags = read_text_folder(os.path.join(folder, "tags"))
    return ExperimentFolder(str(recorded), folder, meta, deleted, tags)


def experiment_records(experiments: list[ExperimentFolder], view: str) -> list[dict[str, Any]]:
    """Experiments of the view as records (keys ``EXPERIMENT_COLUMNS``), ordered by id."""
    records = [
        {
            "experiment_id": e.experiment_id,
            "name": str(e.meta.get("name", "")),
            "artifact_location": e.meta.get("artifact_location"),
            "lifecycle_stage": e.lifecycle_stage,
            "creation_time": _int(e.meta.get("creation_time")),
            "last_update_time": _int(e.meta.get("last_update_time")),
            "tags": dict(e.tags),
        }
        for e in experiments
        if view == "all" or e.lifecycle_stage == view
    ]
    records.sort(key=lambda record: experiment_sort_key(record["experiment_id"]))
    return records


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
