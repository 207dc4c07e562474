"""A model's deployment workflow (Qt-free): rules, the ``flowdeck.workflow`` tag, evaluation."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flowdeck.core.compare import better_is_lower
from flowdeck.core.entities import ModelVersion, RunDetail
from flowdeck.core.errors import InvalidWorkflow
from flowdeck.core.promotion import PromotionTarget, canonical_stage, holders
from flowdeck.core.runs_table_format import format_number

WORKFLOW_TAG = "flowdeck.workflow"
FORMAT_VERSION = 1
MAX_VALUE_CHARS = 5000  # the smallest tag value limit of MLflow's backends, old ones included
METRIC_THRESHOLD, BEATS_HOLDER, SIGNATURE_UNCHANGED = (
    "metric_threshold",
    "beats_holder",
    "signature_unchanged",
)
RULE_KINDS = (METRIC_THRESHOLD, BEATS_HOLDER, SIGNATURE_UNCHANGED)
OPERATORS = ("<", "<=", ">", ">=")
DIRECTIONS = ("lower", "higher")
ALIAS, STAGE = "alias", "stage"


@dataclass(frozen=True)
class Rule:
    """One check of ``evaluate``; build it with ``threshold``, ``beats`` or ``same_signature``.

    ``direction`` ('lower' / 'higher' is better) of a ``beats_holder`` rule is guessed from
    the metric's name (``compare.better_is_lower``) when None.
    """

    kind: str
    metric: str | None = None
    op: str | None = None
    value: float | None = None
    direction: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in RULE_KINDS:
            raise InvalidWorkflow(f"'{self.kind}' is not a kind of rule ({', '.join(RULE_KINDS)}).")
        if self.kind != SIGNATURE_UNCHANGED and not (self.metric or "").strip():
            raise InvalidWorkflow(f"A {self.kind} rule needs a metric.")
        if self.kind == METRIC_THRESHOLD:
            if self.op not in OPERATORS:
                raise InvalidWorkflow(f"'{self.op}' is not one of {' '.join(OPERATORS)}.")
            if not isinstance(self.value, int | float) or isinstance(self.value, bool):
                raise InvalidWorkflow(f"The threshold of {self.metric} must be a number.")
            if not math.isfinite(self.value):
                raise InvalidWorkflow(f"The threshold of {self.metric} must be a finite number.")
            object.__setattr__(self, "value", float(self.value))
        if self.direction is not None and self.direction not in DIRECTIONS:
            raise InvalidWorkflow(f"'{self.direction}' is not a direction (lower or higher).")

    @classmethod
    def threshold(cls, metric: str, op: str, value: float) -> Rule:
        return cls(METRIC_THRESHOLD, metric=metric, op=op, value=value)

    @classmethod
    def beats(cls, metric: str, direction: str | None = None) -> Rule:
        return cls(BEATS_HOLDER, metric=metric, direction=direction)

    @classmethod
    def same_signature(cls) -> Rule:
        return cls(SIGNATURE_UNCHANGED)

    @property
    def lower_is_better(self) -> bool:
        if self.direction is None:
            return better_is_lower(self.metric or "")
        return self.direction == "lower"

    def text(self, target_label: str = "the current holder") -> str:
        """``val_loss < 0.3``, ``beats @champion on val_loss (lower is better)``, …"""
        if self.kind == METRIC_THRESHOLD:
            return f"{self.metric} {self.op} {format_number(float(self.value or 0.0))}"
        if self.kind == BEATS_HOLDER:
            better = "lower" if self.lower_is_better else "higher"
            guessed = ", guessed from the name" if self.direction is None else ""
            return f"beats {target_label} on {self.metric} ({better} is better{guessed})"
        return f"signature unchanged from {target_label}"


@dataclass(frozen=True)
class Workflow:
    """Evaluate → approve → deploy to an alias or a stage, kept in the model's tags."""

    target_kind: str
    target: str
    rules: tuple[Rule, ...] = ()
    require_approval: bool = True
    archive_existing: bool = False  # stage targets only: archive the stage's other versions

    def __post_init__(self) -> None:
        if self.target_kind == ALIAS:
            alias = str(self.target).strip().lstrip("@")
            if not alias:
                raise InvalidWorkflow("A workflow needs the alias it deploys to.")
            if self.archive_existing:
                raise InvalidWorkflow("Only a stage workflow can archive existing versions.")
            object.__setattr__(self, "target", alias)
        elif self.target_kind == STAGE:
            try:
                stage = canonical_stage(str(self.target))
            except ValueError as error:
                raise InvalidWorkflow(str(error)) from error
            if stage in ("None", "Archived"):
                raise InvalidWorkflow(f"A workflow cannot deploy to the stage {stage}.")
            object.__setattr__(self, "target", stage)
        else:
            raise InvalidWorkflow(f"'{self.target_kind}' is not a target kind (alias or stage).")
        object.__setattr__(self, "rules", tuple(self.rules))

    @property
    def promotion_target(self) -> PromotionTarget:
        if self.target_kind == ALIAS:
            return PromotionTarget.to_alias(self.target)
        return PromotionTarget.to_stage(self.target, self.archive_existing)

    @property
    def label(self) -> str:
        """``@champion`` or ``stage Production``."""
        return self.promotion_target.label

    @property
    def compares_with_holder(self) -> bool:
        """True when a rule's outcome depends on which version holds the target."""
        return any(rule.kind != METRIC_THRESHOLD for rule in self.rules)


