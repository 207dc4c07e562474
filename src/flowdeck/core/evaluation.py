"""Evaluation runs (``mlflow.genai.evaluate``): rows × judges, pass rates, run-to-run changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flowdeck.core.entities import Assessment, TraceInfo

JUDGE_SOURCES = ("LLM_JUDGE", "CODE")
PASS_TEXTS = {"yes": True, "true": True, "pass": True, "no": False, "false": False, "fail": False}


def verdict_of(value: Any) -> bool | None:
    """True/False for a pass/fail value (booleans, yes/no), None for numbers and text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return PASS_TEXTS.get(value.strip().lower())
    return None


@dataclass(frozen=True)
class Verdict:
    value: Any
    passed: bool | None
    rationale: str | None
    error: str | None = None

    def text(self) -> str:
        if self.error:
            return "error"
        if self.passed is not None:
            return "✓ pass" if self.passed else "✗ fail"
        return "" if self.value is None else str(self.value)


@dataclass(frozen=True)
class EvaluationRow:
    trace_id: str
    request: str
    response: str
    verdicts: dict[str, Verdict]
    expectations: dict[str, Any]

    @property
    def failed(self) -> bool:
        return any(v.passed is False or v.error for v in self.verdicts.values())


@dataclass(frozen=True)
class EvaluationTable:
    rows: tuple[EvaluationRow, ...]
    judges: tuple[str, ...]
    pass_rates: dict[str, tuple[int, int]]  # judge → (passed, judged with pass/fail)

    def rate_text(self) -> str:
        """``exact 1/3 (33%) · short 2/3 (67%)``."""
        parts = []
        for judge in self.judges:
            passed, total = self.pass_rates.get(judge, (0, 0))
            if total:
                parts.append(f"{judge} {passed}/{total} ({100 * passed / total:.0f}%)")
        return " · ".join(parts)


def current_feedback(assessments: Sequence[Assessment]) -> list[Assessment]:
    """The judges' feedback that still counts: overridden or invalid ones left out."""
    overridden = {a.overrides for a in assessments if a.overrides}
    return [
        a
        for a in assessments
        if a.kind == "feedback" and a.valid and a.assessment_id not in overridden
    ]


def evaluation_row(info: TraceInfo, assessments: Sequence[Assessment]) -> EvaluationRow:
    verdicts = {}
    ordered = sorted(current_feedback(assessments), key=lambda a: a.created_time or 0)
    for feedback in ordered:  # judges write on the root span; a later verdict of a name wins
        error = None
        if feedback.error:
            error = str(feedback.error.get("error_message") or feedback.error)
        verdicts[feedback.name] = Verdict(
            feedback.value, verdict_of(feedback.value), feedback.rationale, error
        )
    expectations = {a.name: a.value for a in assessments if a.kind == "expectation"}
    return EvaluationRow(
        info.trace_id,
        info.request_preview or "",
        info.response_preview or "",
        verdicts,
        expectations,
    )


def evaluation_table(traces: Sequence[tuple[TraceInfo, Sequence[Assessment]]]) -> EvaluationTable:
    """One row per trace, one column per judge, ordered by request."""
    rows = [evaluation_row(info, assessments) for info, assessments in traces]
    rows.sort(key=lambda row: (row.request, row.trace_id))
    judges = sorted({judge for row in rows for judge in row.verdicts})
    rates = {}
    for judge in judges:
        judged = [row.verdicts[judge] for row in rows if judge in row.verdicts]
        with_verdict = [v for v in judged if v.passed is not None]
        rates[judge] = (sum(1 for v in with_verdict if v.passed), len(with_verdict))
    return EvaluationTable(tuple(rows), tuple(judges), rates)


@dataclass(frozen=True)
class VerdictChange:
    request: str
    judge: str
    before: Verdict | None
    after: Verdict | None
    trace_before: str | None
    trace_after: str | None

    @property
    def kind(self) -> str:
        """``fixed``, ``broke``, ``changed``, ``new`` or ``gone``."""
        if self.before is None:
            return "new"
        if self.after is None:
            return "gone"
        if self.before.passed is False and self.after.passed is True:
            return "fixed"
        if self.before.passed is True and self.after.passed is False:
            return "broke"
        return "changed"


def compare_evaluations(before: EvaluationTable, after: EvaluationTable) -> list[VerdictChange]:
    """Rows matched by their request; every judge whose verdict differs between the two runs."""
    old = {row.request: row for row in before.rows}
    new = {row.request: row for row in after.rows}
    changes = []
    for request in sorted(set(old) | set(new)):
        a, b = old.get(request), new.get(request)
        judges = sorted(set(a.verdicts if a else ()) | set(b.verdicts if b else ()))
        for judge in judges:
            first = a.verdicts.get(judge) if a else None
            second = b.verdicts.get(judge) if b else None
            same = (
                first is not None
                and second is not None
                and (first.passed, first.value, bool(first.error))
                == (second.passed, second.value, bool(second.error))
            )
            if not same:
                changes.append(
                    VerdictChange(
                        request, judge, first, second, a.trace_id if a else None,
                        b.trace_id if b else None,
                    )
                )
    return changes
