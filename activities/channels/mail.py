"""US mail: print-ready PDFs. One request = cover letter (address in the envelope window),
the records, a separator sheet; a batch = those packets one after another, plus a manifest.

Packets are appended whole, in order, so nothing for two patients is ever interleaved; the
manifest gives each request's page range so the mail room can check every envelope.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

import pikepdf
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen import canvas

from activities.channels.packet import Packet
from activities.channels.pdf_stream import PdfStreamWriter
from domain.effects import Delivery
from domain.notices import Notice, NoticeKind
from domain.release_safety import PART2_NOTICE
from letters import render_notice


def cover_letter(delivery: Delivery, packet: Packet, today: date) -> bytes:
    """The letter on top of the records (rendered by `letters`, in the request's language)."""
    sub = delivery.submission
    assert sub is not None
    notice = Notice(
        kind=NoticeKind.PACKING_SLIP,
        language=sub.language,
        site=sub.site,
        tracking_number=delivery.tracking_number,
        issued_on=today,
        recipient_name=delivery.recipient_name,
        recipient_address=delivery.address_lines,
        patient_name=sub.patient.display_name(),
        patient_date_of_birth=sub.patient.date_of_birth,
        released_items=[d.facts.title or d.facts.record_type for d in packet.documents],
        delivery_method=delivery.method,
        # 42 CFR 2.32: a Part 2 disclosure carries the notice, in the letter and as a page
        part2_statement=PART2_NOTICE if packet.decision.part2 else "",
    )
    return render_notice(notice)


def separator_sheet(reference: str) -> bytes:
    """A sheet that ends one packet (the mail room splits the stack here)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=1)
    pdf.setFont("Helvetica-Bold", 28)
    pdf.drawCentredString(306, 420, "END OF PACKET")
    pdf.setFont("Helvetica", 14)
    pdf.drawCentredString(306, 390, reference)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@dataclass
class ManifestLine:
    reference: str  # tracking number
    request_id: str
    first_page: int
    last_page: int
    documents: int
    method: str


@dataclass
class MailBatch:
    """A growing print-ready PDF and its manifest."""

    document: pikepdf.Pdf = field(default_factory=pikepdf.Pdf.new)
    lines: list[ManifestLine] = field(default_factory=list)
    sources: list[pikepdf.Pdf] = field(default_factory=list)  # open until the batch is saved

    @property
    def pages(self) -> int:
        return len(self.document.pages)

    def add(self, delivery: Delivery, packet: Packet, today: date) -> ManifestLine:
        """Append one request's packet, whole."""
        first = self.pages + 1
        for part in packet_parts(delivery, packet, today):
            source = pikepdf.Pdf.open(io.BytesIO(part))
            self.sources.append(source)
            self.document.pages.extend(source.pages)
        line = _line(delivery, packet, first, self.pages)
        self.lines.append(line)
        return line

    def pdf(self) -> bytes:
        out = io.BytesIO()
        self.document.save(out, deterministic_id=True)
        return out.getvalue()

    def manifest_csv(self) -> bytes:
        """The manifest (opaque references and page ranges: no PHI)."""
        return manifest_csv(self.lines)


class MailBatchFile:
    """The same print-ready PDF as MailBatch, written to `out` packet by packet: memory stays
    flat however many letters the batch holds (each packet's sources are closed once written).
    `close()` ends the PDF; the manifest is the same as MailBatch's."""

    def __init__(self, out: BinaryIO) -> None:
        self.writer = PdfStreamWriter(out)
        self.lines: list[ManifestLine] = []

    @property
    def pages(self) -> int:
        return self.writer.pages

    def add(self, delivery: Delivery, packet: Packet, today: date) -> ManifestLine:
        """Append one request's packet, whole."""
        first = self.pages + 1
        for part in packet_parts(delivery, packet, today):
            with pikepdf.Pdf.open(io.BytesIO(part)) as source:
                self.writer.add_pages(source.pages)
        line = _line(delivery, packet, first, self.pages)
        self.lines.append(line)
        return line

    def close(self) -> None:
        self.writer.close()

    def manifest_csv(self) -> bytes:
        """The manifest (opaque references and page ranges: no PHI)."""
        return manifest_csv(self.lines)


def packet_parts(delivery: Delivery, packet: Packet, today: date) -> list[bytes]:
    """One request's packet as PDFs, in print order: cover letter, records, separator."""
    return [
        cover_letter(delivery, packet, today),
        *[d.content for d in packet.pdfs],
        separator_sheet(delivery.tracking_number),
    ]


def _line(delivery: Delivery, packet: Packet, first: int, last: int) -> ManifestLine:
    return ManifestLine(
        reference=delivery.tracking_number,
        request_id=delivery.request_id,
        first_page=first,
        last_page=last,
        documents=len(packet.documents),
        method=delivery.method.value,
    )


def manifest_csv(lines: list[ManifestLine]) -> bytes:
    """A batch's manifest (opaque references and page ranges: no PHI)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["reference", "request_id", "first_page", "last_page", "documents", "method"])
    for line in lines:
        writer.writerow(
            [
                line.reference,
                line.request_id,
                line.first_page,
                line.last_page,
                line.documents,
                line.method,
            ]
        )
    return out.getvalue().encode()


def single_packet(delivery: Delivery, packet: Packet, today: date) -> tuple[bytes, int]:
    """One request's print-ready PDF (when it is not waiting for a batch)."""
    batch = MailBatch()
    batch.add(delivery, packet, today)
    return batch.pdf(), batch.pages