# --- the model tag ------------------------------------------------------------------------------


def workflow_tag_value(workflow: Workflow) -> str:
    """The compact JSON of the ``flowdeck.workflow`` tag; too long a workflow raises."""
    record: dict[str, object] = {"v": FORMAT_VERSION, workflow.target_kind: workflow.target}
    if workflow.archive_existing:
        record["archive"] = True
    record["rules"] = [_rule_record(rule) for rule in workflow.rules]
    record["approval"] = workflow.require_approval
    text = compact(record)
    if len(text) > MAX_VALUE_CHARS:
        raise InvalidWorkflow(
            f"The workflow is too long to keep in a tag ({len(text)} characters, at most "
            f"{MAX_VALUE_CHARS}); use fewer rules."
        )
    return text


def _rule_record(rule: Rule) -> dict[str, object]:
    record: dict[str, object] = {"kind": rule.kind}
    if rule.kind != SIGNATURE_UNCHANGED:
        record["metric"] = rule.metric
    if rule.kind == METRIC_THRESHOLD:
        record.update(op=rule.op, value=rule.value)
    if rule.kind == BEATS_HOLDER and rule.direction is not None:
        record["direction"] = rule.direction
    return record


def parse_workflow(value: str) -> Workflow:
    """The workflow in a tag value; anything malformed raises ``InvalidWorkflow`` (a message)."""
    try:
        record = json.loads(value)
    except (ValueError, TypeError) as error:
        raise InvalidWorkflow(f"The {WORKFLOW_TAG} tag is not JSON ({error}).") from error
    if not isinstance(record, dict):
        raise InvalidWorkflow(f"The {WORKFLOW_TAG} tag is not a JSON object.")
    if record.get("v") != FORMAT_VERSION:
        raise InvalidWorkflow(
            f"The {WORKFLOW_TAG} tag has format version {record.get('v')!r}; this Flowdeck "
            f"reads version {FORMAT_VERSION}."
        )
    try:
        kinds = [kind for kind in (ALIAS, STAGE) if kind in record]
        if len(kinds) != 1:
            raise InvalidWorkflow("it names no alias or stage, or both")
        rules = record.get("rules") or []
        if not isinstance(rules, list) or not all(isinstance(item, dict) for item in rules):
            raise InvalidWorkflow("its rules are not a list of objects")
        return Workflow(
            kinds[0],
            str(record[kinds[0]]),
            tuple(_parse_rule(item) for item in rules),
            require_approval=_flag(record.get("approval", True)),
            archive_existing=_flag(record.get("archive", False)),
        )
    except (InvalidWorkflow, ValueError, TypeError, KeyError) as error:
        raise InvalidWorkflow(f"The {WORKFLOW_TAG} tag is malformed: {error}.") from error


def _parse_rule(item: Mapping[str, object]) -> Rule:
    value = item.get("value")
    return Rule(
        str(item.get("kind")),
        metric=None if item.get("metric") is None else str(item["metric"]),
        op=None if item.get("op") is None else str(item["op"]),
        value=value if isinstance(value, int | float) else None,
        direction=None if item.get("direction") is None else str(item["direction"]),
    )


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidWorkflow(f"{value!r} is not true or false")
    return value


@dataclass(frozen=True)
class StoredWorkflow:
    """The workflow read from a model's tags: None when there is none or it is malformed."""

    workflow: Workflow | None
    problem: str | None = None


def read_workflow(model_tags: Mapping[str, str]) -> StoredWorkflow:
    """The model's workflow, or the plain reason it cannot be read; never raises."""
    value = model_tags.get(WORKFLOW_TAG)
    if value is None:
        return StoredWorkflow(None)
    try:
        return StoredWorkflow(parse_workflow(value))
    except InvalidWorkflow as error:
        return StoredWorkflow(None, error.message)


