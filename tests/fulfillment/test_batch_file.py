"""The mail batch's PDF as the mail room gets it, written to disk letter by letter: every
packet whole and in queue order (cover, records, separator), the same pages as the batch built
in memory, the same bytes when a retry writes it again, and nothing half-written left behind."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pikepdf
import pytest

from activities.channels.mail import MailBatch, MailBatchFile
from activities.channels.packet import Packet
from activities.channels.pdf_stream import PdfStreamWriter
from activities.outbox import Outbox
from activities.sources.base import RecordDocument
from domain.effects import Delivery
from domain.patients import patient_key
from domain.release_safety import DocumentFacts, ReleaseDecision
from domain.request import RecordRequestSubmission
from fakes.records import record_pdf
from tests import factories
from tests.fulfillment.helpers import pages_text

TODAY = date(2026, 11, 25)


def mail_request(i: int, pages: int) -> tuple[Delivery, Packet]:
    """A law firm's mail request for its own synthetic patient, `pages` pages of records."""
    patient = {"first_name": f"Pat{i:02d}", "last_name": "Batchfile", "date_of_birth": "1970-03-1"}
    patient["date_of_birth"] += str(i % 10)
    data = factories.third_party()
    data["patient"] = {**patient, "mrn": None}
    sub = RecordRequestSubmission.model_validate(data)
    served = date(2025, 1, 1 + i)
    facts = DocumentFacts(
        document_id=f"d{i}",
        patient_first_name=patient["first_name"],
        patient_last_name=patient["last_name"],
        patient_date_of_birth=date.fromisoformat(patient["date_of_birth"]),
        record_type="visit_notes",
        service_date=served,
        pages=pages,
    )
    contact = sub.delivery_contact()
    delivery = Delivery(
        key=f"bf{i:03d}-deliver",
        request_id=f"bf{i:03d}",
        tracking_number=f"ROI-BF-{i:03d}",
        method=sub.delivery_method,
        recipient_name=sub.recipient_name(),
        address_lines=contact.address.lines() if contact.address else [],
        description="Visit notes",
        patient_key=patient_key(
            patient["first_name"], patient["last_name"], facts.patient_date_of_birth
        ),
        submission=sub,
    )
    content = record_pdf(patient, "Clinic visit note", pages, served)
    packet = Packet(
        documents=[RecordDocument(facts=facts, content=content)],
        decision=ReleaseDecision(released=[facts.document_id]),
    )
    return delivery, packet


def write_batch(outbox: Outbox, requests: list[tuple[Delivery, Packet]]) -> tuple[Path, bytes]:
    with outbox.spool("print", "batch-b1", ".pdf") as out:
        batch = MailBatchFile(out)
        for delivery, packet in requests:
            batch.add(delivery, packet, TODAY)
        batch.close()
    return outbox.path_for("print", "batch-b1", ".pdf"), batch.manifest_csv()


def test_a_small_batch_on_disk_holds_every_packet_whole_and_in_order(tmp_path: Path) -> None:
    requests = [mail_request(i, pages) for i, pages in enumerate([2, 1, 3, 1])]
    path, manifest = write_batch(Outbox(tmp_path), requests)

    pages = pages_text(path.read_bytes())
    assert len(pages) == (2 + 1 + 3 + 1) + 2 * 4  # records, and a cover and separator each
    at = 0
    for i, (delivery, packet) in enumerate(requests):
        records = packet.documents[0].facts.pages
        packet_pages = pages[at : at + records + 2]
        cover, body, separator = packet_pages[0], packet_pages[1:-1], packet_pages[-1]
        assert delivery.tracking_number in cover  # the cover letter is this request's
        assert all(f"Pat{i:02d}" in p for p in body)  # its records, no one else's
        assert not any(f"Pat{j:02d}" in "".join(packet_pages) for j in range(4) if j != i)
        assert "END OF PACKET" in separator and delivery.tracking_number in separator
        at += records + 2
    # the manifest's page ranges point at those pages
    rows = manifest.decode().splitlines()[1:]
    assert [r.split(",")[2:4] for r in rows] == [["1", "4"], ["5", "7"], ["8", "12"], ["13", "15"]]

    in_memory = MailBatch()  # the same pages as the batch built whole in memory
    for delivery, packet in requests:
        in_memory.add(delivery, packet, TODAY)
    assert pages == pages_text(in_memory.pdf())
    assert manifest == in_memory.manifest_csv()


def test_a_retried_batch_writes_the_same_file(tmp_path: Path) -> None:
    requests = [mail_request(i, 1) for i in range(3)]
    first, _ = write_batch(Outbox(tmp_path / "a"), requests)
    again, _ = write_batch(Outbox(tmp_path / "b"), requests)
    assert first.read_bytes() == again.read_bytes()


def test_the_spool_lands_whole_once_or_not_at_all(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    target = outbox.path_for("print", "k", ".pdf")
    with pytest.raises(RuntimeError), outbox.spool("print", "k", ".pdf") as out:
        out.write(b"half a file")
        raise RuntimeError("the build failed")
    with outbox.spool("print", "k", ".pdf"):
        pass  # nothing written (a batch where every item was held)
    assert list((tmp_path / "print").iterdir()) == []  # no file, no temporary left behind

    with outbox.spool("print", "k", ".pdf") as out:
        out.write(b"first")
    with outbox.spool("print", "k", ".pdf") as out:
        out.write(b"second")  # write once: a later attempt leaves the first file
    assert target.read_bytes() == b"first"
    assert [p.name for p in (tmp_path / "print").iterdir()] == ["k.pdf"]


def test_pages_keep_what_they_inherit_from_their_page_tree() -> None:
    source = pikepdf.new()
    source.add_blank_page(page_size=(200, 300))
    font = source.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    page = source.pages[0].obj
    del page["/Resources"]
    source.Root.Pages.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    source.Root.Pages.Rotate = 90
    page.Contents = source.make_stream(b"BT /F1 12 Tf 10 10 Td (inherited) Tj ET")

    out = io.BytesIO()
    writer = PdfStreamWriter(out)
    writer.add_pages(source.pages)
    writer.close()

    written = pikepdf.open(io.BytesIO(out.getvalue()))
    [copied] = written.pages
    assert copied.obj.Rotate == 90
    assert copied.obj.Resources.Font.F1.BaseFont == pikepdf.Name.Helvetica
    assert [float(x) for x in copied.obj.MediaBox] == [0, 0, 200, 300]
    assert "inherited" in pages_text(out.getvalue())[0]
