"""Workflow steps kept as version tags, what a version may do next, and its activity log."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flowdeck.core.deploy_workflow import MAX_VALUE_CHARS, Evaluation, Workflow, compact
from flowdeck.core.entities import ModelVersion
from flowdeck.core.promotion_history import promotion_history
from flowdeck.core.text_format import format_time

PREFIX = "flowdeck.workflow."
EVALUATE, APPROVE, DEPLOY = "evaluate", "approve", "deploy"
STEP_KINDS = (EVALUATE, APPROVE, DEPLOY)
PROMOTION = "promotion"
MAX_DETAIL_CHARS = 500


@dataclass(frozen=True)
class Step:
    """One recorded step; ``holder`` is the version an evaluation compared against and
    ``promotion_ms`` the time of the promotion record a deploy wrote."""

    kind: str
    passed: bool
    when_ms: int
    who: str | None = None
    note: str = ""
    details: tuple[str, ...] = ()
    target: str | None = None  # the workflow's label, ``@champion`` / ``stage Production``
    holder: int | None = None
    promotion_ms: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in STEP_KINDS:
            raise ValueError(f"'{self.kind}' is not a workflow step ({', '.join(STEP_KINDS)}).")
        object.__setattr__(self, "details", tuple(str(item) for item in self.details))


def step_key(when_ms: int) -> str:
    return f"{PREFIX}{int(when_ms)}"


def evaluation_step(
    workflow: Workflow, evaluation: Evaluation, when_ms: int, who: str | None, note: str = ""
) -> Step:
    """The step recording an evaluation: its checks as details, the holder it compared with."""
    return Step(
        EVALUATE,
        evaluation.passed,
        when_ms,
        who,
        note,
        tuple(check.text for check in evaluation.checks),
        workflow.label,
        evaluation.holder,
    )


def step_tags(step: Step) -> dict[str, str]:
    """The tag recording ``step``; details, then note and user, are shortened to fit.

    The key is ``flowdeck.workflow.<ms>`` (UTC epoch milliseconds), the value compact JSON,
    e.g. ``{"step":"evaluate","passed":false,"target":"@champion","user":"ana",
    "details":["failed: val_loss < 0.3 — val_loss is 0.4"],"holder":1}``; it stays under
    ``MAX_VALUE_CHARS`` (5000), below every MLflow backend's tag value limit.
    """
    details = [_shorten(item, MAX_DETAIL_CHARS) for item in step.details]
    record = _record(step, details)
    kept = len(details)
    while len(compact(record)) > MAX_VALUE_CHARS and kept > 0:
        kept -= 1
        dropped = len(details) - kept
        record = _record(step, [*details[:kept], f"… {dropped} more not kept"])
    for name in ("note", "user"):
        while len(compact(record)) > MAX_VALUE_CHARS and len(str(record.get(name, ""))) > 1:
            excess = len(compact(record)) - MAX_VALUE_CHARS
            record[name] = str(record[name])[: -(excess + 1)] + "…"
    return {step_key(step.when_ms): compact(record)}


def _record(step: Step, details: list[str]) -> dict[str, object]:
    record: dict[str, object] = {"step": step.kind, "passed": step.passed}
    optional = {
        "target": step.target,
        "user": step.who,
        "note": step.note,
        "details": details,
        "holder": step.holder,
        "promotion": step.promotion_ms,
    }
    record.update((key, value) for key, value in optional.items() if value not in (None, "", []))
    return record


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_steps(version: ModelVersion) -> list[Step]:
    """The steps recorded on a version, oldest first; tags that do not parse are skipped."""
    steps = []
    for key, value in version.tags.items():
        if key.startswith(PREFIX):
            step = _parse_step(key[len(PREFIX) :], value)
            if step is not None:
                steps.append(step)
    return sorted(steps, key=lambda step: step.when_ms)


def _parse_step(stamp: str, value: str) -> Step | None:
    try:
        record = json.loads(value)
        if not isinstance(record, dict) or not isinstance(record.get("passed"), bool):
            return None
        details = record.get("details") or []
        if not isinstance(details, list):
            return None
        return Step(
            str(record["step"]),
            record["passed"],
            int(stamp),
            _text_or_none(record.get("user")),
            str(record.get("note") or ""),
            tuple(str(item) for item in details),
            _text_or_none(record.get("target")),
            _int_or_none(record.get("holder")),
            _int_or_none(record.get("promotion")),
        )
    except (ValueError, TypeError, KeyError):
        return None


def _text_or_none(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _int_or_none(value: object) -> int | None:
    return None if value is None else int(str(value))


# --- what is allowed now --------------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """``step`` is the next one of the flow (None once the version holds the target);
    ``blocked`` says why each step not allowed now is not. Evaluating is always allowed."""

    step: str | None
    blocked: Mapping[str, str] = field(default_factory=dict)

    def allows(self, kind: str) -> bool:
        return kind not in self.blocked

    def why_not(self, kind: str) -> str | None:
        return self.blocked.get(kind)

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(kind for kind in STEP_KINDS if kind not in self.blocked)


def holds_target(workflow: Workflow, version: ModelVersion) -> bool:
    if workflow.target_kind == "alias":
        return workflow.target in version.aliases
    return version.current_stage == workflow.target


def next_step(
    workflow: Workflow, version: ModelVersion, holders: Sequence[int] | None = None
) -> NextStep:
    """What ``version`` may do now under ``workflow``, and why not.

    Only steps for the workflow's target since the version's last deploy count. Approving
    needs the latest evaluation to have passed; deploying needs that too, plus (when the
    workflow requires it) an approval newer than that evaluation, and no rejection after
    it. Given ``holders`` (the versions holding the target now), an evaluation that compared
    against another holder than today's is stale when a rule depends on the holder.
    """
    steps = [
        step for step in read_steps(version) if step.target is None or step.target == workflow.label
    ]
    deploys = [index for index, step in enumerate(steps) if step.kind == DEPLOY and step.passed]
    if deploys:
        steps = steps[deploys[-1] + 1 :]
    evaluation = _last(steps, EVALUATE)
    name = f"v{version.version}"
    problem = _evaluation_problem(workflow, name, evaluation, holders, version.version)
    blocked: dict[str, str] = {}
    if problem:
        blocked[APPROVE] = blocked[DEPLOY] = problem
    else:
        assert evaluation is not None
        later = [
            step for step in steps if step.kind == APPROVE and step.when_ms > evaluation.when_ms
        ]
        approval = later[-1] if later else None
        if approval is not None and not approval.passed:
            blocked[DEPLOY] = f"{name} was rejected {_by(approval)}{_said(approval.note)}."
        elif approval is None and workflow.require_approval:
            blocked[DEPLOY] = (
                f"{name} needs an approval after its latest evaluation "
                f"({format_time(evaluation.when_ms)})."
            )
    if holds_target(workflow, version):
        blocked[DEPLOY] = f"{name} already holds {workflow.label}."
        return NextStep(None, blocked)
    if APPROVE in blocked:
        return NextStep(EVALUATE, blocked)
    return NextStep(DEPLOY if DEPLOY not in blocked else APPROVE, blocked)


def _evaluation_problem(
    workflow: Workflow,
    name: str,
    evaluation: Step | None,
    holders: Sequence[int] | None,
    number: int,
) -> str | None:
    if evaluation is None:
        return f"{name} has not been evaluated for {workflow.label} yet."
    if not evaluation.passed:
        failures = [
            item[len("failed: ") :] for item in evaluation.details if item.startswith("failed: ")
        ]
        reason = "; ".join(failures) or "a check failed"
        return (
            f"The latest evaluation of {name} ({format_time(evaluation.when_ms)}) failed: {reason}."
        )
    if holders is not None and workflow.compares_with_holder:
        others = sorted(int(item) for item in holders if int(item) != number)
        now = others[0] if others else None
        if now != evaluation.holder:
            compared = f"v{evaluation.holder}" if evaluation.holder is not None else "no holder"
            holding = f"v{now} holds" if now is not None else "no version holds"
            return (
                f"The latest evaluation of {name} compared it with {compared}, but {holding} "
                f"{workflow.label} now: evaluate it again."
            )
    return None


def _last(steps: Sequence[Step], kind: str) -> Step | None:
    found = [step for step in steps if step.kind == kind]
    return found[-1] if found else None


def _by(step: Step) -> str:
    who = f"by {step.who} " if step.who else ""
    return f"{who}at {format_time(step.when_ms)}"


def _said(note: str) -> str:
    return f": {note}" if note else ""


# --- activity log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityEntry:
    """One line of a version's activity: a workflow step or a promotion (``passed`` None)."""

    time_ms: int | None
    kind: str  # evaluate, approve, deploy or promotion
    text: str
    passed: bool | None = None
    who: str | None = None
    note: str | None = None
    details: tuple[str, ...] = ()
    inferred: bool = False


