"""Parse trace assessments (feedback, expectations, issues) from database rows and JSON/YAML."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from flowdeck.core.entities import Assessment, TraceInfo
from flowdeck.core.errors import CorruptStore

KINDS = ("feedback", "expectation", "issue")


def _json_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _time_ms(value: Any) -> int | None:
    """Epoch ms from an int, a numeric string or an RFC 3339 timestamp."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, Mapping):
        return int(value.get("seconds", 0)) * 1000 + int(value.get("nanos", 0)) // 1_000_000
    text = str(value)
    if text.lstrip("-").isdigit():
        return int(text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(parsed.timestamp() * 1000)


def _str_dict(value: Any) -> dict[str, str]:
    value = _json_or_text(value)
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def _bool(value: Any, default: bool = True) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "")
    return bool(value)


def assessment_from_row(row: Mapping[str, Any]) -> Assessment:
    """An assessment from an ``assessments`` table row (``value``/``error`` as JSON text)."""
    try:
        kind = str(row["assessment_type"]).lower()
        if kind not in KINDS:
            raise ValueError(f"unknown assessment type {kind!r}")
        value = json.loads(row["value"]) if row.get("value") is not None else None
        error = _json_or_text(row.get("error"))
        return Assessment(
            assessment_id=str(row["assessment_id"]),
            trace_id=str(row["trace_id"]),
            name=str(row["name"]),
            kind=kind,
            value=value,
            source_type=row.get("source_type"),
            source_id=row.get("source_id"),
            created_time=_time_ms(row.get("created_timestamp")),
            last_updated_time=_time_ms(row.get("last_updated_timestamp")),
            span_id=row.get("span_id") or None,
            run_id=row.get("run_id") or None,
            rationale=row.get("rationale"),
            error=error if isinstance(error, dict) else None,
            metadata=_str_dict(row.get("assessment_metadata")),
            overrides=row.get("overrides") or None,
            valid=_bool(row.get("valid")),
        )
    except Exception as exc:
        ident = row.get("assessment_id", "?") if isinstance(row, Mapping) else "?"
        raise CorruptStore(f"Assessment {ident} is malformed: {exc}", detail=repr(exc)) from exc


def _expectation_value(expectation: Mapping[str, Any]) -> Any:
    if "serialized_value" in expectation:
        serialized = expectation["serialized_value"] or {}
        text = serialized.get("value")
        return json.loads(text) if isinstance(text, str) else text
    return expectation.get("value")


def assessment_from_dict(data: Mapping[str, Any], trace_id: str | None = None) -> Assessment:
    """An assessment from MLflow's JSON/YAML form (REST responses, file-store YAML)."""
    try:
        if data.get("feedback") is not None:
            kind, body = "feedback", data["feedback"]
            value, error = body.get("value"), body.get("error")
        elif data.get("expectation") is not None:
            kind, body = "expectation", data["expectation"]
            value, error = _expectation_value(body), None
        elif data.get("issue") is not None:
            kind, body = "issue", data["issue"]
            value, error = dict(body), None
        else:
            raise ValueError("it has no feedback, expectation or issue")
        source = data.get("source") or {}
        return Assessment(
            assessment_id=str(data.get("assessment_id") or ""),
            trace_id=str(data.get("trace_id") or trace_id or ""),
            name=str(data.get("assessment_name") or data.get("name") or ""),
            kind=kind,
            value=value,
            source_type=source.get("source_type"),
            source_id=source.get("source_id"),
            created_time=_time_ms(data.get("create_time")),
            last_updated_time=_time_ms(data.get("last_update_time")),
            span_id=data.get("span_id") or None,
            run_id=data.get("run_id") or None,
            rationale=data.get("rationale"),
            error=dict(error) if isinstance(error, Mapping) else None,
            metadata=_str_dict(data.get("metadata")),
            overrides=data.get("overrides") or None,
            valid=_bool(data.get("valid")),
        )
    except Exception as exc:
        ident = data.get("assessment_id", "?") if isinstance(data, Mapping) else "?"
        raise CorruptStore(f"Assessment {ident} is malformed: {exc}", detail=repr(exc)) from exc


def value_json(assessment: Assessment) -> str:
    """The value as MLflow stores it in SQL (``json.dumps``), used by filters."""
    return json.dumps(assessment.value)


_PASS = {"yes", "true", "pass", "passed"}
_FAIL = {"no", "false", "fail", "failed"}


def _badge_value(value: Any) -> str:
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, int | float):
        return f"{value:.3g}" if isinstance(value, float) else str(value)
    text = str(value).strip()
    if text.lower() in _PASS:
        return "✓"
    if text.lower() in _FAIL:
        return "✗"
    return text if len(text) <= 24 else text[:24] + "…"


def assessment_badges(assessments: Iterable[Assessment]) -> str:
    """``correctness ✓ · relevance ✗ · score 0.8``: the valid feedback of a trace, by name."""
    parts = []
    for item in sorted(assessments, key=lambda a: (a.name, a.created_time or 0)):
        if not item.valid or item.kind != "feedback":
            continue
        value = "⚠" if item.error and item.value is None else _badge_value(item.value)
        parts.append(f"{item.name} {value}")
    return " · ".join(parts)


def with_assessments(
    infos: Sequence[TraceInfo], found: Mapping[str, Sequence[Assessment] | None]
) -> list[TraceInfo]:
    """The trace infos with their assessments attached (oldest first)."""
    return [
        replace(info, assessments=tuple(sorted(items, key=lambda a: a.created_time or 0)))
        if (items := found.get(info.trace_id))
        else info
        for info in infos
    ]
