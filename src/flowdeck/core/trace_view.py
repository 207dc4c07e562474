"""What the trace inspector shows of a span tree (Qt-free): filters, critical path, tokens, chat."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from flowdeck.core.entities import Span
from flowdeck.core.trace_tree import TraceTree

TOKEN_USAGE_ATTRIBUTE = "mlflow.chat.tokenUsage"
COST_ATTRIBUTE = "mlflow.llm.cost"
MODEL_ATTRIBUTE = "mlflow.llm.model"
ERROR = "ERROR"
SPAN_TYPES = (
    "AGENT", "CHAIN", "CHAT_MODEL", "LLM", "TOOL", "RETRIEVER", "RERANKER", "EMBEDDING",
    "PARSER", "MEMORY", "WORKFLOW", "TASK", "GUARDRAIL", "EVALUATOR", "UNKNOWN",
)  # fmt: skip


@dataclass(frozen=True)
class Tokens:
    input: int | None = None
    output: int | None = None
    total: int | None = None

    def __bool__(self) -> bool:
        return any(value is not None for value in (self.input, self.output, self.total))

    def text(self) -> str:
        """``120 in · 45 out · 165`` (what is known of it)."""
        parts = []
        if self.input is not None:
            parts.append(f"{self.input:,} in")
        if self.output is not None:
            parts.append(f"{self.output:,} out")
        if self.total is not None:
            parts.append(f"{self.total:,}")
        return " · ".join(parts)


def format_span_duration(duration_ns: int | None) -> str:
    """``450 µs``, ``12.3 ms``, ``4.21 s`` or ``running`` (None: the span has not ended)."""
    if duration_ns is None:
        return "running"
    if duration_ns < 1_000_000:
        return f"{duration_ns / 1000:.0f} µs"
    if duration_ns < 1_000_000_000:
        return f"{duration_ns / 1e6:.3g} ms"
    if duration_ns < 60_000_000_000:
        return f"{duration_ns / 1e9:.3g} s"
    minutes, seconds = divmod(duration_ns / 1e9, 60)
    return f"{int(minutes)} min {seconds:.0f} s"


def _number(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _mapping(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def span_tokens(span: Span) -> Tokens:
    """The span's token usage (``mlflow.chat.tokenUsage``), empty when it records none."""
    usage = _mapping(span.attributes.get(TOKEN_USAGE_ATTRIBUTE))
    if not usage:
        return Tokens()
    found = Tokens(
        _number(usage.get("input_tokens")),
        _number(usage.get("output_tokens")),
        _number(usage.get("total_tokens")),
    )
    if found.total is None and found.input is not None and found.output is not None:
        found = Tokens(found.input, found.output, found.input + found.output)
    return found


def critical_path(tree: TraceTree) -> frozenset[int]:
    """The chain from the root that ended last down through the child that ended last."""
    if not tree.roots:
        return frozenset()

    def end(index: int) -> int:
        duration = tree.duration_ns[index]
        return tree.offset_ns[index] + (duration or 0)

    chain = []
    current: int | None = max(tree.roots, key=end)
    while current is not None:
        chain.append(current)
        children = tree.children[current]
        current = max(children, key=end) if children else None
    return frozenset(chain)


@dataclass(frozen=True)
class SpanFilter:
    """Which spans to show: name text, span types and statuses (empty sets mean any)."""

    text: str = ""
    types: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()

    @property
    def active(self) -> bool:
        return bool(self.text.strip() or self.types or self.statuses)

    def matches(self, span: Span) -> bool:
        if self.types and span.span_type not in self.types:
            return False
        if self.statuses and span.status not in self.statuses:
            return False
        needle = self.text.strip().casefold()
        return not needle or needle in span.name.casefold() or needle == span.span_id


def filter_keep(
    tree: TraceTree, span_filter: SpanFilter, state: Any = None
) -> tuple[bytearray | None, int]:
    """Which spans to keep (matches and their ancestors; None: all), and the match count.

    ``state`` (a TaskState) is checked every few thousand spans.
    """
    if not span_filter.active:
        return None, len(tree)
    keep = bytearray(len(tree))
    matched = 0
    for position, index in enumerate(reversed(tree.order)):
        if state is not None and position % 4096 == 0:
            state.check()
        if span_filter.matches(tree.spans[index]):
            keep[index] = 1
            matched += 1
        if keep[index] and tree.parent[index] >= 0:
            keep[tree.parent[index]] = 1
    return keep, matched


def next_error(tree: TraceTree, after: int | None) -> int | None:
    """The next span with status ERROR in tree order after span ``after`` (wrapping around)."""
    order = tree.order
    start = order.index(after) + 1 if after is not None and after in set(order) else 0
    for offset in range(len(order)):
        index = order[(start + offset) % len(order)]
        if tree.spans[index].status == ERROR:
            return index
    return None


