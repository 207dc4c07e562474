"""Assessments parsed from database rows and from MLflow's JSON/YAML form."""

from __future__ import annotations

import json

import pytest

from flowdeck.core.assessments import assessment_from_dict, assessment_from_row
from flowdeck.core.errors import CorruptStore


def row(**overrides):
    base = {
        "assessment_id": "a-1",
        "trace_id": "tr-1",
        "name": "quality",
        "assessment_type": "feedback",
        "value": "true",
        "error": None,
        "created_timestamp": 1000,
        "last_updated_timestamp": 2000,
        "source_type": "HUMAN",
        "source_id": "me",
        "run_id": None,
        "span_id": None,
        "rationale": "good",
        "overrides": None,
        "valid": 1,
        "assessment_metadata": json.dumps({"k": "v", "n": 3}),
    }
    base.update(overrides)
    return base


def test_feedback_row():
    item = assessment_from_row(row())
    assert (item.kind, item.value, item.valid) == ("feedback", True, True)
    assert item.metadata == {"k": "v", "n": "3"}
    assert (item.created_time, item.last_updated_time) == (1000, 2000)
    assert item.rationale == "good" and item.source_type == "HUMAN"


def test_error_row_and_invalid_row():
    error = {"error_code": "TIMEOUT", "error_message": "judge timed out"}
    item = assessment_from_row(row(value="null", error=json.dumps(error), valid=0))
    assert item.value is None and item.error == error and item.valid is False


def test_issue_row():
    item = assessment_from_row(
        row(
            assessment_type="issue", name="iss-1", value=json.dumps({"issue_name": "Hallucination"})
        )
    )
    assert item.kind == "issue" and item.value == {"issue_name": "Hallucination"}


@pytest.mark.parametrize("broken", [{"assessment_type": "weird"}, {"value": "{not json"}])
def test_broken_row_raises_corrupt_store(broken):
    with pytest.raises(CorruptStore):
        assessment_from_row(row(**broken))


def test_json_forms():
    feedback = assessment_from_dict(
        {
            "assessment_id": "a-2",
            "assessment_name": "score",
            "trace_id": "tr-9",
            "source": {"source_type": "LLM_JUDGE", "source_id": "gpt"},
            "create_time": "2025-01-02T03:04:05.678Z",
            "last_update_time": "2025-01-02T03:04:05.678Z",
            "feedback": {"value": 0.5, "error": {"error_code": "X"}},
            "metadata": {"a": "b"},
            "rationale": "meh",
        }
    )
    assert feedback.kind == "feedback" and feedback.value == 0.5
    assert feedback.created_time == 1735787045678 and feedback.error == {"error_code": "X"}
    assert feedback.source_type == "LLM_JUDGE" and feedback.trace_id == "tr-9"
    plain = assessment_from_dict(
        {"assessment_name": "e", "expectation": {"value": [1, 2]}, "create_time": 5},
        trace_id="tr-1",
    )
    assert plain.kind == "expectation" and plain.value == [1, 2] and plain.trace_id == "tr-1"
    serialized = assessment_from_dict(
        {
            "assessment_name": "e",
            "expectation": {
                "serialized_value": {"serialization_format": "JSON_FORMAT", "value": '{"x": 1}'}
            },
        }
    )
    assert serialized.value == {"x": 1}
    issue = assessment_from_dict(
        {"assessment_name": "iss-1", "valid": False, "issue": {"issue_name": "Loop"}}
    )
    assert issue.kind == "issue" and issue.valid is False
    with pytest.raises(CorruptStore):
        assessment_from_dict({"assessment_name": "nothing"})
