"""Promoting a model version (Qt-free): the target, what the write changes, holder vs candidate."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flowdeck.core.artifacts.mlmodel import ModelInfo, SignatureRow
from flowdeck.core.compare import better_is_lower
from flowdeck.core.entities import ModelVersion, RunDetail
from flowdeck.core.errors import NotFound
from flowdeck.core.model_versions import DELETED_STAGE

STAGES = ("None", "Staging", "Production", "Archived")
ARCHIVING_STAGES = ("Staging", "Production")  # MLflow archives existing versions only for these
HOLDER, CANDIDATE, EQUAL = "holder", "candidate", "equal"


@dataclass(frozen=True)
class PromotionTarget:
    """Where a version is promoted: an alias, or a stage (optionally archiving its versions)."""

    alias: str | None = None
    stage: str | None = None
    archive_existing: bool = False

    def __post_init__(self) -> None:
        if (self.alias is None) == (self.stage is None):
            raise ValueError("A promotion target is either an alias or a stage.")
        if self.alias is not None and self.archive_existing:
            raise ValueError("Only a stage promotion can archive existing versions.")
        if self.stage is not None:
            object.__setattr__(self, "stage", canonical_stage(self.stage))

    @classmethod
    def to_alias(cls, alias: str) -> PromotionTarget:
        return cls(alias=alias.lstrip("@"))

    @classmethod
    def to_stage(cls, stage: str, archive_existing: bool = False) -> PromotionTarget:
        return cls(stage=stage, archive_existing=archive_existing)

    @property
    def label(self) -> str:
        """``@champion`` or ``stage Production``."""
        return f"@{self.alias}" if self.alias is not None else f"stage {self.stage}"


def canonical_stage(stage: str) -> str:
    """MLflow's spelling of a stage name given in any case; unknown names raise ValueError."""
    for known in STAGES:
        if known.lower() == stage.strip().lower():
            return known
    raise ValueError(f"'{stage}' is not a stage; MLflow knows {', '.join(STAGES)}.")


def live_versions(versions: Sequence[ModelVersion]) -> list[ModelVersion]:
    """The versions MLflow has not soft-deleted, oldest first."""
    return sorted(
        (version for version in versions if version.current_stage != DELETED_STAGE),
        key=lambda version: version.version,
    )


def holders(versions: Sequence[ModelVersion], target: PromotionTarget) -> tuple[int, ...]:
    """The version holding the alias, or every version now in the stage (ascending)."""
    if target.alias is not None:
        return tuple(v.version for v in live_versions(versions) if target.alias in v.aliases)
    return tuple(v.version for v in live_versions(versions) if v.current_stage == target.stage)


@dataclass(frozen=True)
class PromotionPlan:
    """Everything a promotion will change, in plain words, before anything is written.

    ``holders`` are the versions holding the target now (pass them to the writer as
    ``expected_holder``); ``problem`` is set when MLflow would refuse the write.
    """

    name: str
    candidate: ModelVersion
    target: PromotionTarget
    holders: tuple[int, ...]
    effects: tuple[str, ...]
    no_op: bool
    problem: str | None = None

    @property
    def holder_versions(self) -> tuple[int, ...]:
        """The current holders other than the candidate: the side shown next to it."""
        return tuple(version for version in self.holders if version != self.candidate.version)


def plan_promotion(
    versions: Sequence[ModelVersion], candidate: int, target: PromotionTarget
) -> PromotionPlan:
    """What promoting version ``candidate`` to ``target`` does, as MLflow applies it."""
    live = live_versions(versions)
    chosen = next((version for version in live if version.version == candidate), None)
    if chosen is None:
        raise NotFound(f"Version {candidate} does not exist or was deleted.")
    current = holders(live, target)
    problem = None
    if target.alias is not None:
        effects, no_op = _alias_effects(chosen, target.alias, current)
    else:
        effects, no_op = _stage_effects(live, chosen, target)
        if target.archive_existing and target.stage not in ARCHIVING_STAGES:
            problem = (
                f"MLflow archives existing versions only when moving to Staging or "
                f"Production, not {target.stage}."
            )
    if chosen.status not in (None, "READY"):
        effects.append(f"Note: v{candidate} is not ready (status {chosen.status}).")
    return PromotionPlan(chosen.name, chosen, target, current, tuple(effects), no_op, problem)


