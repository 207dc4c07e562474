"""The mirror's registry, traces and logged models, read by MLflow's own client, equal the source."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from mlflow import MlflowClient

from flowdeck.store import open_store
from flowdeck.store.mirror import MirrorOptions, sync_mirror
from flowdeck.store.mirror.traces_copy import SPANS_LOCATION_TAG

DBL_MAX = 1.7976931348623157e308
# Trace metadata MLflow 3.17.2's SQL store keeps in trace_info columns and re-serialises.
JSON_METADATA = ("mlflow.trace.tokenUsage", "mlflow.trace.cost")


@pytest.fixture(autouse=True)
def _file_store_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow 3.13+ opens a file store only when asked to (the file-store source)."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")


def _clients(mirrored) -> tuple[Any, MlflowClient, MlflowClient]:
    scenario, destination, _ = mirrored
    source = MlflowClient(tracking_uri=scenario.tracking_uri, registry_uri=scenario.tracking_uri)
    uri = f"sqlite:///{destination}"
    return scenario, source, MlflowClient(tracking_uri=uri, registry_uri=uri)


def _skip_unless(scenario: Any, part: str) -> None:
    reason = scenario.skip_reason(part)
    if reason:
        pytest.skip(reason)


# --- registry --------------------------------------------------------------------------------


def _model_view(model: Any) -> tuple:
    """A model as a user sees it; version numbers as MLflow's stores disagree on their type
    (a file store gives alias targets as '2', a server latest versions as '2', SQL 2)."""
    return (
        model.name,
        model.description,
        model.tags,
        {alias: str(version) for alias, version in model.aliases.items()},
        model.creation_timestamp,
        model.last_updated_timestamp,
        sorted((int(v.version), v.current_stage) for v in model.latest_versions or []),
    )


def _version_view(version: Any, with_aliases: bool = True) -> tuple:
    """A version as a user sees it.

    ``search_model_versions`` of MLflow's SQL store leaves ``aliases`` empty (its file store
    fills them), so search results are compared without them and aliases via
    ``get_model_version``.
    """
    return (
        version.name,
        int(version.version),
        version.current_stage,
        version.source,
        version.run_id,
        version.run_link or None,
        version.status,
        version.description or None,
        version.tags,
        sorted(version.aliases) if with_aliases else None,
        version.creation_timestamp,
        version.last_updated_timestamp,
    )


def test_registered_models_equal_the_source(mirrored) -> None:
    scenario, source, mirror = _clients(mirrored)
    _skip_unless(scenario, "registry")
    expected = sorted(_model_view(m) for m in source.search_registered_models(max_results=1000))
    found = sorted(_model_view(m) for m in mirror.search_registered_models(max_results=1000))
    assert found == expected
    names = [view[0] for view in found]
    assert scenario.model_name in names
    model = _model_view(mirror.get_registered_model(scenario.model_name))
    assert model[1] == scenario.model_description
    assert model[3] == {alias: str(v) for alias, v in scenario.aliases.items()}


def test_model_versions_equal_the_source(mirrored) -> None:
    scenario, source, mirror = _clients(mirrored)
    _skip_unless(scenario, "registry")
    query = f"name = '{scenario.model_name}'"
    expected = sorted(_version_view(v, False) for v in source.search_model_versions(query))
    found = sorted(_version_view(v, False) for v in mirror.search_model_versions(query))
    assert found == expected
    stages = {view[1]: view[2] for view in found}
    assert stages == scenario.version_stages  # the deleted version is not listed
    for number in scenario.version_stages:
        a = source.get_model_version(scenario.model_name, str(number))
        b = mirror.get_model_version(scenario.model_name, str(number))
        assert _version_view(b) == _version_view(a)


# --- traces ----------------------------------------------------------------------------------


def _trace_info_view(info: Any) -> tuple:
    """What a user sees of a trace in a list.

    The mirror holds spans in its own tables, so its ``mlflow.trace.spansLocation`` tag says
    TRACKING_STORE whatever the source's says; token usage and cost are compared as values,
    since MLflow's SQL store keeps them in columns and writes the JSON text itself.
    """
    tags = {k: v for k, v in info.tags.items() if k != SPANS_LOCATION_TAG}
    metadata = {
        key: json.loads(value) if key in JSON_METADATA else value
        for key, value in info.trace_metadata.items()
    }
    return (
        info.trace_id,
        info.state.value,
        info.request_time,
        info.execution_duration,
        info.request_preview,
        info.response_preview,
        tags,
        metadata,
    )


def _span_view(span: Any) -> tuple:
    return (
        span.span_id,
        span.name,
        span.parent_id,
        span.span_type,
        span.status.status_code.value,
        span.status.description or "",
        span.start_time_ns,
        span.end_time_ns,
        span.attributes,
        [(e.name, e.timestamp, e.attributes) for e in span.events],
    )


def _assessment_view(item: Any) -> tuple:
    """An assessment as a user sees it; an expectation's unset ``valid`` (file store) is the
    SQL stores' ``True``, as MLflow's ``assessments.valid`` column cannot be empty."""
    return (
        item.assessment_id,
        item.name,
        item.value,
        item.source.source_type,
        item.source.source_id,
        item.rationale,
        item.create_time_ms,
        item.last_update_time_ms,
        True if item.valid is None else item.valid,
        item.overrides,
        item.span_id,
    )


def _traces(client: MlflowClient, experiment_id: str) -> list[Any]:
    return sorted(
        client.search_traces(locations=[experiment_id], max_results=500),
        key=lambda trace: trace.info.trace_id,
    )


def test_trace_list_equals_the_source(mirrored) -> None:
    scenario, source, mirror = _clients(mirrored)
    _skip_unless(scenario, "traces")
    experiment_id = scenario.experiment_ids[scenario.trace_experiment]
    expected = [_trace_info_view(t.info) for t in _traces(source, experiment_id)]
    found = [_trace_info_view(t.info) for t in _traces(mirror, experiment_id)]
    assert found == expected
    assert {view[0] for view in found} == set(scenario.trace_ids.values())
    states = {view[0]: view[1] for view in found}
    assert {label: states[tid] for label, tid in scenario.trace_ids.items()} == (
        scenario.trace_statuses
    )
    for trace in _traces(mirror, experiment_id):
        assert trace.info.tags[SPANS_LOCATION_TAG] == "TRACKING_STORE"


def test_trace_spans_and_assessments_equal_the_source(mirrored) -> None:
    scenario, source, mirror = _clients(mirrored)
    _skip_unless(scenario, "traces")
    for label, trace_id in scenario.trace_ids.items():
        a, b = source.get_trace(trace_id), mirror.get_trace(trace_id)
        spans_a = sorted((_span_view(s) for s in a.data.spans), key=lambda view: view[0])
        spans_b = sorted((_span_view(s) for s in b.data.spans), key=lambda view: view[0])
        assert spans_b == spans_a
        by_id = {s.span_id: s for s in b.data.spans}
        parents = {s.name: by_id[s.parent_id].name if s.parent_id else None for s in b.data.spans}
        assert parents == scenario.span_parents
        assert sorted(map(_assessment_view, b.info.assessments)) == sorted(
            map(_assessment_view, a.info.assessments)
        )
        assert sorted(x.name for x in b.info.assessments) == sorted(scenario.assessments[label])


# --- logged models ---------------------------------------------------------------------------


def _metric_value(value: float) -> Any:
    """MLflow's SQL stores keep NaN as NULL and +-inf as +-DBL_MAX in a logged model's metrics
    (a file store keeps them): compare as a SQL store can hold them."""
    if math.isnan(value):
        return "nan"
    return math.copysign(DBL_MAX, value) if math.isinf(value) else value


def _logged_model_view(model: Any) -> tuple:
    return (
        model.model_id,
        model.experiment_id,
        model.name,
        str(model.status),
        model.source_run_id,
        model.creation_timestamp,
        model.last_updated_timestamp,
        model.params,
        model.tags,
        sorted(
            (
                m.key,
                _metric_value(m.value),
                m.step,
                m.timestamp,
                m.dataset_name,
                m.dataset_digest,
                m.run_id,
            )
            for m in model.metrics or []
        ),
    )


def test_logged_models_equal_the_source(mirrored) -> None:
    scenario, source, mirror = _clients(mirrored)
    _skip_unless(scenario, "logged_models")
    ids = sorted(scenario.experiment_ids.values())
    expected = sorted(map(_logged_model_view, source.search_logged_models(ids, max_results=100)))
    found = sorted(map(_logged_model_view, mirror.search_logged_models(ids, max_results=100)))
    assert found == expected
    assert scenario.logged_model_id in {view[0] for view in found}


def test_the_report_counts_the_extras(mirrored) -> None:
    scenario, _, report = mirrored
    if not scenario.skip_reason("registry"):
        assert report.extras["models"] >= 1
    if not scenario.skip_reason("traces"):
        assert report.extras["traces"] == len(scenario.trace_ids)
    if not scenario.skip_reason("logged_models"):
        assert report.extras["logged models"] >= 1


def test_a_second_sync_of_an_unchanged_source_copies_nothing(mirrored) -> None:
    scenario, destination, _ = mirrored
    store = open_store(scenario.location)
    try:
        report = sync_mirror(store, destination, MirrorOptions())
    finally:
        store.close()
    assert report.extras == {"models": 0, "traces": 0, "logged models": 0}
