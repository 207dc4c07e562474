"""Worker reads of the Promote dialog (Qt-free): versions, source runs, MLmodels, plan, comparison."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from flowdeck.core.artifacts.mlmodel import ModelInfo, read_mlmodel
from flowdeck.core.entities import ModelVersion, RunDetail
from flowdeck.core.errors import FlowdeckError
from flowdeck.core.promotion import (
    PromotionPlan,
    PromotionTarget,
    VersionComparison,
    compare_versions,
    live_versions,
    plan_promotion,
)
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store


@dataclass(frozen=True)
class PromoteState:
    """What the dialog shows for one (candidate, target) choice, read in one go.

    ``plan`` is None when planning failed (``problem`` says why); ``holder`` is the version
    shown next to the candidate (the first current holder other than the candidate).
    """

    versions: tuple[ModelVersion, ...]  # live versions, oldest first
    aliases: tuple[str, ...]
    candidate: int
    target: PromotionTarget
    plan: PromotionPlan | None
    holder: ModelVersion | None
    comparison: VersionComparison | None
    read_only: str | None
    problem: str | None = None


def read_promotion(
    state: TaskState,
    store: Store,
    name: str,
    candidate: int,
    target: PromotionTarget,
    lower_is_better: Mapping[str, bool] | None = None,
) -> PromoteState:
    """Re-read the model's versions, plan the promotion and compare holder and candidate."""
    state.progress(0, 3, f"Reading the versions of {name}")
    versions = tuple(live_versions(store.model_versions(name)))
    aliases = tuple(sorted({alias for version in versions for alias in version.aliases}))
    read_only = store.read_only_reason
    try:
        plan = plan_promotion(versions, candidate, target)
    except FlowdeckError as error:
        return PromoteState(
            versions, aliases, candidate, target, None, None, None, read_only, error.message
        )
    by_number = {version.version: version for version in versions}
    holder = by_number.get(plan.holder_versions[0]) if plan.holder_versions else None
    state.check()
    state.progress(1, 3, "Reading the source runs")
    holder_run = source_run(store, holder)
    candidate_run = source_run(store, plan.candidate)
    state.check()
    state.progress(2, 3, "Reading the models' signatures")
    holder_info, holder_note = model_signature(store, holder, holder_run)
    candidate_info, candidate_note = model_signature(store, plan.candidate, candidate_run)
    comparison = compare_versions(
        holder_run,
        candidate_run,
        holder_info,
        candidate_info,
        lower_is_better,
        has_holder=holder is not None,
    )
    extra = tuple(note for note in (holder_note, candidate_note) if note and holder is not None)
    if extra:
        comparison = VersionComparison(
            comparison.metrics,
            comparison.params,
            comparison.signature,
            comparison.notes + extra,
        )
    return PromoteState(
        versions, aliases, candidate, target, plan, holder, comparison, read_only, plan.problem
    )


def source_run(store: Store, version: ModelVersion | None) -> RunDetail | None:
    """The run a version was registered from; None when it has none or it is gone."""
    if version is None or not version.run_id:
        return None
    try:
        return store.run(version.run_id)
    except FlowdeckError:
        return None


def model_signature(
    store: Store, version: ModelVersion | None, run: RunDetail | None
) -> tuple[ModelInfo | None, str | None]:
    """The version's MLmodel when it can be reached, else None and a plain note saying why."""
    if version is None:
        return None, None
    source = version.source or ""
    unavailable = f"v{version.version}: no signature available"
    try:
        path = _mlmodel_path(store, source, run)
        if path is None:
            return None, f"{unavailable} (its model files cannot be reached from here)."
        return read_mlmodel(path), None
    except FlowdeckError as error:
        return None, f"{unavailable} ({error.message.rstrip('.')})."
    except OSError:
        return None, f"{unavailable} (its MLmodel file could not be read)."


def _mlmodel_path(store: Store, source: str, run: RunDetail | None) -> Path | None:
    if source.startswith("runs:/"):
        run_id, _, folder = source[len("runs:/") :].partition("/")
        return store.fetch_artifact(run_id, _join(folder, "MLmodel"))
    base = (run.info.artifact_uri or "").rstrip("/") if run is not None else ""
    if run is not None and base and (source == base or source.startswith(base + "/")):
        folder = source[len(base) :].strip("/")
        return store.fetch_artifact(run.info.run_id, _join(folder, "MLmodel"))
    parsed = urlparse(source)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path)) / "MLmodel"
    if source.startswith("/") and not parsed.scheme:
        return Path(source) / "MLmodel"
    return None


def _join(folder: str, name: str) -> str:
    folder = folder.strip("/")
    return f"{folder}/{name}" if folder else name
