"""Deployment-workflow edits of the writer: the model's workflow tag, steps, and deploys."""

from __future__ import annotations

import time
from dataclasses import replace

from flowdeck.core.deploy_steps import APPROVE, DEPLOY, Step, next_step, step_key, step_tags
from flowdeck.core.deploy_workflow import WORKFLOW_TAG, Workflow, read_workflow, workflow_tag_value
from flowdeck.core.entities import ModelVersion
from flowdeck.core.errors import NotFound, WorkflowBlocked
from flowdeck.core.promotion import holders, live_versions
from flowdeck.core.promotion_history import PREFIX as PROMOTION_PREFIX
from flowdeck.core.promotion_history import read_records
from flowdeck.store.writer_core import Change
from flowdeck.store.writer_registry import RegistryWrites, _login_name, _version_id


class WorkflowWrites(RegistryWrites):
    """A model's evaluate → approve → deploy workflow, kept in tags MLflow's clients see."""

    def set_workflow(self, name: str, workflow: Workflow) -> Change:
        """Store ``workflow`` in the model's ``flowdeck.workflow`` tag (replacing any)."""
        value = workflow_tag_value(workflow)
        self.write(
            f"set the workflow of '{name}'",
            lambda: self.client.set_registered_model_tag(name, WORKFLOW_TAG, value),
        )
        return Change("registered_model", (name,), "set_workflow")

    def clear_workflow(self, name: str) -> Change:
        """Remove the model's workflow; the steps recorded on its versions stay."""
        self.write(
            f"remove the workflow of '{name}'",
            lambda: self.client.delete_registered_model_tag(name, WORKFLOW_TAG),
        )
        return Change("registered_model", (name,), "clear_workflow")

    def record_step(
        self, name: str, version: str | int, step: Step, workflow: Workflow | None = None
    ) -> Change:
        """Record ``step`` on the version as a ``flowdeck.workflow.<ms>`` tag.

        An approval (a passed approve step) is checked first against ``workflow`` (the
        model's stored workflow when None) with the version re-read: ``WorkflowBlocked``
        says why when it is not allowed, and an untargeted approval gets the workflow's
        target. Deploy steps are written by ``deploy`` only. When a
        step is already recorded at that millisecond the time moves on to the next free one.
        """
        if step.kind == DEPLOY:
            raise WorkflowBlocked("A deploy step is recorded by deploying. Nothing was changed.")
        self.ensure_writable()
        if step.kind == APPROVE and step.passed and workflow is None:
            workflow = self._stored_workflow(name)
        versions = self._current_versions(name)
        current = _find(versions, int(version))
        if step.kind == APPROVE and step.passed and workflow is not None:
            now_holding = holders(live_versions(versions), workflow.promotion_target)
            gate = next_step(workflow, current, now_holding)
            if not gate.allows(APPROVE):
                raise WorkflowBlocked(
                    f"Could not approve {name} v{current.version}: {gate.why_not(APPROVE)} "
                    "Nothing was changed."
                )
            if step.target is None:
                step = replace(step, target=workflow.label)
        self._write_step(name, current, step)
        return Change("model_version", (_version_id(name, version),), "record_step")

    def deploy(
        self,
        name: str,
        version: str | int,
        workflow: Workflow,
        note: str,
        *,
        user: str | None = None,
    ) -> Change:
        """Move the workflow's alias or stage to ``version`` when its steps allow it.

        The model and its versions are re-read first: a stored workflow other than
        ``workflow``, or a step that is not allowed now (``next_step``), raises
        ``WorkflowBlocked`` with the reason and nothing is written. The move itself is a
        ``promote`` (same record, same concurrency check); a deploy step follows it.
        """
        number = int(version)
        self.ensure_writable()
        self._check_stored_workflow(name, workflow)
        versions = self._current_versions(name)
        candidate = _find(versions, number)
        target = workflow.promotion_target
        now_holding = holders(live_versions(versions), target)
        gate = next_step(workflow, candidate, now_holding)
        if not gate.allows(DEPLOY):
            raise WorkflowBlocked(
                f"Could not deploy {name} v{number} to {workflow.label}: "
                f"{gate.why_not(DEPLOY)} Nothing was changed."
            )
        signer = user or _login_name()
        self.promote(name, number, target, note, now_holding, user=signer)
        after = self._version_now(name, number)
        records = [
            record
            for record in read_records(after)
            if f"{PROMOTION_PREFIX}{record.time_ms}" not in candidate.tags
        ]
        record = max(records, key=lambda item: item.time_ms or 0, default=None)
        promotion_ms = record.time_ms if record is not None else None
        step = Step(
            DEPLOY,
            True,
            max(int(time.time() * 1000), promotion_ms or 0),
            signer,
            note.strip(),
            (record.text,) if record is not None else (),
            workflow.label,
            promotion_ms=promotion_ms,
        )
        self._write_step(name, after, step, f" (the {workflow.label} change itself was made)")
        return Change("model_version", (_version_id(name, number),), "deploy")

    # --- helpers -------------------------------------------------------------------------------

    def _stored_workflow(self, name: str) -> Workflow:
        """The model's workflow as stored now; none, or a malformed one, raises."""
        model = self.call(f"look up '{name}'", lambda: self.client.get_registered_model(name))
        stored = read_workflow(model.tags or {})
        if stored.problem:
            raise WorkflowBlocked(f"{stored.problem} Nothing was changed.")
        if stored.workflow is None:
            raise WorkflowBlocked(f"'{name}' has no deployment workflow. Nothing was changed.")
        return stored.workflow

    def _check_stored_workflow(self, name: str, workflow: Workflow) -> None:
        """Refuse when the model's stored workflow is malformed or differs from ``workflow``."""
        model = self.call(f"look up '{name}'", lambda: self.client.get_registered_model(name))
        stored = read_workflow(model.tags or {})
        if stored.problem:
            raise WorkflowBlocked(f"Could not deploy {name}: {stored.problem} Nothing was changed.")
        if stored.workflow is not None and stored.workflow != workflow:
            raise WorkflowBlocked(
                f"Could not deploy {name}: its workflow was changed meanwhile. Review the "
                "new workflow; nothing was changed."
            )

    def _version_now(self, name: str, number: int) -> ModelVersion:
        return _find(self._current_versions(name), number)

    def _write_step(self, name: str, version: ModelVersion, step: Step, made: str = "") -> None:
        when = step.when_ms
        while step_key(when) in version.tags:
            when += 1
        step = replace(step, when_ms=when)
        for key, value in step_tags(step).items():
            self.call(
                f"record the {step.kind} step on {name} version {version.version}{made}",
                lambda key=key, value=value: self.client.set_model_version_tag(
                    name, str(version.version), key, value
                ),
            )


def _find(versions: list[ModelVersion], number: int) -> ModelVersion:
    found = next((item for item in live_versions(versions) if item.version == number), None)
    if found is None:
        raise NotFound(f"Version {number} does not exist or was deleted.")
    return found