def _alias_effects(
    candidate: ModelVersion, alias: str, current: tuple[int, ...]
) -> tuple[list[str], bool]:
    if candidate.version in current:
        return [f"v{candidate.version} already holds @{alias}: nothing would change."], True
    if current:
        return [f"@{alias} moves from v{current[0]} to v{candidate.version}."], False
    return [f"@{alias} is set on v{candidate.version}; no version holds it now."], False


def _stage_effects(
    live: list[ModelVersion], candidate: ModelVersion, target: PromotionTarget
) -> tuple[list[str], bool]:
    stage = target.stage
    others = [v for v in live if v.version != candidate.version and v.current_stage == stage]
    effects: list[str] = []
    if candidate.current_stage == stage:
        effects.append(f"v{candidate.version} is already in {stage}.")
    else:
        effects.append(f"v{candidate.version} moves from {candidate.current_stage} to {stage}.")
    for other in others:
        if target.archive_existing:
            effects.append(f"v{other.version} moves from {stage} to Archived.")
        else:
            effects.append(f"v{other.version} stays in {stage} too (archiving is off).")
    no_op = candidate.current_stage == stage and not (target.archive_existing and others)
    if no_op:
        effects[0] = f"v{candidate.version} is already in {stage}: nothing would change."
    return effects, no_op


# --- holder and candidate side by side ----------------------------------------------------------


@dataclass(frozen=True)
class MetricDiff:
    """One metric of both source runs; ``difference`` is candidate minus holder."""

    key: str
    holder: float | None
    candidate: float | None
    difference: float | None
    lower_is_better: bool
    better: str | None  # HOLDER, CANDIDATE, EQUAL, or None when not comparable (NaN, missing)


@dataclass(frozen=True)
class ParamDiff:
    key: str
    holder: str | None
    candidate: str | None


@dataclass(frozen=True)
class SignatureCheck:
    """``compatible`` is None when either side has no signature (``summary`` says which)."""

    compatible: bool | None
    changes: tuple[str, ...]
    summary: str


@dataclass(frozen=True)
class VersionComparison:
    metrics: tuple[MetricDiff, ...]
    params: tuple[ParamDiff, ...]  # only the params whose values differ
    signature: SignatureCheck
    notes: tuple[str, ...]  # missing or deleted source runs, no holder


def compare_versions(
    holder: RunDetail | None,
    candidate: RunDetail | None,
    holder_signature: ModelInfo | None,
    candidate_signature: ModelInfo | None,
    lower_is_better: Mapping[str, bool] | None = None,
    *,
    has_holder: bool = True,
) -> VersionComparison:
    """The source runs' metrics and params and the models' signatures, side by side.

    ``lower_is_better`` overrides the direction guessed from a metric's name; a missing run
    (None) or deleted run is stated in ``notes``. ``has_holder=False``: nothing holds the target.
    """
    notes = [*_run_notes("current holder", holder, has_holder), *_run_notes("candidate", candidate)]
    holder_metrics = {key: m.value for key, m in holder.metrics.items()} if holder else {}
    candidate_metrics = {key: m.value for key, m in candidate.metrics.items()} if candidate else {}
    overrides = lower_is_better or {}
    metrics = tuple(
        _metric_diff(
            key,
            holder_metrics.get(key),
            candidate_metrics.get(key),
            overrides.get(key, better_is_lower(key)),
        )
        for key in sorted(holder_metrics.keys() | candidate_metrics.keys())
    )
    holder_params = holder.params if holder else {}
    candidate_params = candidate.params if candidate else {}
    params = tuple(
        ParamDiff(key, holder_params.get(key), candidate_params.get(key))
        for key in sorted(holder_params.keys() | candidate_params.keys())
        if holder_params.get(key) != candidate_params.get(key)
    )
    if not has_holder:
        params = ()
        signature = SignatureCheck(None, (), "No version holds the target now.")
    else:
        signature = compare_signatures(holder_signature, candidate_signature)
    return VersionComparison(metrics, params, signature, tuple(notes))