def activity_log(versions: Sequence[ModelVersion], version: int) -> list[ActivityEntry]:
    """Version ``version``'s workflow steps and the promotions that gave or took its alias or
    stage, ordered by time (undated inferred promotions last).

    A promotion written by a deploy step is shown once, as the deploy.
    """
    chosen = next((item for item in versions if item.version == version), None)
    steps = read_steps(chosen) if chosen is not None else []
    by_deploy = {step.promotion_ms for step in steps if step.promotion_ms is not None}
    entries = [_step_entry(step) for step in steps]
    for record in promotion_history(versions):
        if record.version != version and version not in record.previous:
            continue
        if record.version == version and not record.inferred and record.time_ms in by_deploy:
            continue
        entries.append(
            ActivityEntry(
                record.time_ms,
                PROMOTION,
                record.text,
                None,
                record.user,
                record.note,
                inferred=record.inferred,
            )
        )
    order = {id(entry): index for index, entry in enumerate(entries)}
    return sorted(
        entries, key=lambda entry: (entry.time_ms is None, entry.time_ms or 0, order[id(entry)])
    )


def _step_entry(step: Step) -> ActivityEntry:
    target = step.target or "the workflow's target"
    if step.kind == EVALUATE:
        failed = sum(1 for item in step.details if item.startswith("failed: "))
        count = len(step.details)
        if not count:
            outcome = "passed (no rules)" if step.passed else "failed"
        elif step.passed:
            outcome = f"passed ({count} {'check' if count == 1 else 'checks'})"
        else:
            outcome = f"failed ({failed} of {count} checks)"
        text = f"Evaluated for {target}: {outcome}"
    elif step.kind == APPROVE:
        text = f"{'Approved' if step.passed else 'Rejected'} for {target}"
    else:
        text = f"Deployed to {target}" if step.passed else f"Deploy to {target} failed"
    who = f" by {step.who}" if step.who else ""
    return ActivityEntry(
        step.when_ms, step.kind, text + who, step.passed, step.who, step.note or None, step.details
    )
