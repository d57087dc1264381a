"""Build the notice for a request at a given step (pure: the workflow calls it)."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.notices import Notice, NoticeKind
from domain.request import ElectronicFormat, RecordRequestSubmission
from domain.state import RequestState


def requester_address(sub: RecordRequestSubmission) -> list[str]:
    """Letters go to the requester, or the representative who signed for the patient
    (RecordRequestSubmission.letter_addressee); the address if we have one."""
    address = sub.letter_addressee()[1].address
    return address.lines() if address else []


def compose_notice(state: RequestState, kind: NoticeKind, issued_on: date, **extra: Any) -> Notice:
    """A notice to the requester about this request."""
    sub = state.submission
    if kind in (NoticeKind.FEE_QUOTE, NoticeKind.INVOICE) and state.fee.requester_type:
        extra.setdefault("fee_requester_type", state.fee.requester_type)
    return Notice(
        kind=kind,
        language=sub.language,
        site=sub.site,
        tracking_number=state.tracking_number,
        issued_on=issued_on,
        recipient_name=sub.letter_addressee()[0],
        recipient_address=requester_address(sub),
        patient_name=sub.patient.display_name(),
        patient_date_of_birth=sub.patient.date_of_birth,
        received_on=state.clock.received_at.date(),
        expected_date=state.clock.target_due_date or state.clock.due_date,
        delivery_method=sub.delivery_method,
        **extra,
    )


def release_description(sub: RecordRequestSubmission) -> str:
    """What was released, for the disclosure log and the cover letter."""
    wanted = sub.records
    parts = [wanted.description]
    if wanted.record_types:
        parts.append("types: " + ", ".join(wanted.record_types))
    if wanted.date_from or wanted.date_to:
        start = wanted.date_from.isoformat() if wanted.date_from else "earliest"
        end = wanted.date_to.isoformat() if wanted.date_to else "latest"
        parts.append(f"dates of service {start} to {end}")
    return "; ".join(parts)


def release_purpose(sub: RecordRequestSubmission) -> str:
    """The purpose recorded with the disclosure."""
    if sub.under_right_of_access:
        return "At the request of the individual (right of access)"
    if sub.authorization and sub.authorization.purpose:
        return sub.authorization.purpose
    return "Under the patient's authorization"


def form_and_format(sub: RecordRequestSubmission) -> tuple[str | None, str | None]:
    """The format released and how it was sent, for the disclosure (164.524(c)(2)): None for
    the default (a PDF behind a protected link)."""
    fmt = {
        ElectronicFormat.PDF: None,
        ElectronicFormat.FHIR_BUNDLE: "FHIR Bundle (JSON)",
        ElectronicFormat.OTHER: f"other agreed format: {sub.other_format or ''}",
    }[sub.electronic_format]
    acceptance = sub.plain_email_acceptance
    if not sub.plain_email or acceptance is None:
        return fmt, None
    told = acceptance.how.value.replace("_", " ")
    return fmt, (
        "unencrypted at the patient's request (told of the risk "
        f"{told}, accepted {acceptance.accepted_at.isoformat()})"
    )
