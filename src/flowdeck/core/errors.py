"""Typed, user-readable errors raised by every Flowdeck layer."""

from __future__ import annotations

from flowdeck.core.redact import scrub


class FlowdeckError(Exception):
    """Base of every error Flowdeck raises on purpose; its message is shown to the user as is.

    Message and detail are scrubbed of URL passwords, secret query parameters and
    ``Authorization`` values here, once for every error (``redact.scrub``).
    """

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        message = scrub(message)
        super().__init__(message)
        self.message = message
        self.detail = scrub(detail) if detail else detail

    def scrub_secrets(self, secrets: list[str]) -> None:
        """Remove the credentials in use (known only to the caller) from message and detail."""
        self.message = scrub(self.message, secrets)
        self.args = (self.message, *self.args[1:])
        if self.detail:
            self.detail = scrub(self.detail, secrets)

    def __str__(self) -> str:
        return self.message


class StoreNotFound(FlowdeckError):
    """The location does not exist or is not an MLflow store."""


class StoreUnreachable(FlowdeckError):
    """A server or database could not be reached (refused, DNS, TLS)."""


class StoreTimeout(StoreUnreachable):
    """A server or database did not answer in time."""


class AuthenticationFailed(FlowdeckError):
    """The server or database refused the credentials (401, wrong password)."""


class PermissionDenied(FlowdeckError):
    """The credentials are valid but not allowed to do this (403)."""


class NotFound(FlowdeckError):
    """An experiment, run, model, artifact or trace does not exist (404)."""


class ServerError(FlowdeckError):
    """The server failed while answering (5xx)."""


class CorruptStore(FlowdeckError):
    """A file or database is damaged or not what its name says (bad .db, truncated meta.yaml)."""


class InvalidFilter(FlowdeckError):
    """A search filter or order_by string does not follow MLflow's grammar."""


class ReadOnlyStore(FlowdeckError):
    """A write was attempted on a store Flowdeck only reads; the message says why."""


class Unsupported(FlowdeckError):
    """The backend does not offer this feature (see ``store.capabilities``)."""


class WriteFailed(FlowdeckError):
    """MLflow's client rejected a write (validation, conflict, invalid state)."""


class Cancelled(FlowdeckError):
    """Long-running work was cancelled by the user."""


class PromotionConflict(FlowdeckError):
    """Someone else moved a promotion's alias or stage after the plan was shown."""


class InvalidWorkflow(FlowdeckError):
    """A deployment workflow or its ``flowdeck.workflow`` tag is not valid; the message says why."""


class WorkflowBlocked(FlowdeckError):
    """A workflow step is not allowed yet (failed check, no approval); nothing was written."""
