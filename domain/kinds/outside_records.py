"""Outside (non-hospital) records sent for an appointment: not an ROI request, never queued."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.request import Address
from domain.types import Channel, Language, Site

REDIRECT_MESSAGE = (
    "Thank you for sending these records. Records from other facilities for an upcoming "
    "appointment are not handled by Release of Information. Please send them to your care team "
    "by attaching them to a message in the Patient Portal, or as your care team instructed. "
    "Your care team can confirm that they received them."
)


class OutsideRecordsNotice(BaseModel):
    """Records from another facility sent to ROI for an appointment (recognised, not queued)."""

    model_config = {"extra": "forbid", "str_strip_whitespace": True}

    kind: str = Field(default="outside_records", pattern="^outside_records$")
    site: Site
    channel: Channel
    received_at: datetime
    language: Language = Language.EN
    sender_name: str = Field(min_length=1, max_length=200)
    sender_email: str | None = Field(default=None, max_length=320)
    sender_address: Address | None = None
    note: str | None = Field(default=None, max_length=2000)


class OutsideRecordsReply(BaseModel):
    """The redirect answer to send to whoever sent outside records (after the submission is
    stored): by email when they gave one, else a letter to their mailing address."""

    submission_id: str
    notice: OutsideRecordsNotice


def reply_key(submission_id: str) -> str:
    """The one key the reply to a submission is sent and recorded under (never twice)."""
    return f"outside-reply-{submission_id}"


def reply_workflow_id(submission_id: str) -> str:
    """The reply's workflow id: one per submission (a second start is refused)."""
    return reply_key(submission_id)


def reply_channel(notice: OutsideRecordsNotice) -> str | None:
    """How the sender is answered: 'email', 'letter', or None when they gave neither."""
    if notice.sender_email:
        return "email"
    if notice.sender_address is not None:
        return "letter"
    return None
