"""Frozen dataclasses returned by every store backend (never ORM rows or raw JSON)."""

from __future__ import annotations

from collections.abc import Callable
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
    assessments: tuple[Assessment, ...] = ()  # filled by search_traces for the list's badges


@dataclass(frozen=True)
class SpanEvent:
    name: str
    time_unix_nano: int
    attributes: dict[str, Any] = field(default_factory=dict)


SpanPayload = tuple[str, dict[str, Any], tuple[SpanEvent, ...]]  # message, attributes, events
_INPUTS_KEY, _OUTPUTS_KEY = "mlflow.spanInputs", "mlflow.spanOutputs"


class Span:
    """One span (ids as lowercase hex); its payload may be kept raw and decoded on first use.

    ``name``, ``span_type``, ``status``, ids and times are plain attributes. ``status_message``,
    ``inputs``, ``outputs``, ``attributes`` and ``events`` of a lazy span (``Span.lazy``) are
    decoded from the stored JSON the first time one is read; a payload that cannot be decoded
    reads as empty and ``problem`` says why.
    """

    __slots__ = (
        "trace_id", "span_id", "parent_span_id", "name", "span_type", "status",
        "start_time_ns", "end_time_ns", "_payload", "_inputs", "_outputs", "_raw", "_decoder",
        "_problem",
    )  # fmt: skip

    def __init__(
        self,
        trace_id: str,
        span_id: str,
        parent_span_id: str | None,
        name: str,
        span_type: str,
        status: str,  # OK, ERROR, UNSET
        status_message: str = "",
        start_time_ns: int = 0,
        end_time_ns: int | None = None,
        inputs: Any = None,
        outputs: Any = None,
        attributes: dict[str, Any] | None = None,
        events: tuple[SpanEvent, ...] = (),
    ) -> None:
        self.trace_id, self.span_id, self.parent_span_id = trace_id, span_id, parent_span_id
        self.name, self.span_type, self.status = name, span_type, status
        self.start_time_ns, self.end_time_ns = start_time_ns, end_time_ns
        self._payload: SpanPayload | None = (status_message, attributes or {}, tuple(events))
        self._inputs, self._outputs = inputs, outputs
        self._raw: Any = None
        self._decoder: Callable[[Any], SpanPayload] | None = None
        self._problem: str | None = None

    @classmethod
    def lazy(
        cls,
        trace_id: str,
        span_id: str,
        parent_span_id: str | None,
        name: str,
        span_type: str,
        status: str,
        start_time_ns: int,
        end_time_ns: int | None,
        raw: Any,
        decoder: Callable[[Any], SpanPayload],
    ) -> Span:
        """A span whose payload is ``decoder(raw)``, run on first access (raises nothing)."""
        span = cls.__new__(cls)
        span.trace_id, span.span_id, span.parent_span_id = trace_id, span_id, parent_span_id
        span.name, span.span_type, span.status = name, span_type, status
        span.start_time_ns, span.end_time_ns = start_time_ns, end_time_ns
        span._payload, span._raw, span._decoder = None, raw, decoder
        span._inputs = span._outputs = span._problem = None
        return span

    def _decoded(self) -> SpanPayload:
        payload = self._payload
        if payload is None:
            try:
                payload = self._decoder(self._raw)  # type: ignore[misc]
            except Exception as exc:  # damaged stored data: an empty payload with a note
                message = getattr(exc, "message", None) or str(exc)
                self._problem = f"The data of span {self.name!r} is damaged: {message}"
                payload = ("", {}, ())
            attributes = payload[1]
            self._inputs = attributes.get(_INPUTS_KEY)
            self._outputs = attributes.get(_OUTPUTS_KEY)
            self._payload, self._raw = payload, None
        return payload

    @property
    def is_decoded(self) -> bool:
        return self._payload is not None

    @property
    def problem(self) -> str | None:
        self._decoded()
        return self._problem

    @property
    def status_message(self) -> str:
        return self._decoded()[0]

    @property
    def attributes(self) -> dict[str, Any]:
        return self._decoded()[1]

    @property
    def events(self) -> tuple[SpanEvent, ...]:
        return self._decoded()[2]

    @property
    def inputs(self) -> Any:
        self._decoded()
        return self._inputs

    @property
    def outputs(self) -> Any:
        self._decoded()
        return self._outputs

    def _key(self) -> tuple[Any, ...]:
        return (
            self.trace_id, self.span_id, self.parent_span_id, self.name, self.span_type,
            self.status, self.status_message, self.start_time_ns, self.end_time_ns, self.inputs,
            self.outputs, self.attributes, self.events,
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Span) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Span(name={self.name!r}, span_id={self.span_id!r}, span_type={self.span_type!r})"


@dataclass(frozen=True)
class Trace:
    info: TraceInfo
    spans: tuple[Span, ...]
    assessments: tuple[Assessment, ...] = ()
    problems: tuple[str, ...] = ()  # damaged parts that were skipped, in plain words
