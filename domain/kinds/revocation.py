"""Revocation of an authorization (164.508(b)(5)): in writing; stops every release not yet made."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from domain.errors import FieldIssue, issue
from domain.kinds.common import CaseSubmission
from domain.types import Channel


class RevocationRequest(CaseSubmission):
    """The patient (or representative) revoking one or more authorizations."""

    kind: str = Field(default="revocation", pattern="^revocation$")
    #: Tracking numbers of the third-party requests whose authorizations are revoked.
    authorizations: list[str] = Field(min_length=1, max_length=50)
    signed: bool
    signature_date: datetime | None = None


def revocation_rules(req: RevocationRequest, now: datetime) -> list[FieldIssue]:
    """A revocation must be in writing and signed; a phone call alone is not enough."""
    found: list[FieldIssue] = []
    if req.channel == Channel.PHONE:
        found.append(
            issue(
                "channel",
                "must_be_in_writing",
                "A revocation must be in writing (portal, email, fax or mail); ask the caller to "
                "send the revocation form.",
            )
        )
    if not req.signed:
        found.append(issue("signed", "signature_missing", "The revocation must be signed."))
    if req.received_at > now:
        found.append(issue("received_at", "in_future", "The receipt time cannot be in the future."))
    for i, ref in enumerate(req.authorizations):
        if not ref.upper().startswith("ROI-") or len(ref) != 15:
            found.append(
                issue(
                    f"authorizations.{i}",
                    "not_a_tracking_number",
                    "Use the ROI-XXXXX-XXXXX number.",
                )
            )
    return found
