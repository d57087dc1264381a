"""Identifiers derived from a request's id (pure; importable by workflows and services)."""

from __future__ import annotations

#: Prefix of every request's workflow id.
WORKFLOW_ID_PREFIX = "roi-"


def workflow_id_for(request_id: str) -> str:
    """Opaque workflow id of a request (no PHI: a ULID)."""
    return f"{WORKFLOW_ID_PREFIX}{request_id}"
