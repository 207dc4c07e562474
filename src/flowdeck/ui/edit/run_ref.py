"""The little a runs table tells edit commands about a selected run."""

from __future__ import annotations

from dataclasses import dataclass

ACTIVE, DELETED = "active", "deleted"


@dataclass(frozen=True)
class RunRef:
    """A selected run: id, name, artifact URI and lifecycle stage."""

    run_id: str
    name: str
    artifact_uri: str | None = None
    lifecycle_stage: str = ACTIVE
