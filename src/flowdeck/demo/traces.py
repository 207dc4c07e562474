"""Traces of a toy retrieval agent: agent, retriever, tool and LLM spans, errors, feedback."""

from __future__ import annotations

QUESTIONS = (
    "What is the refund window for annual plans?",
    "How do I rotate my API key?",
    "Which regions support GPU instances?",
    "Summarise yesterday's incident report.",
    "Convert 250 EUR to USD at today's rate.",
    "Who owns the billing service?",
)

DOCUMENTS = {
    "refund": "Annual plans can be refunded within 30 days of purchase.",
    "api": "API keys are rotated from Settings > Security > Rotate key.",
    "gpu": "GPU instances are available in eu-west-1, us-east-1 and ap-south-1.",
    "incident": "Incident 4711: elevated latency on checkout for 23 minutes.",
    "billing": "The billing service is owned by the payments team (#payments).",
}


class ToolFailure(RuntimeError):
    """A tool call the toy agent could not complete."""


def _retrieve(question: str, top_k: int) -> list[dict[str, object]]:
    words = question.lower().split()
    hits = [
        {"doc_id": key, "text": text, "score": round(0.9 - 0.1 * rank, 2)}
        for rank, (key, text) in enumerate(DOCUMENTS.items())
        if any(key in word for word in words)
    ]
    return hits[:top_k] or [{"doc_id": "faq", "text": "See the FAQ.", "score": 0.2}]


def _answer(index: int, question: str) -> str:
    import mlflow
    from mlflow.entities import SpanType

    with mlflow.start_span(name="support_agent", span_type=SpanType.AGENT) as agent:
        agent.set_inputs({"question": question, "session": f"session-{index // 2}"})
        with mlflow.start_span(name="retrieve_docs", span_type=SpanType.RETRIEVER) as retriever:
            retriever.set_inputs({"query": question, "top_k": 3})
            docs = _retrieve(question, 3)
            retriever.set_outputs(docs)
        tool_result = None
        if "convert" in question.lower() or "incident" in question.lower():
            try:
                with mlflow.start_span(name="call_tool", span_type=SpanType.TOOL) as tool:
                    tool.set_inputs({"tool": "currency_api", "args": {"amount": 250}})
                    if "convert" in question.lower():
                        raise ToolFailure("currency_api timed out after 5.0 s")
                    tool_result = {"status": "resolved", "duration_min": 23}
                    tool.set_outputs(tool_result)
            except ToolFailure as error:
                tool_result = {"error": str(error)}
        with mlflow.start_span(name="chat_completion", span_type=SpanType.CHAT_MODEL) as llm:
            prompt = [
                {"role": "system", "content": "Answer from the documents only."},
                {"role": "user", "content": question},
            ]
            llm.set_inputs({"messages": prompt, "model": "gpt-4o-mini", "temperature": 0.2})
            answer = docs[0]["text"] if tool_result is None else f"Tool said: {tool_result}"
            llm.set_outputs({"choices": [{"message": {"role": "assistant", "content": answer}}]})
            prompt_tokens = 120 + 40 * len(docs)
            llm.set_attribute(
                "mlflow.chat.tokenUsage",
                {
                    "input_tokens": prompt_tokens,
                    "output_tokens": 48,
                    "total_tokens": prompt_tokens + 48,
                },
            )
            llm.set_attribute("mlflow.llm.model", "gpt-4o-mini")
            llm.set_attribute("mlflow.llm.provider", "openai")
        agent.set_outputs({"answer": answer})
        return agent.trace_id


def write_traces(experiment_id: str, linked_run_id: str) -> list[str]:
    """Write one trace per question (the currency one has an error span) plus feedback."""
    import mlflow
    from mlflow.entities import AssessmentSource, AssessmentSourceType

    mlflow.set_experiment(experiment_id=experiment_id)
    trace_ids = []
    with mlflow.start_run(run_id=linked_run_id):
        for index, question in enumerate(QUESTIONS):
            trace_ids.append(_answer(index, question))
    mlflow.flush_trace_async_logging()
    human = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="alice")
    mlflow.log_feedback(
        trace_id=trace_ids[0],
        name="user_satisfaction",
        value=True,
        source=human,
        rationale="Correct and cites the refund policy.",
    )
    mlflow.log_feedback(
        trace_id=trace_ids[4],
        name="user_satisfaction",
        value=False,
        source=human,
        rationale="The currency tool failed and the answer is useless.",
    )
    return trace_ids
