"""Frozen dataclasses returned by every store backend (never ORM rows or raw JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, TypeVar

T = TypeVar("T")


class Page(NamedTuple, Generic[T]):
    """One page of a listing call; ``next_token`` is None on the last page."""

    items: list[T]
    next_token: str | None = None


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str | None
    lifecycle_stage: str
    creation_time: int | None = None
    last_update_time: int | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return self.tags.get("mlflow.note.content", "")


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    status: str
    start_time: int | None
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str | None
    user_id: str | None = None


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    timestamp: int
    step: int


@dataclass(frozen=True)
class DatasetInput:
    name: str
    digest: str
    source_type: str | None
    source: str | None
    schema: str | None
    profile: str | None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def context(self) -> str | None:
        return self.tags.get("mlflow.data.context")


@dataclass(frozen=True)
class ModelOutput:
    model_id: str
    step: int = 0


@dataclass(frozen=True)
class RunDetail:
    info: RunInfo
    params: dict[str, str]
    metrics: dict[str, Metric]
    tags: dict[str, str]
    inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[str] = field(default_factory=list)
    outputs: list[ModelOutput] = field(default_factory=list)

    @property
    def description(self) -> str:
        return self.tags.get("mlflow.note.content", "")

    @property
    def parent_run_id(self) -> str | None:
        return self.tags.get("mlflow.parentRunId")


@dataclass(frozen=True)
class ArtifactEntry:
    path: str
    is_dir: bool
    file_size: int | None = None


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    creation_time: int | None
    last_updated_time: int | None
    current_stage: str
    description: str | None
    user_id: str | None
    source: str | None
    run_id: str | None
    status: str | None
    status_message: str | None = None
    run_link: str | None = None
    storage_location: str | None = None
    model_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    creation_time: int | None
    last_updated_time: int | None
    description: str | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)

    @property
    def is_prompt(self) -> bool:
        return self.tags.get("mlflow.prompt.is_prompt", "").lower() == "true"


@dataclass(frozen=True)
class LoggedModelMetric:
    """One metric value of a logged model, with the dataset and run it was measured in."""

    key: str
    value: float
    step: int
    timestamp: int | None
    dataset_name: str | None = None
    dataset_digest: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class LoggedModel:
    model_id: str
    experiment_id: str
    name: str
    artifact_location: str | None
    creation_time: int | None
    last_updated_time: int | None
    status: str
    model_type: str | None
    source_run_id: str | None
    status_message: str | None = None
    lifecycle_stage: str = "active"
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: tuple[LoggedModelMetric, ...] = ()


@dataclass(frozen=True)
class Assessment:
    assessment_id: str
    trace_id: str
    name: str
    kind: str  # "feedback", "expectation" or "issue"
    value: Any
    source_type: str | None
    source_id: str | None
    created_time: int | None
    last_updated_time: int | None
    span_id: str | None = None
    run_id: str | None = None
    rationale: str | None = None
    error: dict[str, Any] | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    overrides: str | None = None
    valid: bool = True


@dataclass(frozen=True)
class TraceInfo:
    trace_id: str
    experiment_id: str
    timestamp_ms: int
    execution_time_ms: int | None
    status: str  # OK, ERROR, IN_PROGRESS, STATE_UNSPECIFIED
    request_preview: str | None = None
    response_preview: str | None = None
    client_request_id: str | None = None
    name: str | None = None
    session_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    token_usage: dict[str, int] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SpanEvent:
    name: str
    time_unix_nano: int
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Span:
    """One span, normalised from any of MLflow's span encodings (ids as lowercase hex)."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    span_type: str
    status: str  # OK, ERROR, UNSET
    status_message: str
    start_time_ns: int
    end_time_ns: int | None
    inputs: Any = None
    outputs: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: tuple[SpanEvent, ...] = ()


@dataclass(frozen=True)
class Trace:
    info: TraceInfo
    spans: tuple[Span, ...]
    assessments: tuple[Assessment, ...] = ()
