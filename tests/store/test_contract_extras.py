"""Store contract, part 3: artifacts, registry, traces and logged models on every backend."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from tests.helpers.scenario_runs import EXP_MAIN

from flowdeck.store.base import CAP_LOGGED_MODELS, CAP_REGISTRY, CAP_TRACES


def _need(store, scenario, part: str, capability: str) -> None:
    if scenario.skip_reason(part):
        pytest.skip(scenario.skip_reason(part))
    if capability not in store.capabilities:
        pytest.skip(f"{type(store).__name__} does not advertise '{capability}'")


# --- artifacts -------------------------------------------------------------------------------


def test_list_artifacts_walks_the_tree(scenario_store):
    store, scenario = scenario_store
    run_id = scenario.run_id(scenario.artifact_run)
    root = {entry.path: entry for entry in store.list_artifacts(run_id)}
    assert {"notes.txt", "data"} <= set(root)
    assert not root["notes.txt"].is_dir
    assert root["notes.txt"].file_size == len(scenario.artifacts["notes.txt"])
    assert root["data"].is_dir
    data = {entry.path: entry.is_dir for entry in store.list_artifacts(run_id, "data")}
    assert data == {"data/table.csv": False, "data/images": True}
    images = store.list_artifacts(run_id, "data/images")
    assert [(e.path, e.is_dir, e.file_size) for e in images] == [
        ("data/images/pixel.png", False, len(scenario.artifacts["data/images/pixel.png"]))
    ]


def test_list_artifacts_of_a_run_without_artifacts_is_empty(scenario_store):
    store, scenario = scenario_store
    assert store.list_artifacts(scenario.run_id("single-point")) == []


@pytest.mark.parametrize("path", ["notes.txt", "data/table.csv", "data/images/pixel.png"])
def test_fetch_artifact_returns_the_original_bytes(scenario_store, path):
    store, scenario = scenario_store
    local = store.fetch_artifact(scenario.run_id(scenario.artifact_run), path)
    assert Path(local).is_file()
    assert Path(local).read_bytes() == scenario.artifacts[path]


def test_fetch_artifact_folder(scenario_store):
    store, scenario = scenario_store
    folder = Path(store.fetch_artifact(scenario.run_id(scenario.artifact_run), "data"))
    assert folder.is_dir()
    assert (folder / "table.csv").read_bytes() == scenario.artifacts["data/table.csv"]
    assert (folder / "images" / "pixel.png").read_bytes() == scenario.artifacts[
        "data/images/pixel.png"
    ]


def test_fetched_files_are_the_originals_or_cached_copies(scenario_store):
    store, scenario = scenario_store
    local = Path(
        store.fetch_artifact(scenario.run_id(scenario.artifact_run), "notes.txt")
    ).resolve()
    if store.kind == "rest":
        cache = Path(os.environ["XDG_CACHE_HOME"]).resolve()
        assert cache in local.parents, f"{local} is not in Flowdeck's cache folder {cache}"
    else:
        uri = scenario.artifact_uris[scenario.artifact_run]
        root = Path(unquote(urlparse(uri).path)) if uri.startswith("file:") else Path(uri)
        assert local == (root / "notes.txt").resolve(), "local artifacts must be returned in place"


# --- registry ----------------------------------------------------------------------------


def test_registered_model_with_aliases_tags_and_description(scenario_store):
    store, scenario = scenario_store
    _need(store, scenario, "registry", CAP_REGISTRY)
    page = store.registered_models()
    models = {model.name: model for model in page.items}
    model = models[scenario.model_name]
    assert model.description == scenario.model_description
    assert model.tags == scenario.model_tags
    assert model.aliases == scenario.aliases
    assert not model.is_prompt


def test_model_versions_stages_aliases_and_deleted_version(scenario_store):
    store, scenario = scenario_store
    _need(store, scenario, "registry", CAP_REGISTRY)
    versions = store.model_versions(scenario.model_name)
    numbers = [version.version for version in versions]
    assert numbers == sorted(scenario.version_stages, reverse=True), (
        "newest first, deleted one absent"
    )
    assert scenario.deleted_version not in numbers
    by_number = {version.version: version for version in versions}
    for number, stage in scenario.version_stages.items():
        version = by_number[number]
        assert version.current_stage == stage
        assert version.run_id == scenario.run_id(scenario.artifact_run)
        assert version.tags.get("candidate") == str(number)
        assert version.description == f"version {number}"
        assert version.status == "READY"
    aliases = {alias: number for number, v in by_number.items() for alias in v.aliases}
    assert aliases == scenario.aliases


# --- traces --------------------------------------------------------------------------------


def _trace_experiment(scenario) -> list[str]:
    return [scenario.experiment_ids[scenario.trace_experiment]]


def test_search_traces_finds_both_agent_traces(scenario_store):
    store, scenario = scenario_store
    _need(store, scenario, "traces", CAP_TRACES)
    page = store.search_traces(_trace_experiment(scenario))
    found = {info.trace_id: info for info in page.items}
    assert set(found) == set(scenario.trace_ids.values())
    for label, trace_id in scenario.trace_ids.items():
        info = found[trace_id]
        assert info.status == scenario.trace_statuses[label]
        assert info.experiment_id == scenario.experiment_ids[EXP_MAIN]
        assert info.timestamp_ms > 1_600_000_000_000
    assert (
        found[scenario.trace_ids["ok"]].token_usage.get("total_tokens")
        == scenario.token_usage["total_tokens"]
    )
    assert "capital of France" in (found[scenario.trace_ids["ok"]].request_preview or "")


def test_search_traces_filters_by_status(scenario_store):
    store, scenario = scenario_store
    _need(store, scenario, "traces", CAP_TRACES)
    page = store.search_traces(_trace_experiment(scenario), filter_string="trace.status = 'ERROR'")
    assert [info.trace_id for info in page.items] == [scenario.trace_ids["failed"]]


def test_trace_span_tree_statuses_and_token_usage(scenario_store):
    store, scenario = scenario_store
    _need(store, scenario, "traces", CAP_TRACES)
    trace = store.trace(scenario.trace_ids["ok"])
    assert trace.info.trace_id == scenario.trace_ids["ok"]
    spans = {span.name: span for span in trace.spans}
    assert set(spans) == set(scenario.span_parents)
    names_by_id = {span.span_id: span.name for span in trace.spans}
    for name, parent in scenario.span_parents.items():
        parent_id = spans[name].parent_span_id
        assert (names_by_id.get(parent_id) if parent_id else None) == parent, name
    assert spans[scenario.error_span].status == "ERROR"
    assert spans["agent"].status == "OK"
    assert spans["agent"].span_type == "AGENT"
    assert spans["call_llm"].span_type == "LLM"
    assert spans["agent"].inputs["question"] == "What is the capital of France?"
    assert spans["agent"].outputs == "Paris"
    assert spans["call_llm"].attributes.get("mlflow.chat.tokenUsage") == scenario.token_usage
    for span in trace.spans:
        assert span.end_time_ns is not None and span.end_time_ns >= span.start_time_ns
    failed = store.trace(scenario.trace_ids["failed"])
    assert {span.name: span.status for span in failed.spans}["agent"] == "ERROR"
    assert failed.info.status == "ERROR"


def test_trace_assessments(scenario_store):
    store, scenario = scenario_store
    _need(store, scenario, "traces", CAP_TRACES)
    trace = store.trace(scenario.trace_ids["ok"])
    by_name = {assessment.name: assessment for assessment in trace.assessments}
    assert set(by_name) == set(scenario.assessments["ok"])
    feedback = by_name["helpfulness"]
    assert feedback.kind == "feedback"
    assert feedback.value is True
    assert feedback.source_type == "HUMAN"
    assert feedback.source_id == "reviewer@example.com"
    assert feedback.rationale == "Correct and concise."
    assert feedback.trace_id == scenario.trace_ids["ok"]
    expectation = by_name["expected_answer"]
    assert expectation.kind == "expectation"
    assert expectation.value == "Paris"
    assert store.trace(scenario.trace_ids["failed"]).assessments == ()


# --- logged models ---------------------------------------------------------------------------


def test_logged_models_of_the_experiment(scenario_store):
    store, scenario = scenario_store
    _need(store, scenario, "logged_models", CAP_LOGGED_MODELS)
    models = store.logged_models([scenario.experiment_ids[EXP_MAIN]])
    assert [model.model_id for model in models] == [scenario.logged_model_id]
    model = models[0]
    assert model.name == scenario.logged_model_name
    assert model.source_run_id == scenario.run_id(scenario.artifact_run)
    assert model.experiment_id == scenario.experiment_ids[EXP_MAIN]
    assert model.status == "READY"
    assert model.artifact_location
