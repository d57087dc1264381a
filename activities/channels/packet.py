"""Gather a request's documents, decide what may leave, and assemble the packet.

Every channel starts here, so the same release rules (domain.release_safety) run before any
email, print job, CD or shipment exists.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date

import pikepdf
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas
from temporalio.exceptions import ApplicationError

from activities.sources.base import RecordDocument, RecordSource, query_for
from domain.effects import Delivery
from domain.release_safety import (
    PART2_NOTICE,
    DocumentFacts,
    OutgoingFacts,
    ReleaseDecision,
    decide_release,
)
from domain.request import ElectronicFormat


@dataclass
class Packet:
    """The documents that go, and the decision that let them."""

    documents: list[RecordDocument]
    decision: ReleaseDecision

    @property
    def pdfs(self) -> list[RecordDocument]:
        return [d for d in self.documents if d.content_type == "application/pdf"]

    @property
    def others(self) -> list[RecordDocument]:
        return [d for d in self.documents if d.content_type != "application/pdf"]


class ReleaseHeld(ApplicationError):
    """The release was stopped by a safety rule: never retried, handed back to a specialist."""

    def __init__(self, decision: ReleaseDecision) -> None:
        issues = decision.blocking
        super().__init__(
            issues[0].message,
            *[i.model_dump() for i in issues],
            type="ReleaseHeld",
            non_retryable=True,
        )


def outgoing(delivery: Delivery) -> OutgoingFacts:
    """Where this delivery sends the packet."""
    return OutgoingFacts(
        method=delivery.method,
        recipient_name=delivery.recipient_name,
        email=delivery.email,
        address_lines=delivery.address_lines,
    )


def gather(
    source: RecordSource, delivery: Delivery, today: date, *, deceased_on: date | None = None
) -> Packet:
    """The documents this delivery may release on `today` (the release date); raises
    ReleaseHeld when something is wrong."""
    sub = delivery.submission
    if sub is None:
        raise ApplicationError(
            "the delivery carries no request", type="DeliveryInvalid", non_retryable=True
        )
    found = source.find(query_for(sub))
    decision = decide_release(
        sub,
        [d.facts for d in found],
        outgoing(delivery),
        today,
        sensitive_reviewed_by=delivery.sensitive_reviewed_by,
        deceased_on=deceased_on,
    )
    if not decision.may_release:
        raise ReleaseHeld(decision)
    keep = set(decision.released)
    documents = [d for d in found if d.facts.document_id in keep]
    if delivery.amendments:
        documents.append(amendment_statements(delivery, documents[0].facts))
    if decision.part2:  # 42 CFR 2.32: the notice goes with every Part 2 disclosure, first
        documents.insert(0, part2_notice_page(delivery, documents[0].facts))
    return Packet(documents=documents, decision=decision)


#: The notice page's document id (not a record: the statement 42 CFR 2.32 requires).
PART2_NOTICE_ID = "part2-notice"


def part2_notice_page(delivery: Delivery, patient: DocumentFacts) -> RecordDocument:
    """The page on top of the records when 42 CFR Part 2 records are among them: the
    regulation's statement against redisclosure, word for word (domain.release_safety)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=1)
    y = 740
    pdf.setFont("Helvetica-Bold", 13)
    pdf.drawString(54, y, "NOTICE OF PROHIBITION ON REDISCLOSURE (42 CFR 2.32)")
    y -= 18
    pdf.setFont("Helvetica", 10)
    pdf.drawString(54, y, f"Request {delivery.tracking_number}")
    y -= 26
    pdf.setFont("Helvetica", 11)
    for line in simpleSplit(PART2_NOTICE, "Helvetica", 11, LETTER[0] - 108):
        pdf.drawString(54, y, line)
        y -= 15
    pdf.showPage()
    pdf.save()
    facts = patient.model_copy(
        update={
            "document_id": PART2_NOTICE_ID,
            "record_type": "notice",
            "title": "Notice: 42 CFR Part 2 (42 CFR 2.32)",
            "categories": [],
            "pages": 1,
        }
    )
    return RecordDocument(facts=facts, content=buffer.getvalue())


