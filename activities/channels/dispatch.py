"""The `deliver` activity's real channels: pick the records, check them, send them once.

Email gets a signed download link (never the records in the body); US mail a print-ready
packet; CD an ISO with an AES-256 zip and a separately sent password; FedEx a 2Day shipment
(only once the $45 is paid). An imaging request, when a DICOMweb archive is configured, sends
the patient's studies from the archive instead (activities.channels.imaging): checked instance
by instance, then an IHE PDI disc in the encrypted CD (by mail or FedEx) or a zip with JPEG
previews behind the download link. With batching on, mail, CD and FedEx are queued for the site's
batch instead (workflows/batch.py), after the same checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import structlog
from temporalio.exceptions import ApplicationError

from activities.channels import cd, imaging, mail
from activities.channels.fedex import FedexClient, Party
from activities.channels.mailer import Mailer
from activities.channels.packet import Packet, ReleaseHeld, gather, outgoing, package
from activities.outbox import Outbox
from activities.persist import persist_after_send
from activities.sources.base import RecordSource
from activities.sources.dicomweb import DicomWebSource
from domain.calendar import local_date
from domain.effects import Delivery, DeliveryReceipt
from domain.fees import quote_fee
from domain.ids import workflow_id_for
from domain.imaging import ImagingCounts
from domain.release_safety import (
    PART2_NOTICE,
    QualityPolicy,
    ReleaseDecision,
    SafetyIssue,
    decide_release,
    quality_check_required,
)
from domain.request import ElectronicFormat
from domain.sites import site_profile
from domain.types import DeliveryMethod, RequestKind, Site
from store import batch, cases, links
from store.db import session_scope
from store.models import DownloadLink

log = structlog.get_logger(__name__)

BATCHED = frozenset({DeliveryMethod.US_MAIL, DeliveryMethod.CD_MAIL, DeliveryMethod.FEDEX})
_CITY_LINE = re.compile(r"^(?P<city>.+),\s*(?P<state>[A-Z]{2})\s+(?P<zip>\d{5}(-\d{4})?)$")


@dataclass
class Sent:
    """What a channel did, for the outbound record and the workflow's receipt."""

    channel: str
    path: str
    receipt: DeliveryReceipt
    detail: dict[str, Any] | None = None


def shipper_for(site: Site) -> Party:
    """The site's ROI office as the FedEx shipper."""
    profile = site_profile(site)
    *street, city_line = profile.mailing_address
    match = _CITY_LINE.match(city_line)
    assert match, "a site's mailing address ends with 'City, ST ZIP'"
    return Party(
        name="Release of Information",
        company=street[0],
        street_lines=list(street[-2:]),
        city=match["city"],
        state=match["state"],
        postal_code=match["zip"],
        phone=re.sub(r"\D", "", profile.roi_phone),
    )


def recipient_party(delivery: Delivery) -> Party:
    """The recipient as the carrier needs it (from the request's structured address)."""
    sub = delivery.submission
    assert sub is not None
    address = sub.delivery_contact().address
    if address is None:
        raise ApplicationError("no address to ship to", type="DeliveryInvalid", non_retryable=True)
    phone = re.sub(r"\D", "", sub.delivery_contact().phone or "") or "0000000000"
    return Party(
        name=delivery.recipient_name,
        street_lines=[x for x in (address.line1, address.line2) if x],
        city=address.city,
        state=address.state,
        postal_code=address.postal_code,
        phone=phone,
    )


