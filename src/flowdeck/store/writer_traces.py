"""Trace edits of the writer: trace tags, feedback and expectations, deleting traces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flowdeck.core.errors import WriteFailed
from flowdeck.store.writer_core import Change, WriterCore

if TYPE_CHECKING:
    from mlflow.tracing.client import TracingClient

SOURCE_TYPES = ("HUMAN", "LLM_JUDGE", "CODE")


class TraceWrites(WriterCore):
    """Traces and their assessments, through MLflow's tracing client."""

    @property
    def tracing(self) -> TracingClient:
        """MLflow's tracing client of the (guarded) MlflowClient."""
        return self.client._tracing_client

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> Change:
        self.write(
            f"set tag '{key}' on trace {trace_id}",
            lambda: self.client.set_trace_tag(trace_id, key, value),
        )
        return Change("trace", (trace_id,), "set_tag")

    def delete_trace_tag(self, trace_id: str, key: str) -> Change:
        self.write(
            f"delete tag '{key}' of trace {trace_id}",
            lambda: self.client.delete_trace_tag(trace_id, key),
        )
        return Change("trace", (trace_id,), "delete_tag")

    def log_feedback(
        self,
        trace_id: str,
        name: str,
        value: Any,
        rationale: str | None = None,
        source_type: str = "HUMAN",
        source_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        span_id: str | None = None,
    ) -> Change:
        """Attach a feedback assessment; ``change.ids`` is ``(trace_id, assessment_id)``."""
        from mlflow.entities import Feedback

        source = self._source(source_type, source_id)
        return self._log(
            trace_id,
            f"log feedback '{name}' on trace {trace_id}",
            lambda: Feedback(
                name=name,
                value=value,
                source=source,
                rationale=rationale,
                metadata=dict(metadata) if metadata else None,
                span_id=span_id,
            ),
        )

    def log_expectation(
        self,
        trace_id: str,
        name: str,
        value: Any,
        source_type: str = "HUMAN",
        source_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        span_id: str | None = None,
    ) -> Change:
        """Attach an expectation (ground truth); ``change.ids`` is ``(trace_id, assessment_id)``."""
        from mlflow.entities import Expectation

        source = self._source(source_type, source_id)
        return self._log(
            trace_id,
            f"log expectation '{name}' on trace {trace_id}",
            lambda: Expectation(
                name=name,
                value=value,
                source=source,
                metadata=dict(metadata) if metadata else None,
                span_id=span_id,
            ),
        )

    def override_feedback(
        self,
        trace_id: str,
        assessment_id: str,
        value: Any,
        rationale: str | None = None,
        source_type: str = "HUMAN",
        source_id: str | None = None,
    ) -> Change:
        """Replace a feedback (an LLM judge's verdict, say) as ``mlflow.override_feedback`` does:
        a new feedback that ``overrides`` it; MLflow marks the old one invalid."""
        from mlflow.entities import Feedback

        self.ensure_writable()
        old = self.call(
            f"read assessment {assessment_id} of trace {trace_id}",
            lambda: self.tracing.get_assessment(trace_id, assessment_id),
        )
        if not isinstance(old, Feedback):
            raise WriteFailed(f"Assessment {assessment_id} is not a feedback; only those override.")
        source = self._source(source_type, source_id)
        return self._log(
            trace_id,
            f"override feedback '{old.name}' on trace {trace_id}",
            lambda: Feedback(
                name=old.name,
                value=value,
                source=source,
                rationale=rationale,
                span_id=old.span_id,
                overrides=old.assessment_id,
            ),
        )

    def delete_assessment(self, trace_id: str, assessment_id: str) -> Change:
        self.write(
            f"delete assessment {assessment_id} of trace {trace_id}",
            lambda: self.tracing.delete_assessment(trace_id, assessment_id),
        )
        return Change("trace", (trace_id, assessment_id), "delete_assessment")

    def delete_traces(self, experiment_id: str, trace_ids: Sequence[str]) -> Change:
        """Delete traces of one experiment; an unknown or foreign id and nothing is deleted."""
        ids = list(dict.fromkeys(trace_ids))
        self.ensure_writable()
        infos = self.require_all("trace", ids, self.tracing.get_trace_info)
        foreign = [
            info.trace_id
            for info in infos
            if str(getattr(info.trace_location.mlflow_experiment, "experiment_id", ""))
            != str(experiment_id)
        ]
        if foreign:
            raise WriteFailed(
                f"Traces {', '.join(foreign)} are not in experiment {experiment_id}. "
                "Nothing was changed."
            )
        self.call(
            f"delete traces of experiment {experiment_id}",
            lambda: self.client.delete_traces(experiment_id, trace_ids=ids),
        )
        return Change("trace", tuple(ids), "delete")

    # --- helpers -------------------------------------------------------------------------------------

    def _source(self, source_type: str, source_id: str | None) -> Any:
        from mlflow.entities import AssessmentSource

        kind = source_type.upper()
        if kind not in SOURCE_TYPES:
            raise WriteFailed(
                f"An assessment source is one of {', '.join(SOURCE_TYPES)}, not '{source_type}'."
            )
        return AssessmentSource(source_type=kind, source_id=source_id or _default_user())

    def _log(self, trace_id: str, doing: str, build: Any) -> Change:
        self.ensure_writable()
        assessment = self.call(doing, build)
        logged = self.call(
            doing, lambda: self.tracing.store.create_assessment(_with_trace(assessment, trace_id))
        )
        return Change("trace", (trace_id, logged.assessment_id), "log_assessment")


def _with_trace(assessment: Any, trace_id: str) -> Any:
    assessment.trace_id = trace_id
    return assessment


def _default_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "flowdeck"