def ancestors(tree: TraceTree, index: int) -> list[int]:
    """The span's ancestors, root first."""
    chain = []
    parent = tree.parent[index]
    while parent >= 0 and len(chain) <= len(tree):
        chain.append(parent)
        parent = tree.parent[parent]
    return list(reversed(chain))


# --- chat and retrieval ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str
    tool_calls: tuple[str, ...] = ()  # ``name(arguments)`` of each call


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            else:
                parts.append(json.dumps(part, ensure_ascii=False, default=str))
        return "\n".join(parts)
    return json.dumps(content, ensure_ascii=False, default=str)


def _tool_calls(message: dict[str, Any]) -> tuple[str, ...]:
    calls = message.get("tool_calls")
    if not isinstance(calls, list):
        return ()
    texts = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            texts.append(f"{function.get('name', '?')}({function.get('arguments', '')})")
    return tuple(texts)


def _messages(value: Any) -> list[ChatMessage]:
    if not isinstance(value, list):
        return []
    found = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("role"), str):
            return []
        found.append(
            ChatMessage(item["role"], _content_text(item.get("content")), _tool_calls(item))
        )
    return found


def chat_messages(span: Span) -> list[ChatMessage]:
    """The conversation a chat span carries: its input messages and the reply (or [])."""
    inputs = span.inputs
    messages = _messages(inputs.get("messages")) if isinstance(inputs, dict) else _messages(inputs)
    if not messages:
        return []
    outputs = span.outputs
    if isinstance(outputs, dict):
        choices = outputs.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            messages += _messages([choices[0].get("message")])
        elif isinstance(outputs.get("message"), dict):
            messages += _messages([outputs["message"]])
    elif isinstance(outputs, str) and outputs:
        messages.append(ChatMessage("assistant", outputs))
    return messages


@dataclass(frozen=True)
class Document:
    text: str
    score: float | None
    source: str


def retriever_documents(span: Span) -> list[Document]:
    """The documents a retriever span returned (MLflow's ``Document`` shape), or []."""
    outputs = span.outputs
    if not isinstance(outputs, list):
        return []
    found = []
    for item in outputs:
        if not isinstance(item, dict) or "page_content" not in item:
            return []
        metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
        score = metadata.get("score", item.get("score"))
        source = metadata.get("doc_uri") or metadata.get("source") or item.get("id") or ""
        found.append(
            Document(
                _content_text(item.get("page_content")),
                float(score) if isinstance(score, int | float) else None,
                str(source),
            )
        )
    return found


def exception_events(span: Span) -> list[tuple[str, str, str]]:
    """(type, message, stack trace) of each exception event of the span."""
    found = []
    for event in span.events:
        if event.name == "exception":
            attributes = event.attributes
            found.append(
                (
                    str(attributes.get("exception.type", "")),
                    str(attributes.get("exception.message", "")),
                    str(attributes.get("exception.stacktrace", "")),
                )
            )
    return found


def span_json(span: Span) -> str:
    """The span as indented JSON (MLflow's field names), for Copy Span."""
    record = {
        "name": span.name,
        "span_id": span.span_id,
        "parent_id": span.parent_span_id,
        "trace_id": span.trace_id,
        "span_type": span.span_type,
        "status": {"code": span.status, "message": span.status_message},
        "start_time_ns": span.start_time_ns,
        "end_time_ns": span.end_time_ns,
        "inputs": span.inputs,
        "outputs": span.outputs,
        "attributes": span.attributes,
        "events": [
            {"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": e.attributes}
            for e in span.events
        ],
    }
    return json.dumps(record, indent=2, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class SpanFacts:
    """What a trace page shows about all its spans, gathered in one pass on a worker."""

    span_types: tuple[str, ...]  # present ones: MLflow's order, then others by name
    has_error: bool
    names: dict[str, str]  # span id → name of the spans asked for (the assessments' spans)


def span_facts(spans: Sequence[Span], span_ids: Collection[str] = ()) -> SpanFacts:
    present = {span.span_type for span in spans}
    wanted = set(span_ids)
    names = {s.span_id: s.name for s in spans if s.span_id in wanted} if wanted else {}
    return SpanFacts(
        tuple([t for t in SPAN_TYPES if t in present] + sorted(present - set(SPAN_TYPES))),
        any(span.status == ERROR for span in spans),
        names,
    )


def type_counts(spans: Sequence[Span]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for span in spans:
        counts[span.span_type] = counts.get(span.span_type, 0) + 1
    return counts


def statuses_of(spans: Collection[Span]) -> list[str]:
    return sorted({span.status for span in spans})