def compact(record: Mapping[str, object]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


# --- evaluation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    rule_text: str
    passed: bool
    detail: str

    @property
    def text(self) -> str:
        """``passed: val_loss < 0.3 — val_loss is 0.25`` (how a step's details keep it)."""
        return f"{'passed' if self.passed else 'failed'}: {self.rule_text} — {self.detail}"


@dataclass(frozen=True)
class Evaluation:
    """The checks of one evaluation; ``holder`` is the version compared against (None: none)."""

    passed: bool
    checks: tuple[Check, ...] = field(default_factory=tuple)
    holder: int | None = None

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.passed)


def current_holder(
    workflow: Workflow, versions: Sequence[ModelVersion], candidate: int
) -> ModelVersion | None:
    """The version a candidate is compared against: the first holder other than itself."""
    found = [
        number for number in holders(versions, workflow.promotion_target) if number != candidate
    ]
    return next((v for v in versions if found and v.version == found[0]), None)


def evaluate(
    workflow: Workflow,
    candidate: ModelVersion,
    candidate_run: RunDetail | None,
    holder: ModelVersion | None,
    holder_run: RunDetail | None,
    signatures_equal: bool | None,
    *,
    signature_summary: str | None = None,
) -> Evaluation:
    """Check the candidate against every rule; a missing or NaN value fails with the reason.

    ``signatures_equal`` is None when either signature is unknown; ``signature_summary``
    (``SignatureCheck.summary``) is added to the signature check's detail when given.
    """
    if holder is not None and holder.version == candidate.version:
        holder, holder_run = None, None
    checks = []
    for rule in workflow.rules:
        text = rule.text(workflow.label)
        if rule.kind == METRIC_THRESHOLD:
            passed, detail = _threshold(rule, candidate, candidate_run)
        elif rule.kind == BEATS_HOLDER:
            passed, detail = _beats(rule, candidate, candidate_run, holder, holder_run)
        else:
            passed, detail = _signature(holder, signatures_equal, signature_summary)
        checks.append(Check(text, passed, detail))
    holder_number = holder.version if holder is not None else None
    return Evaluation(all(check.passed for check in checks), tuple(checks), holder_number)


def _metric(
    side: str, version: ModelVersion, run: RunDetail | None, metric: str
) -> tuple[float | None, str]:
    """The run's latest value of ``metric``, or None and why it cannot be used."""
    if run is None:
        if not version.run_id:
            return None, f"{side} v{version.version} has no source run"
        return None, f"the source run {version.run_id} of {side} v{version.version} is missing"
    if run.info.lifecycle_stage == "deleted":
        return None, f"the source run {run.info.run_id} of {side} v{version.version} was deleted"
    found = run.metrics.get(metric)
    if found is None:
        return None, f"{side} v{version.version} has no metric {metric}"
    if math.isnan(found.value):
        return None, f"{metric} of {side} v{version.version} is NaN"
    return found.value, ""


def _threshold(rule: Rule, candidate: ModelVersion, run: RunDetail | None) -> tuple[bool, str]:
    value, reason = _metric("candidate", candidate, run, str(rule.metric))
    if value is None:
        return False, reason
    limit = float(rule.value or 0.0)
    passed = {
        "<": value < limit,
        "<=": value <= limit,
        ">": value > limit,
        ">=": value >= limit,
    }[str(rule.op)]
    return passed, f"{rule.metric} is {format_number(value)}"


def _beats(
    rule: Rule,
    candidate: ModelVersion,
    candidate_run: RunDetail | None,
    holder: ModelVersion | None,
    holder_run: RunDetail | None,
) -> tuple[bool, str]:
    metric = str(rule.metric)
    mine, reason = _metric("candidate", candidate, candidate_run, metric)
    if mine is None:
        return False, reason
    if holder is None:
        return True, "no current holder to beat"
    theirs, reason = _metric("holder", holder, holder_run, metric)
    if theirs is None:
        return False, reason
    shown = f"{format_number(mine)} against {format_number(theirs)} on v{holder.version}"
    if mine == theirs:
        return False, f"{metric} ties: {shown}"
    better = (mine < theirs) == rule.lower_is_better
    return better, f"{metric} {shown} ({'better' if better else 'worse'})"


def _signature(
    holder: ModelVersion | None, equal: bool | None, summary: str | None
) -> tuple[bool, str]:
    suffix = f" ({summary})" if summary else ""
    if holder is None:
        return True, "no current holder to compare with"
    if equal is None:
        return False, f"the signatures could not be compared{suffix}"
    if not equal:
        return False, f"the signature differs from v{holder.version}'s{suffix}"
    return True, f"same signature as v{holder.version}"