class Channels:
    """Every real channel, wired to one database, outbox, record source, mailer and carrier."""

    def __init__(
        self,
        database_url: str,
        outbox: Outbox,
        source: RecordSource,
        mailer: Mailer,
        *,
        link_secret: str,
        base_url: str,
        link_ttl: timedelta = timedelta(days=30),
        carrier: FedexClient | None = None,
        batch_enabled: bool = False,
        quality_policy: QualityPolicy | None = None,
        imaging_source: DicomWebSource | None = None,
        portal_base_url: str | None = None,
        records_on_portal: bool = False,
    ) -> None:
        self.database_url = database_url
        self.outbox = outbox
        self.source = source
        self.mailer = mailer
        self.signer = links.LinkSigner(link_secret)
        self.link_secret = link_secret
        self.base_url = base_url.rstrip("/")
        self.link_ttl = link_ttl
        self.carrier = carrier
        self.batch_enabled = batch_enabled
        self.quality_policy = quality_policy or {}
        self.imaging_source = imaging_source
        #: where an imaging link points: the portal's study page (None: the staff download)
        self.portal_base_url = portal_base_url.rstrip("/") if portal_base_url else None
        #: other releases' links open the portal's records page too (ROI_PORTAL_PUBLIC_BASE_URL
        #: configured); else the staff app's download route, which keeps serving old links
        self.records_on_portal = records_on_portal

    def today(self, delivery: Delivery, at: datetime | None = None) -> date:
        """The release date: the site's date of `at` (a batch's workflow time), else the date
        the request's workflow released on; the wall clock only for a delivery recorded before
        workflows carried their date."""
        sub = delivery.submission
        if at is not None and sub is not None:
            return local_date(sub.site, at)
        if delivery.release_on is not None:
            return delivery.release_on
        now = datetime.now(UTC)
        return local_date(sub.site, now) if sub else now.date()

    def deceased_on(self, delivery: Delivery) -> date | None:
        """A date of death Data Integrity recorded for the patient (judged again at release)."""
        if not delivery.patient_key:
            return None
        with session_scope(self.database_url) as session:
            return cases.deceased_on(session, delivery.patient_key)

    def gather(self, delivery: Delivery, today: date) -> Packet:
        """The packet, with the release basis judged again on the release date."""
        return gather(self.source, delivery, today, deceased_on=self.deceased_on(delivery))

    def deliver(self, delivery: Delivery) -> Sent:
        """Check, then send (or queue for the batch) by the delivery's method."""
        if delivery.method == DeliveryMethod.FEDEX or delivery.fee_quoted_cents:
            self.require_paid(delivery)
        if self.from_archive(delivery):
            return self.deliver_imaging(delivery)
        packet = self.gather(delivery, self.today(delivery))
        self.require_quality_check(delivery, packet)
        self.require_format_produced(delivery, packet)
        if self.batch_enabled and delivery.method in BATCHED:
            return self.enqueue(delivery)
        if delivery.method == DeliveryMethod.EMAIL_LINK:
            return self.email_link(delivery, packet)
        if delivery.method == DeliveryMethod.US_MAIL:
            return self.print_packet(delivery, packet)
        if delivery.method == DeliveryMethod.CD_MAIL:
            return self.encrypted_cd(delivery, packet)
        return self.fedex(delivery, packet)

    def require_quality_check(self, delivery: Delivery, packet: Packet) -> None:
        """Where the site asks for it, a second specialist confirms the packet first."""
        sub = delivery.submission
        if sub is None or delivery.quality_checked_by:
            return
        if quality_check_required(self.quality_policy, sub.site, sub.kind):
            packet.decision.blocking.append(
                SafetyIssue(
                    code="quality_check_required",
                    message="A second specialist must confirm the packet before it leaves.",
                )
            )
            raise ReleaseHeld(packet.decision)

    def require_format_produced(self, delivery: Delivery, packet: Packet) -> None:
        """Another agreed format (164.524(c)(2)) is made by staff: nothing leaves until a
        specialist confirms they produced it."""
        sub = delivery.submission
        if sub is None or sub.electronic_format != ElectronicFormat.OTHER:
            return
        if not delivery.format_produced_by:
            packet.decision.blocking.append(
                SafetyIssue(
                    code="other_format_to_produce",
                    message="Produce the copy in the format agreed with the patient, then "
                    "confirm it before release.",
                )
            )
            raise ReleaseHeld(packet.decision)

    # ---- imaging from the DICOMweb archive ------------------------------------------------

    #: the methods an archive release builds itself (US mail and plain email send documents)
    ARCHIVE_METHODS = frozenset(
        {DeliveryMethod.EMAIL_LINK, DeliveryMethod.CD_MAIL, DeliveryMethod.FEDEX}
    )

    def from_archive(self, delivery: Delivery) -> bool:
        """An imaging request released from the configured archive (else: documents)."""
        sub = delivery.submission
        return (
            self.imaging_source is not None
            and sub is not None
            and sub.kind == RequestKind.IMAGING
            and delivery.method in self.ARCHIVE_METHODS
            and not sub.plain_email
        )

    def release_basis(self, delivery: Delivery) -> Packet:
        """The document rules that do not depend on documents, judged on the release date:
        the recipient, the authorization's expiry, a death recorded since intake. (Whether
        there is anything to release is the archive's question.)"""
        sub = delivery.submission
        assert sub is not None
        decision = decide_release(
            sub,
            [],
            outgoing(delivery),
            self.today(delivery),
            sensitive_reviewed_by=delivery.sensitive_reviewed_by,
            deceased_on=self.deceased_on(delivery),
        )
        blocking = [
            i for i in decision.blocking if i.code not in ("no_records_found", "nothing_in_scope")
        ]
        packet = Packet(documents=[], decision=ReleaseDecision(blocking=blocking))
        if blocking:
            raise ReleaseHeld(packet.decision)
        return packet

    def deliver_imaging(self, delivery: Delivery) -> Sent:
        """The request's studies from the archive, checked image by image, by link or disc.
        Not queued for a batch: the disc is built and sent when released."""
        sub = delivery.submission
        source = self.imaging_source
        assert sub is not None and source is not None
        packet = self.release_basis(delivery)
        self.require_quality_check(delivery, packet)
        self.require_format_produced(delivery, packet)
        where = {"key": delivery.key, "request_id": delivery.request_id}
        reference = delivery.tracking_number
        if delivery.method == DeliveryMethod.EMAIL_LINK:
            path, counts = imaging.download_zip(
                source, self.outbox, sub, reference=reference, **where
            )
            link, sent_to = self.send_link(
                delivery, path, "application/zip", part2=False, study_page=True
            )
            detail: dict[str, Any] = {"link_id": link.id, **counts.model_dump()}
            return Sent(
                "email", sent_to, self._imaging_receipt(delivery, f"link:{link.id}", counts), detail
            )
        today = self.today(delivery)
        password = cd.disc_password(self.link_secret, delivery.key)
        iso, counts = imaging.disc_image(
            source, self.outbox, sub, reference=reference, password=password, **where
        )
        label = self.outbox.write(
            "cd", f"{delivery.key}-label", ".pdf", cd.disc_label(reference, today)
        )
        self.send_password(delivery, password, today)
        if delivery.method == DeliveryMethod.CD_MAIL:
            return Sent(
                "cd",
                str(iso),
                self._imaging_receipt(delivery, iso.name, counts),
                {"label": str(label), **counts.model_dump()},
            )
        tracking, ship_label = self.create_shipment(delivery, today)
        receipt = self._imaging_receipt(delivery, tracking, counts)
        receipt.carrier_tracking_number = tracking
        return Sent(
            "ship",
            str(ship_label),
            receipt,
            {"tracking_number": tracking, "disc": str(iso), **counts.model_dump()},
        )

    def _imaging_receipt(
        self, delivery: Delivery, reference: str, counts: ImagingCounts
    ) -> DeliveryReceipt:
        return DeliveryReceipt(
            key=delivery.key,
            method=delivery.method,
            reference=reference,
            documents=counts.instances,
            withheld=0,
        )

    # ---- email link ----------------------------------------------------------------------

    def email_link(self, delivery: Delivery, packet: Packet) -> Sent:
        sub = delivery.submission
        fmt = sub.electronic_format if sub else ElectronicFormat.PDF
        content, content_type, ext = package(packet, fmt)
        if sub is not None and sub.plain_email:
            return self.plain_email(delivery, packet, content, content_type, ext)
        path = self.outbox.write("releases", delivery.key, ext, content)
        link, where = self.send_link(delivery, path, content_type, part2=packet.decision.part2)
        return Sent(
            channel="email",
            path=where,
            receipt=self._receipt(delivery, f"link:{link.id}", packet),
            detail={"link_id": link.id, "documents": len(packet.documents)},
        )

    def link_url(self, token: str, *, study_page: bool = False) -> str:
        """Where a link's email points: an imaging release's study page on the patient portal
        (its studies, series previews, the zip and a share form), else the staff app's
        download route, or the portal's records page (date of birth and a mailed code) once
        the portal's public address is configured."""
        if study_page and self.portal_base_url:
            return f"{self.portal_base_url}/imaging/{token}"
        if self.records_on_portal and self.portal_base_url:
            return f"{self.portal_base_url}/records/{token}"
        return f"{self.base_url}/download/{token}"

    def send_link(
        self,
        delivery: Delivery,
        path: Path,
        content_type: str,
        *,
        part2: bool,
        study_page: bool = False,
    ) -> tuple[DownloadLink, str]:
        """The download link for the package at `path` (one per key) and its email, sent once:
        a retry after the email went out never sends it twice."""
        now = datetime.now(UTC)
        link = links.create_link(
            self.database_url,
            delivery_key=delivery.key,
            request_id=delivery.request_id,
            patient_key=delivery.patient_key,
            package_path=str(path),
            content_type=content_type,
            now=now,
            ttl=self.link_ttl,
        )
        url = self.link_url(self.signer.token(link.id), study_page=study_page)
        if link.sent_at is None:
            message = self.link_email(delivery, url, link.expires_at, part2=part2)
            where = self.mailer.send(message, delivery.key)
            persist_after_send(
                lambda: links.mark_sent(self.database_url, link.id, datetime.now(UTC))
            )
        else:  # a retry after the email went out: never send it twice
            where = f"smtp:<{delivery.key}@roi.hospital.example>"
        return link, where

    def link_email(
        self, delivery: Delivery, url: str, expires_at: datetime, *, part2: bool = False
    ) -> EmailMessage:
        """The email: a link and how long it works; never the records themselves. With 42 CFR
        Part 2 records, the notice of 42 CFR 2.32 (also the first page of the download)."""
        message = EmailMessage()
        message["To"] = delivery.email or ""
        message["From"] = self.mailer.sender
        message["Subject"] = f"Your records request {delivery.tracking_number} is ready"
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = f"<{delivery.key}@roi.hospital.example>"
        message.set_content(
            "The records you asked for are ready.\n\n"
            f"Download them securely here: {url}\n\n"
            f"The link is for you alone and works until {expires_at.date().isoformat()}. "
            "The records are not attached to this email. If you did not ask for them, do not "
            "open the link and call the Release of Information office.\n"
            + (f"\nNotice required by 42 CFR 2.32:\n{PART2_NOTICE}\n" if part2 else "")
        )
        return message

    def plain_email(
        self, delivery: Delivery, packet: Packet, content: bytes, content_type: str, ext: str
    ) -> Sent:
        """The records attached to an unencrypted email: only on the patient's own request,
        after they were told the risk and accepted it (recorded at intake, checked again
        here); the Message-ID carries the key, so a retry is the same message."""
        sub = delivery.submission
        assert sub is not None
        acceptance = sub.plain_email_acceptance
        if acceptance is None or not acceptance.told_of_risk or not delivery.email:
            raise ApplicationError(
                "unencrypted email without the patient's acceptance of the risk",
                type="DeliveryInvalid",
                non_retryable=True,
            )
        message = EmailMessage()
        message["To"] = delivery.email
        message["From"] = self.mailer.sender
        message["Subject"] = f"Your records request {delivery.tracking_number}"
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = f"<{delivery.key}@roi.hospital.example>"
        message.set_content(
            "The records you asked for are attached.\n\n"
            "You asked us to send them by regular (unencrypted) email after we told you the "
            "risk: others may be able to read them on the way. If you did not ask for them, "
            "delete this email and call the Release of Information office.\n"
            + (
                f"\nNotice required by 42 CFR 2.32:\n{PART2_NOTICE}\n"
                if packet.decision.part2
                else ""
            )
        )
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(
            content, maintype=maintype, subtype=subtype, filename=f"records{ext}"
        )
        where = self.mailer.send(message, delivery.key)
        return Sent(
            channel="email",
            path=where,
            receipt=self._receipt(delivery, f"plain-email:{delivery.key}", packet),
            detail={"plain_email": True, "documents": len(packet.documents)},
        )

    # ---- US mail, CD, FedEx (one at a time when not batched) ------------------------------

    def print_packet(self, delivery: Delivery, packet: Packet) -> Sent:
        pdf, pages = mail.single_packet(delivery, packet, self.today(delivery))
        path = self.outbox.write("print", delivery.key, ".pdf", pdf)
        return Sent(
            "print", str(path), self._receipt(delivery, path.name, packet), {"pages": pages}
        )

    def encrypted_cd(self, delivery: Delivery, packet: Packet) -> Sent:
        path, label = self.write_cd(delivery, packet)
        return Sent(
            "cd",
            str(path),
            self._receipt(delivery, path.name, packet),
            {"label": str(label)},
        )

    def write_cd(self, delivery: Delivery, packet: Packet) -> tuple[Path, Path]:
        """The ISO and its label in the outbox; the password sent apart from the disc."""
        password = cd.disc_password(self.link_secret, delivery.key)
        today = self.today(delivery)
        iso = cd.iso_image(cd.encrypted_zip(packet, password), delivery.tracking_number)
        path = self.outbox.write("cd", delivery.key, ".iso", iso)
        label = self.outbox.write(
            "cd", f"{delivery.key}-label", ".pdf", cd.disc_label(delivery.tracking_number, today)
        )
        self.send_password(delivery, password, today)
        return path, label

    def send_password(self, delivery: Delivery, password: str, today: date) -> str:
        """By email when there is an address, else a letter mailed on its own (never with the
        disc)."""
        key = f"{delivery.key}-password"
        sub = delivery.submission
        email = sub.delivery_contact().email if sub else delivery.email
        if email:
            message = EmailMessage()
            message["To"] = email
            message["From"] = self.mailer.sender
            message["Subject"] = f"Password for the records disc {delivery.tracking_number}"
            message["Message-ID"] = f"<{key}@roi.hospital.example>"
            message.set_content(
                f"The encrypted disc for request {delivery.tracking_number} is in the mail.\n"
                f"Its password is: {password}\n\nKeep this email apart from the disc.\n"
            )
            return self.mailer.send(message, key)
        letter = cd.password_letter(delivery.tracking_number, password, today)
        return str(self.outbox.write("password-letters", key, ".pdf", letter))

    def require_paid(self, delivery: Delivery) -> None:
        """A quoted fee is paid before anything leaves; the $45 FedEx fee before it ships."""
        sub = delivery.submission
        if sub is None:
            return
        if delivery.fee_quoted_cents and delivery.fee_paid_cents < delivery.fee_quoted_cents:
            raise ApplicationError(
                "the quoted fee has not been paid", type="FeeUnpaid", non_retryable=True
            )
        fee = quote_fee(
            site=sub.site,
            delivery=sub.delivery_method,
            under_right_of_access=sub.under_right_of_access,
        )
        if delivery.fee_paid_cents < fee.total_cents:
            raise ApplicationError(
                "the FedEx fee has not been paid", type="FeeUnpaid", non_retryable=True
            )

    def fedex(self, delivery: Delivery, packet: Packet) -> Sent:
        tracking, label = self.ship(delivery, packet, self.today(delivery))
        receipt = self._receipt(delivery, tracking, packet)
        receipt.carrier_tracking_number = tracking
        return Sent("ship", str(label), receipt, {"tracking_number": tracking})

    def ship(self, delivery: Delivery, packet: Packet, today: date) -> tuple[str, object]:
        """Create the 2Day shipment, keep its label and the packet to put in the envelope."""
        if self.carrier is None:
            raise ApplicationError("no carrier configured", type="CarrierError", non_retryable=True)
        sub = delivery.submission
        assert sub is not None
        pdf, _ = mail.single_packet(delivery, packet, today)
        self.outbox.write("ship", delivery.key, ".pdf", pdf)
        return self.create_shipment(delivery, today)

    def create_shipment(self, delivery: Delivery, today: date) -> tuple[str, Path]:
        """The 2Day shipment of what the outbox holds for this key (a packet or a disc)."""
        if self.carrier is None:
            raise ApplicationError("no carrier configured", type="CarrierError", non_retryable=True)
        sub = delivery.submission
        assert sub is not None
        # An earlier attempt's request may have reached FedEx with its answer (and the label)
        # lost: a worker killed mid-call, a relay that delivered late; or the attempt died
        # before its send was recorded. That shipment was never tendered, so it is cancelled
        # (its charge voided) before the one we ship, whose label replaces any earlier one.
        for orphan in self.carrier.shipments_for(delivery.key, today):
            self.carrier.cancel(orphan)
            log.warning("fedex.orphan_cancelled", request_id=delivery.request_id)
        shipment = self.carrier.create_shipment(
            shipper_for(sub.site), recipient_party(delivery), delivery.key, today
        )
        # the label of this shipment, replacing any earlier attempt's (that one was cancelled)
        label = self.outbox.replace("ship", f"{delivery.key}-label", ".pdf", shipment.label_pdf)
        return shipment.tracking_number, label

    # ---- batch queue -----------------------------------------------------------------------

    def enqueue(self, delivery: Delivery) -> Sent:
        """Hold the delivery for the site's next batch (once per key)."""
        sub = delivery.submission
        assert sub is not None
        with session_scope(self.database_url) as session:
            batch.enqueue(
                session,
                delivery_key=delivery.key,
                request_id=delivery.request_id,
                workflow_id=delivery.workflow_id or workflow_id_for(delivery.request_id),
                site=sub.site.value,
                method=delivery.method.value,
                delivery=delivery.model_dump(mode="json"),
                now=datetime.now(UTC),
            )
        log.info("records.queued_for_batch", request_id=delivery.request_id, site=sub.site.value)
        receipt = DeliveryReceipt(
            key=delivery.key, method=delivery.method, reference="batch-queue", queued=True
        )
        return Sent("batch", "", receipt)

    def _receipt(self, delivery: Delivery, reference: str, packet: Packet) -> DeliveryReceipt:
        return DeliveryReceipt(
            key=delivery.key,
            method=delivery.method,
            reference=reference,
            documents=len(packet.documents),
            withheld=len(packet.decision.withheld),
        )
