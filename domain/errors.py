"""Field-level problems: one shape for intake errors, authorization deficiencies and refusals.

Messages are plain language and never quote the submitted value, so they can be shown, logged
or returned in an API body without leaking protected health information.
"""

from __future__ import annotations

from pydantic import BaseModel


class FieldIssue(BaseModel):
    """A problem with one field: where (dotted path), a stable machine code, and why."""

    field: str
    code: str
    message: str


def issue(field: str, code: str, message: str) -> FieldIssue:
    """Shorthand used by the rule modules."""
    return FieldIssue(field=field, code=code, message=message)
