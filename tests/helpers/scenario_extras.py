"""Scenario parts beyond runs: artifacts, a dataset, a logged model, the registry and traces."""

from __future__ import annotations

import contextlib
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import AssessmentSource

MODEL_NAME = "flowdeck-classifier"
MODEL_DESCRIPTION = "Classifies things, for the Flowdeck contract tests."
MODEL_TAGS = {"task": "classification", "owner": "zoë"}
DATASET_NAME = "iris-mini"
DATASET_CONTEXT = "training"
TOKEN_USAGE = {"input_tokens": 12, "output_tokens": 5, "total_tokens": 17}


def tiny_png() -> bytes:
    """A real 2x2 RGB PNG built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    rows = b"\x00\xff\x00\x00\x00\xff\x00" + b"\x00\x00\x00\xff\xff\xff\xff"
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def artifact_files() -> dict[str, bytes]:
    """The run artifact tree: relative path -> bytes."""
    return {
        "notes.txt": "Flowdeck notes\nünïcødé line\n".encode(),
        "data/table.csv": b"step,loss\n0,1.0\n1,0.5\n2,0.25\n",
        "data/images/pixel.png": tiny_png(),
    }


def log_artifacts(client: MlflowClient, run_id: str) -> dict[str, bytes]:
    """Upload the artifact tree to the run; returns what was written."""
    files = artifact_files()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for relative, content in files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        client.log_artifacts(run_id, str(root))
    return files


def log_dataset(run_id: str) -> None:
    """Log a pandas dataset as a training input of an (already existing) run."""
    frame = pd.DataFrame({"sepal_length": [5.1, 4.9, 6.2], "species": ["a", "b", "c"]})
    dataset = mlflow.data.from_pandas(frame, name=DATASET_NAME, targets="species")
    with mlflow.start_run(run_id=run_id):
        mlflow.log_input(dataset, context=DATASET_CONTEXT)


def log_pyfunc_model(run_id: str, python_model: Any) -> str:
    """Log a tiny pyfunc model named ``model`` from the run; returns the logged model id."""
    example = pd.DataFrame({"x": [1.0, 2.0]})
    with mlflow.start_run(run_id=run_id):
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=python_model,
            input_example=example,
            pip_requirements=["mlflow"],
        )
    return str(info.model_id)


def register_versions(client: MlflowClient, model_id: str, run_id: str) -> dict[str, Any]:
    """A model with versions 1-3 live (Archived, Production, Staging) and version 4 deleted."""
    client.create_registered_model(MODEL_NAME, tags=MODEL_TAGS, description=MODEL_DESCRIPTION)
    for number in range(1, 5):
        client.create_model_version(
            MODEL_NAME,
            source=f"models:/{model_id}",
            run_id=run_id,
            tags={"candidate": str(number)},
            description=f"version {number}",
            model_id=model_id,
        )
    client.transition_model_version_stage(MODEL_NAME, "1", "Production")
    client.transition_model_version_stage(
        MODEL_NAME, "2", "Production", archive_existing_versions=True
    )
    client.transition_model_version_stage(MODEL_NAME, "3", "Staging")
    client.set_registered_model_alias(MODEL_NAME, "champion", "2")
    client.set_registered_model_alias(MODEL_NAME, "challenger", "3")
    client.set_registered_model_alias(MODEL_NAME, "retired", "4")
    client.delete_model_version(MODEL_NAME, "4")
    return {
        "stages": {1: "Archived", 2: "Production", 3: "Staging"},
        "aliases": {"champion": 2, "challenger": 3},
        "deleted_version": 4,
    }


@mlflow.trace(span_type="RETRIEVER")
def retrieve(query: str) -> list[dict[str, str]]:
    return [{"doc": "Paris is the capital of France.", "query": query}]


@mlflow.trace(span_type="TOOL")
def lookup_weather(city: str) -> str:
    if city == "Atlantis":
        raise ValueError("unknown city: Atlantis")
    return "sunny"


@mlflow.trace(span_type="LLM")
def call_llm(prompt: str) -> str:
    span = mlflow.get_current_active_span()
    if span is not None:
        span.set_attribute("mlflow.chat.tokenUsage", TOKEN_USAGE)
    return "Paris"


@mlflow.trace(name="agent", span_type="AGENT")
def agent(question: str, give_up: bool = False) -> str:
    retrieve(question)
    with contextlib.suppress(ValueError):
        lookup_weather("Atlantis")
    answer = call_llm(f"Answer: {question}")
    if give_up:
        raise RuntimeError("agent gave up")
    return answer


# Span names and parents of one agent trace: name -> parent name.
AGENT_SPAN_PARENTS = {
    "agent": None,
    "retrieve": "agent",
    "lookup_weather": "agent",
    "call_llm": "agent",
}
ERROR_SPAN = "lookup_weather"


def log_traces(experiment_id: str) -> dict[str, Any]:
    """Two agent traces (one OK, one failing) plus feedback and an expectation on the first."""
    mlflow.set_experiment(experiment_id=experiment_id)
    agent("What is the capital of France?")
    ok_trace = mlflow.get_last_active_trace_id()
    with contextlib.suppress(RuntimeError):
        agent("Where is Atlantis?", give_up=True)
    failed_trace = mlflow.get_last_active_trace_id()
    mlflow.log_feedback(
        trace_id=ok_trace,
        name="helpfulness",
        value=True,
        source=AssessmentSource(source_type="HUMAN", source_id="reviewer@example.com"),
        rationale="Correct and concise.",
    )
    mlflow.log_expectation(
        trace_id=ok_trace,
        name="expected_answer",
        value="Paris",
        source=AssessmentSource(source_type="HUMAN", source_id="reviewer@example.com"),
    )
    return {
        "trace_ids": {"ok": ok_trace, "failed": failed_trace},
        "statuses": {"ok": "OK", "failed": "ERROR"},
        "assessments": {"ok": ("expected_answer", "helpfulness"), "failed": ()},
    }
