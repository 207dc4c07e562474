"""The safe write path: every edit goes through MLflow's client after a fresh schema check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flowdeck.core.errors import WriteFailed
from flowdeck.store.writer_core import Change, WriterCore, translate_mlflow_error
from flowdeck.store.writer_registry import RegistryWrites
from flowdeck.store.writer_traces import TraceWrites
from flowdeck.store.writer_workflow import WorkflowWrites

__all__ = ["Change", "StoreWriter", "translate_mlflow_error"]

DESCRIPTION_TAG = "mlflow.note.content"


class StoreWriter(WorkflowWrites, RegistryWrites, TraceWrites, WriterCore):
    """Edits one store: experiments and runs here, registry and traces in the mixins.

    Every method re-checks the schema guard first and raises ``ReadOnlyStore`` before
    touching anything; MLflow's errors become ``NotFound`` / ``WriteFailed``. Each returns
    a ``Change`` saying what to refresh.
    """

    # --- experiments ---------------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Change:
        """Create an experiment; ``change.id`` is its new id."""
        experiment_id = self.write(
            f"create experiment '{name}'",
            lambda: self.client.create_experiment(
                name, artifact_location=artifact_location, tags=dict(tags or {})
            ),
        )
        return Change("experiment", (str(experiment_id),), "create")

    def rename_experiment(self, experiment_id: str, new_name: str) -> Change:
        self.write(
            f"rename experiment {experiment_id}",
            lambda: self.client.rename_experiment(experiment_id, new_name),
        )
        return Change("experiment", (experiment_id,), "rename")

    def delete_experiment(self, experiment_id: str) -> Change:
        """Mark the experiment deleted; MLflow soft-deletes its runs with it."""
        self.write(
            f"delete experiment {experiment_id}",
            lambda: self.client.delete_experiment(experiment_id),
        )
        return Change("experiment", (experiment_id,), "delete")

    def restore_experiment(self, experiment_id: str) -> Change:
        self.write(
            f"restore experiment {experiment_id}",
            lambda: self.client.restore_experiment(experiment_id),
        )
        return Change("experiment", (experiment_id,), "restore")

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> Change:
        self.write(
            f"set tag '{key}' on experiment {experiment_id}",
            lambda: self.client.set_experiment_tag(experiment_id, key, value),
        )
        return Change("experiment", (experiment_id,), "set_tag")

    def delete_experiment_tag(self, experiment_id: str, key: str) -> Change:
        self.write(
            f"delete tag '{key}' of experiment {experiment_id}",
            lambda: self.client.delete_experiment_tag(experiment_id, key),
        )
        return Change("experiment", (experiment_id,), "delete_tag")

    def set_experiment_description(self, experiment_id: str, text: str) -> Change:
        self.write(
            f"set the description of experiment {experiment_id}",
            lambda: self.client.set_experiment_tag(experiment_id, DESCRIPTION_TAG, text),
        )
        return Change("experiment", (experiment_id,), "describe")

    # --- runs --------------------------------------------------------------------------------------

    def rename_run(self, run_id: str, new_name: str) -> Change:
        """Rename a run (MLflow keeps ``runs.name`` and the ``mlflow.runName`` tag in sync)."""
        self.write(f"rename run {run_id}", lambda: self.client.update_run(run_id, name=new_name))
        return Change("run", (run_id,), "rename")

    def set_run_tag(self, run_id: str, key: str, value: str) -> Change:
        return self.set_run_tags([run_id], {key: value})

    def set_run_tags(self, run_ids: Sequence[str], tags: Mapping[str, str]) -> Change:
        """Set the same tags on many runs; bad keys or unknown/deleted runs write nothing."""
        from mlflow.entities import RunTag
        from mlflow.utils.validation import _validate_tag

        ids = list(dict.fromkeys(run_ids))
        self.ensure_writable()
        if not tags:
            raise WriteFailed("No tags were given.")
        for key, value in tags.items():
            self.call(f"set tag '{key}'", lambda k=key, v=value: _validate_tag(k, v))
        self._require_active_runs(ids, "tag")
        batch = [RunTag(key, str(value)) for key, value in tags.items()]
        for run_id in ids:
            self.call(
                f"set tags on run {run_id}", lambda r=run_id: self.client.log_batch(r, tags=batch)
            )
        return Change("run", tuple(ids), "set_tag")

    def delete_run_tag(self, run_id: str, key: str) -> Change:
        self.write(
            f"delete tag '{key}' of run {run_id}", lambda: self.client.delete_tag(run_id, key)
        )
        return Change("run", (run_id,), "delete_tag")

    def set_run_description(self, run_id: str, text: str) -> Change:
        self.write(
            f"set the description of run {run_id}",
            lambda: self.client.set_tag(run_id, DESCRIPTION_TAG, text),
        )
        return Change("run", (run_id,), "describe")

    def delete_runs(self, run_ids: Sequence[str]) -> Change:
        """Soft-delete runs; one unknown id and nothing is deleted."""
        ids = list(dict.fromkeys(run_ids))
        self.ensure_writable()
        self.require_all("run", ids, self.client.get_run)
        for run_id in ids:
            self.call(f"delete run {run_id}", lambda r=run_id: self.client.delete_run(r))
        return Change("run", tuple(ids), "delete")

    def restore_runs(self, run_ids: Sequence[str]) -> Change:
        """Restore soft-deleted runs; one unknown id and nothing is restored."""
        ids = list(dict.fromkeys(run_ids))
        self.ensure_writable()
        self.require_all("run", ids, self.client.get_run)
        for run_id in ids:
            self.call(f"restore run {run_id}", lambda r=run_id: self.client.restore_run(r))
        return Change("run", tuple(ids), "restore")

    def _require_active_runs(self, run_ids: list[str], doing: str) -> None:
        runs = self.require_all("run", run_ids, self.client.get_run)
        deleted = [run.info.run_id for run in runs if run.info.lifecycle_stage != "active"]
        if deleted:
            raise WriteFailed(
                f"Cannot {doing} deleted runs ({', '.join(deleted)}); restore them first. "
                "Nothing was changed."
            )