def amendment_statements(delivery: Delivery, patient: DocumentFacts) -> RecordDocument:
    """Amendments, disagreements and rebuttals linked to the record travel with every release
    (164.526(c)(3), (d)(4)): one more document at the end of the packet."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=1)
    who = f"{patient.patient_first_name} {patient.patient_last_name}"
    y = 740
    pdf.setFont("Helvetica-Bold", 12)
    pdf.drawString(54, y, f"{who}  DOB {patient.patient_date_of_birth.isoformat()}")
    y -= 20
    pdf.drawString(54, y, "Amendments and statements linked to this record")
    pdf.setFont("Helvetica", 10)
    for item in delivery.amendments:
        for label, key in (
            ("Outcome", "outcome"),
            ("Record", "record"),
            ("Amendment", "amendment"),
            ("Denial basis", "denial_basis"),
            ("Statement of disagreement", "disagreement"),
            ("Rebuttal", "rebuttal"),
        ):
            if item.get(key):
                y -= 16
                if y < 72:
                    pdf.showPage()
                    pdf.setFont("Helvetica", 10)
                    y = 740
                pdf.drawString(54, y, f"{label}: {item[key]}"[:110])
        y -= 10
    pdf.showPage()
    pdf.save()
    facts = patient.model_copy(
        update={"document_id": "amendments", "record_type": "amendments", "title": "Amendments"}
    )
    return RecordDocument(facts=facts, content=buffer.getvalue())


def merge_pdfs(parts: list[bytes]) -> tuple[bytes, int]:
    """One PDF from several, in order; and its page count.

    qpdf (pikepdf) copies the pages: a quarter of pypdf's time, and the same bytes for the
    same parts (a deterministic document id), so a retried delivery builds an identical file.
    """
    merged = pikepdf.Pdf.new()
    sources = [pikepdf.Pdf.open(io.BytesIO(part)) for part in parts]
    for source in sources:
        merged.pages.extend(source.pages)
    out = io.BytesIO()
    merged.save(out, deterministic_id=True)
    return out.getvalue(), len(merged.pages)


def package(
    packet: Packet, electronic_format: ElectronicFormat = ElectronicFormat.PDF
) -> tuple[bytes, str, str]:
    """What a download link (or a plain email) carries: one PDF, or a zip when images come
    along; for a FHIR Bundle copy, a zip with the Bundle (and any page the rules add)."""
    if electronic_format == ElectronicFormat.FHIR_BUNDLE:
        return fhir_package(packet)
    pdf, _ = merge_pdfs([d.content for d in packet.pdfs]) if packet.pdfs else (b"", 0)
    if not packet.others:
        return pdf, "application/pdf", ".pdf"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if pdf:
            archive.writestr("records.pdf", pdf)
        for doc in packet.others:
            archive.writestr(f"images/{doc.filename}", doc.content)
    return buffer.getvalue(), "application/zip", ".zip"


#: The Bundle's file name inside the download package.
BUNDLE_NAME = "records.fhir.json"


class FormatNotProducible(ApplicationError):
    """The patient's format cannot be made from this source: back to a specialist."""

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            {"code": "format_not_producible", "message": message},
            type="ReleaseHeld",
            non_retryable=True,
        )


def fhir_bundle(packet: Packet) -> dict[str, object]:
    """A FHIR R4 Bundle (type collection) of the released resources, attachments inline; the
    same bytes for the same packet (ids derived from the resources, no timestamp)."""
    resources = [d.fhir_resource for d in packet.documents if d.fhir_resource is not None]
    if not resources:
        raise FormatNotProducible("These records are not held as FHIR resources.")
    names = [f"{r.get('resourceType')}/{r.get('id')}" for r in resources]
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join(names))),
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}", "resource": r}
            for name, r in zip(names, resources, strict=True)
        ],
    }


def fhir_package(packet: Packet) -> tuple[bytes, str, str]:
    """The Bundle as JSON in a zip, with the pages the rules add that are not FHIR resources
    (the 42 CFR 2.32 notice, amendments) beside it."""
    bundle = json.dumps(fhir_bundle(packet), indent=2, sort_keys=True).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(BUNDLE_NAME, date_time=(2000, 1, 1, 0, 0, 0)), bundle)
        for doc in packet.documents:
            if doc.fhir_resource is None:
                info = zipfile.ZipInfo(doc.filename, date_time=(2000, 1, 1, 0, 0, 0))
                archive.writestr(info, doc.content)
    return buffer.getvalue(), "application/zip", ".zip"