def _run_notes(side: str, run: RunDetail | None, exists: bool = True) -> list[str]:
    if not exists:
        return ["No version holds the target now: there is nothing to compare against."]
    if run is None:
        return [f"The {side}'s source run is missing: its metrics and params are unknown."]
    if run.info.lifecycle_stage == "deleted":
        return [f"The {side}'s source run {run.info.run_id} was deleted (it is in the trash)."]
    return []


def _metric_diff(
    key: str, holder: float | None, candidate: float | None, lower: bool
) -> MetricDiff:
    if holder is None or candidate is None or math.isnan(holder) or math.isnan(candidate):
        return MetricDiff(key, holder, candidate, None, lower, None)
    if holder == candidate:
        return MetricDiff(key, holder, candidate, 0.0, lower, EQUAL)
    difference = candidate - holder
    candidate_wins = (candidate < holder) == lower
    return MetricDiff(
        key, holder, candidate, difference, lower, CANDIDATE if candidate_wins else HOLDER
    )


# --- signatures -----------------------------------------------------------------------------------


def compare_signatures(holder: ModelInfo | None, candidate: ModelInfo | None) -> SignatureCheck:
    """Same inputs, outputs and params, or every column added, removed or changed."""
    holder_has = holder is not None and holder.has_signature
    candidate_has = candidate is not None and candidate.has_signature
    if not holder_has and not candidate_has:
        return SignatureCheck(None, (), "Neither version has a signature.")
    if not holder_has:
        return SignatureCheck(None, (), "The current holder has no signature.")
    if not candidate_has:
        return SignatureCheck(None, (), "The candidate has no signature.")
    assert holder is not None and candidate is not None
    changes: list[str] = []
    if holder.signature_kind != candidate.signature_kind:
        changes.append(
            f"The signature changes from {holder.signature_kind} to {candidate.signature_kind}."
        )
    for part in ("inputs", "outputs", "params"):
        changes.extend(_part_changes(part, getattr(holder, part), getattr(candidate, part)))
    if not changes:
        return SignatureCheck(True, (), "The signatures match.")
    count = len(changes)
    noun = "change" if count == 1 else "changes"
    return SignatureCheck(False, tuple(changes), f"The signatures differ ({count} {noun}).")


def _part_changes(
    part: str, old: list[SignatureRow] | None, new: list[SignatureRow] | None
) -> list[str]:
    singular = {"inputs": "input", "outputs": "output", "params": "param"}[part]
    if old is None and new is None:
        return []
    if old is None or new is None:
        return [f"The candidate {'adds' if old is None else 'drops'} the signature's {part}."]
    old_rows, new_rows = _keyed(old), _keyed(new)
    changes = [f"{singular} '{key}' removed" for key in old_rows if key not in new_rows]
    changes += [f"{singular} '{key}' added" for key in new_rows if key not in old_rows]
    for key, before in old_rows.items():
        after = new_rows.get(key)
        if after is None:
            continue
        if before.type != after.type:
            changes.append(f"{singular} '{key}' changes type: {before.type} → {after.type}")
        if before.shape != after.shape:
            changes.append(f"{singular} '{key}' changes shape: {before.shape} → {after.shape}")
        if before.required != after.required:
            now = "required" if after.required == "yes" else "optional"
            changes.append(f"{singular} '{key}' becomes {now}")
        if before.default != after.default:
            changes.append(
                f"{singular} '{key}' changes default: {before.default} → {after.default}"
            )
    return changes


def _keyed(rows: list[SignatureRow]) -> dict[str, SignatureRow]:
    """Rows by name; unnamed tensors by position (``#1``)."""
    return {row.name or f"#{index + 1}": row for index, row in enumerate(rows)}
