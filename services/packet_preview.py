"""What a release would send, before it is sent: the same record source, the same
`activities.channels.packet.gather` (and so the same release rules) as the `deliver` activity,
on the Delivery the workflow would build from its current state. What is previewed is what
leaves, unless the record source changes in between (the release checks again then).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pikepdf

from activities.channels.packet import ReleaseHeld, gather, merge_pdfs
from activities.sources.base import RecordSource
from domain.calendar import local_date
from domain.correspondence import release_description
from domain.effects import Delivery
from domain.ids import workflow_id_for
from domain.patients import patient_key
from domain.release_safety import SafetyIssue
from domain.state import RequestState
from store import cases
from store.db import session_scope


@dataclass
class PreviewDocument:
    """One document of the packet, as staff check it (PHI: shown to staff, never logged)."""

    title: str
    record_type: str
    patient: str
    date_of_birth: date
    service_date: date | None
    pages: int | None  # None: not a PDF (images travel as files)
    content_type: str
    matches_request: bool


@dataclass
class PacketPreview:
    documents: list[PreviewDocument] = field(default_factory=list)
    withheld: dict[str, str] = field(default_factory=dict)  # document title -> reason code
    held: list[SafetyIssue] = field(default_factory=list)  # why nothing would leave now
    pdf: bytes | None = None  # the records as one PDF, in packet order

    @property
    def total_pages(self) -> int:
        return sum(d.pages or 0 for d in self.documents)


def amendments_for(database_url: str, key: str | None) -> list[dict[str, str | None]]:
    """Amendments, statements of disagreement and rebuttals linked to the record (as the
    deliver activity attaches them: activities.request_activities.RequestActivities)."""
    if not key:
        return []
    with session_scope(database_url) as session:
        rows = cases.amendments_for(session, key)
    return [
        {
            "outcome": r.outcome,
            "record": r.record_description,
            "amendment": r.amendment_text,
            "denial_basis": r.denial_basis,
            "disagreement": r.disagreement,
            "rebuttal": r.rebuttal,
        }
        for r in rows
    ]


def delivery_for(
    state: RequestState, *, sensitive_reviewed_by: str | None, database_url: str
) -> Delivery:
    """The Delivery RecordRequestWorkflow._delivery builds from this state."""
    sub = state.submission
    contact = sub.delivery_contact()
    key = patient_key(sub.patient.first_name, sub.patient.last_name, sub.patient.date_of_birth)
    return Delivery(
        key=f"{state.request_id}-deliver",
        request_id=state.request_id,
        tracking_number=state.tracking_number,
        method=sub.delivery_method,
        recipient_name=sub.recipient_name(),
        email=contact.email,
        address_lines=contact.address.lines() if contact.address else [],
        description=release_description(sub),
        patient_key=key,
        submission=sub,
        workflow_id=workflow_id_for(state.request_id),
        fee_paid_cents=state.paid_cents,
        sensitive_reviewed_by=sensitive_reviewed_by,
        amendments=amendments_for(database_url, key),
    )


def _pages(content: bytes) -> int:
    with pikepdf.Pdf.open(io.BytesIO(content)) as pdf:
        return len(pdf.pages)


def preview(
    source: RecordSource,
    state: RequestState,
    *,
    database_url: str,
    sensitive_reviewed_by: str | None,
    today: date | None = None,
) -> PacketPreview:
    """The packet the release would send now, or why it would be held."""
    delivery = delivery_for(
        state, sensitive_reviewed_by=sensitive_reviewed_by, database_url=database_url
    )
    sub = state.submission
    day = today or local_date(sub.site, datetime.now(UTC))
    try:
        packet = gather(source, delivery, day)
    except ReleaseHeld as held:
        return PacketPreview(held=[SafetyIssue.model_validate(d) for d in held.details])
    wanted = (sub.patient.first_name.casefold(), sub.patient.last_name.casefold())
    documents = [
        PreviewDocument(
            title=d.facts.title or d.facts.record_type.replace("_", " "),
            record_type=d.facts.record_type,
            patient=f"{d.facts.patient_first_name} {d.facts.patient_last_name}",
            date_of_birth=d.facts.patient_date_of_birth,
            service_date=d.facts.service_date,
            pages=_pages(d.content) if d.content_type == "application/pdf" else None,
            content_type=d.content_type,
            matches_request=(
                (d.facts.patient_first_name.casefold(), d.facts.patient_last_name.casefold())
                == wanted
                and d.facts.patient_date_of_birth == sub.patient.date_of_birth
            ),
        )
        for d in packet.documents
    ]
    pdf = merge_pdfs([d.content for d in packet.pdfs])[0] if packet.pdfs else None
    return PacketPreview(
        documents=documents, withheld=dict(packet.decision.withheld), held=[], pdf=pdf
    )
