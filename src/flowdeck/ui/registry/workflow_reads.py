"""Worker reads and writes of the deployment workflow (Qt-free): state, evaluation, steps."""

from __future__ import annotations

import time
from dataclasses import dataclass

from flowdeck.core.deploy_steps import (
    APPROVE,
    ActivityEntry,
    NextStep,
    Step,
    activity_log,
    evaluation_step,
    next_step,
)
from flowdeck.core.deploy_workflow import (
    Evaluation,
    StoredWorkflow,
    Workflow,
    current_holder,
    evaluate,
    read_workflow,
)
from flowdeck.core.entities import ModelVersion
from flowdeck.core.errors import NotFound
from flowdeck.core.promotion import compare_signatures, holders, live_versions
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.store.writer import StoreWriter
from flowdeck.store.writer_core import Change
from flowdeck.store.writer_registry import _login_name
from flowdeck.ui.registry.reads import model_signature, source_run


@dataclass(frozen=True)
class WorkflowState:
    """A version under its model's workflow: what is stored, what may happen next, the log."""

    name: str
    version: ModelVersion
    stored: StoredWorkflow
    next: NextStep | None  # None without a (valid) workflow
    activity: tuple[ActivityEntry, ...]


def _versions(store: Store, name: str) -> list[ModelVersion]:
    return list(live_versions(store.model_versions(name)))


def _find(versions: list[ModelVersion], name: str, number: int) -> ModelVersion:
    found = next((v for v in versions if v.version == number), None)
    if found is None:
        raise NotFound(f"Registered model '{name}' has no version {number}.")
    return found


def read_workflow_state(state: TaskState, store: Store, name: str, number: int) -> WorkflowState:
    """The model's stored workflow and the version's next step and activity, read afresh."""
    from flowdeck.ui.pages.registry.reads import registered_model  # the pages import this module

    versions = _versions(store, name)
    state.check()
    model = registered_model(store, name)
    stored = read_workflow(model.tags if model is not None else {})
    version = _find(versions, name, number)
    gate = None
    if stored.workflow is not None:
        gate = next_step(
            stored.workflow, version, holders(versions, stored.workflow.promotion_target)
        )
    return WorkflowState(name, version, stored, gate, tuple(activity_log(versions, number)))


def evaluate_version(
    state: TaskState, store: Store, name: str, number: int, workflow: Workflow
) -> Evaluation:
    """Check version ``number`` against the workflow's rules and today's holder of its target."""
    versions = _versions(store, name)
    candidate = _find(versions, name, number)
    holder = current_holder(workflow, versions, number)
    state.check()
    candidate_run = source_run(store, candidate)
    holder_run = source_run(store, holder)
    equal, summary = None, None
    if any(rule.kind == "signature_unchanged" for rule in workflow.rules) and holder is not None:
        state.check()
        candidate_info, _note = model_signature(store, candidate, candidate_run)
        holder_info, _note = model_signature(store, holder, holder_run)
        check = compare_signatures(holder_info, candidate_info)
        equal, summary = check.compatible, check.summary
    return evaluate(
        workflow,
        candidate,
        candidate_run,
        holder,
        holder_run,
        equal,
        signature_summary=summary,
    )


def record_evaluation(
    writer: StoreWriter, name: str, number: int, workflow: Workflow, note: str = ""
) -> Change:
    """Evaluate on the worker, then record the result on the version as a step."""
    evaluation = evaluate_version(TaskState(), writer.store, name, number, workflow)
    step = evaluation_step(workflow, evaluation, int(time.time() * 1000), _login_name(), note)
    return writer.record_step(name, number, step, workflow)


def record_review(
    writer: StoreWriter, name: str, number: int, workflow: Workflow, approved: bool, note: str
) -> Change:
    """Record an approval (checked against the workflow) or a rejection with its note."""
    step = Step(
        APPROVE, approved, int(time.time() * 1000), _login_name(), note.strip(), (), workflow.label
    )
    return writer.record_step(name, number, step, workflow)
