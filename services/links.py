"""The requesters' download links as the web app and the CLI work with them.

A URL token goes back to its link through the signer; a use is decided by the policy of
domain/download_links.py on what the link's rows say (store/links.py) and recorded as an access
event, served or refused; revoking a request's links is one audit row on the request. Each
function works in the caller's transaction (the web app's injected session, or the CLI's).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session
from ulid import ULID

from domain.download_links import SERVED, judge, judge_viewer, refusal
from domain.effects import DisclosureRecord
from domain.imaging import ReleaseIndex
from domain.types import DeliveryMethod, DisclosureCategory
from store import links
from store.models import DownloadAccess, DownloadLink
from store.repository import append_event, record_disclosure

__all__ = [
    "SERVED",
    "access_events",
    "link_id_of",
    "links_of",
    "open_download",
    "revoke",
    "share",
    "token_of",
]

#: Who a link the patient shares is disclosed by, and why (the accounting of disclosures).
PATIENT = "patient"
AT_PATIENTS_DIRECTION = (
    "At the patient's direction (45 CFR 164.524(c)(3)(ii)): shared by the patient from the "
    "patient portal's imaging study page"
)


def link_id_of(secret: str, token: str) -> str | None:
    """The link id a genuine token carries (None: altered, or signed with another secret)."""
    return links.LinkSigner(secret).link_id(token)


def token_of(secret: str, link_id: str) -> str:
    """The URL token of a link (the share form hands the patient the new link's)."""
    return links.LinkSigner(secret).token(link_id)


def open_download(
    session: Session,
    link_id: str | None,
    *,
    now: datetime,
    client: str | None,
    device: str | None = None,
    date_of_birth: date | None = None,
    answered: bool = False,
    trusted_for: timedelta = timedelta(hours=24),
    study_page: bool = False,
    item: str | None = None,
) -> tuple[str, DownloadLink | None]:
    """Decide one use of a link and record it as an access event (with the device's hash):
    invalid, revoked, expired, served, repeat, dob_asked, dob_wrong or confirmed
    (domain/download_links.py). The link's row stays locked until the caller commits, so two
    first downloads never both pass. `study_page`: the portal's page, which asks every new
    device for the date of birth (`judge_viewer`); `item` is what it serves (the audit)."""
    link = links.locked_link(session, link_id) if link_id else None
    outcome = refusal(
        found=link is not None,
        revoked_at=link.revoked_at if link else None,
        expires_at=link.expires_at if link else None,
        now=now,
    )
    if outcome is None:
        assert link is not None
        facts = links.link_facts(session, link, device, with_dob=answered)
        # a link the patient shared always asks, whichever app opens it (the staff app's
        # /download/<token> too): the doctor is told the date of birth, the link alone is not
        # enough
        asks = study_page or link.shared_from is not None
        outcome = (judge_viewer if asks else judge)(
            facts,
            now=now,
            answered=answered,
            date_of_birth=date_of_birth if answered else None,
            trusted_for=trusted_for,
        )
    links.record_access(
        session, link, at=now, outcome=outcome, client=client, device=device, item=item
    )
    return outcome, link


def share(
    session: Session,
    parent: DownloadLink,
    *,
    doctor: str,
    contact: str,
    index: ReleaseIndex | None,
    now: datetime,
    ttl: timedelta,
) -> DownloadLink:
    """A second link to the patient's imaging for another doctor, recorded as a disclosure the
    patient directed (who: the patient; to whom: the doctor; what: the studies; why: at the
    patient's direction; when: now) and as an audit row on the request. Only a patient's own
    link shares: a shared link is refused (ValueError)."""
    if parent.shared_from is not None:
        raise ValueError("a shared link cannot be shared again")
    link = links.create_shared_link(session, parent, shared_with=doctor[:320], now=now, ttl=ttl)
    record_disclosure(
        session,
        DisclosureRecord(
            key=f"{parent.request_id}-shared-{link.id}",
            request_id=parent.request_id,
            disclosed_at=now,
            disclosed_by=PATIENT,
            recipient_name=doctor[:320],
            recipient_address=contact[:1000] or None,
            description=_what(index),
            purpose=AT_PATIENTS_DIRECTION,
            method=DeliveryMethod.EMAIL_LINK,
            category=DisclosureCategory.PATIENT_ACCESS,
            authorization_ref=None,
            patient_key=parent.patient_key,
        ),
        source=PATIENT,
    )
    append_event(
        session,
        key=f"{parent.request_id}-link.shared-{link.id}",
        request_id=parent.request_id,
        actor=PATIENT,
        action="link.shared",
        at=now,
        detail={"link": link.id, "from": parent.id, "expires_at": link.expires_at.isoformat()},
    )
    return link


def _what(index: ReleaseIndex | None) -> str:
    """The disclosure's description: the imaging studies the link opens (PHI: the log only)."""
    if index is None or not index.studies:
        return "Imaging studies (DICOM and JPEG previews) by a link shared by the patient"
    studies = "; ".join(
        " ".join(
            part
            for part in (
                s.study_date.isoformat() if s.study_date else "",
                "/".join(s.modalities),
                s.description,
            )
            if part
        )
        + f" ({len(s.series)} series, {s.instances} images)"
        for s in index.studies
    )
    return f"Imaging studies (DICOM and JPEG previews) by a link shared by the patient: {studies}"


def revoke(session: Session, *, request_id: str, actor: str, at: datetime) -> int:
    """Revoke every live link of a request, with its audit row; returns how many."""
    count = links.revoke_live(session, request_id=request_id, actor=actor, at=at)
    if count:
        append_event(
            session,
            key=f"{request_id}-links.revoked-{ULID()}",
            request_id=request_id,
            actor=actor,
            action="links.revoked",
            at=at,
            detail={"links": count},
        )
    return count


def links_of(session: Session, request_id: str) -> list[tuple[DownloadLink, int, int]]:
    """The request's links, each with its downloads served and refused (the request page)."""
    return links.links_with_counts(session, request_id)


def access_events(session: Session, request_id: str) -> list[DownloadAccess]:
    """Every use of the request's links, oldest first (the audit trail)."""
    return links.accesses(session, request_id)
