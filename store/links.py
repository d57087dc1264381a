"""The rows of signed, expiring, revocable download links, each for one request (one patient).

The token in the URL is the link's opaque id signed with `ROI_LINK_SECRET` (itsdangerous,
`LinkSigner`), so a guessed or altered URL is refused before the database is asked. Expiry and
revocation live in the `download_links` row; every use, served or refused, is a row of
`download_access_events`. Whether a use hands the records over is domain/download_links.py's
decision, taken and recorded by the link service (services/links.py); the deliver activity
creates links and marks them sent here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col
from ulid import ULID

from domain.download_links import SERVED, TRUSTING, LinkFacts
from store.db import session_scope
from store.models import DownloadAccess, DownloadLink, RecordRequest

SALT = "roi-download-link"


class LinkSigner:
    """Turns link ids into URL tokens and back."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt=SALT)

    def token(self, link_id: str) -> str:
        return self._serializer.dumps(link_id)

    def link_id(self, token: str) -> str | None:
        """The id inside a genuine token, else None."""
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None


def create_link(
    database_url: str,
    *,
    delivery_key: str,
    request_id: str,
    patient_key: str | None,
    package_path: str,
    content_type: str,
    now: datetime,
    ttl: timedelta,
) -> DownloadLink:
    """The link for this delivery (created once; a retry gets the same link)."""
    with session_scope(database_url) as session:
        session.execute(
            insert(DownloadLink)
            .values(
                id=str(ULID()).lower(),
                delivery_key=delivery_key,
                request_id=request_id,
                patient_key=patient_key,
                package_path=package_path,
                content_type=content_type,
                created_at=now,
                expires_at=now + ttl,
            )
            .on_conflict_do_nothing(index_elements=["delivery_key"])
        )
        link: DownloadLink = session.execute(
            select(DownloadLink).where(col(DownloadLink.delivery_key) == delivery_key)
        ).scalar_one()
        session.expunge(link)
        return link


def create_shared_link(
    session: Session, parent: DownloadLink, *, shared_with: str, now: datetime, ttl: timedelta
) -> DownloadLink:
    """A second link to the same released package, made by the patient for another doctor
    (its own id, token and expiry; revoked with the request's other links)."""
    link_id = str(ULID()).lower()
    link = DownloadLink(
        id=link_id,
        delivery_key=f"shared-{link_id}",
        request_id=parent.request_id,
        patient_key=parent.patient_key,
        package_path=parent.package_path,
        content_type=parent.content_type,
        created_at=now,
        expires_at=now + ttl,
        sent_at=now,  # handed to the patient on the page: no email of ours carries it
        shared_from=parent.id,
        shared_with=shared_with,
    )
    session.add(link)
    session.flush()
    return link


def mark_sent(database_url: str, link_id: str, at: datetime) -> None:
    """The email carrying the link was accepted by the mail server."""
    with session_scope(database_url) as session:
        session.execute(
            update(DownloadLink)
            .where(col(DownloadLink.id) == link_id, col(DownloadLink.sent_at).is_(None))
            .values(sent_at=at)
        )


def revoke_live(session: Session, *, request_id: str, actor: str, at: datetime) -> int:
    """Revoke every live link of a request; returns how many (the caller audits it)."""
    result = session.execute(
        update(DownloadLink)
        .where(col(DownloadLink.request_id) == request_id, col(DownloadLink.revoked_at).is_(None))
        .values(revoked_at=at, revoked_by=actor)
    )
    return cast(CursorResult[Any], result).rowcount or 0


def links_with_counts(session: Session, request_id: str) -> list[tuple[DownloadLink, int, int]]:
    """The request's links, each with how many downloads were served and refused (a date of
    birth asked for or wrong, expired, revoked)."""
    served = func.count().filter(col(DownloadAccess.outcome).in_(SERVED))
    refused = func.count().filter(col(DownloadAccess.outcome).not_in(SERVED))
    rows = session.execute(
        select(DownloadLink, served, refused)
        .outerjoin(DownloadAccess, col(DownloadAccess.link_id) == col(DownloadLink.id))
        .where(col(DownloadLink.request_id) == request_id)
        .group_by(DownloadLink.id)
        .order_by(col(DownloadLink.created_at))
    ).all()
    return [(link, int(s), int(r)) for link, s, r in rows]


def locked_link(session: Session, link_id: str) -> DownloadLink | None:
    """The link's row, locked until the transaction ends (two first downloads never both
    pass)."""
    return session.execute(
        select(DownloadLink).where(col(DownloadLink.id) == link_id).with_for_update()
    ).scalar_one_or_none()


def link_facts(
    session: Session, link: DownloadLink, device: str | None, *, with_dob: bool
) -> LinkFacts:
    """What the link's access events say before this use: whether it served its records
    already, since when `device` (a cookie's hash) is trusted, and (`with_dob`: a date of
    birth was answered) the patient's, to compare."""
    served_before = session.execute(
        select(func.count())
        .select_from(DownloadAccess)
        .where(col(DownloadAccess.link_id) == link.id, col(DownloadAccess.outcome).in_(SERVED))
    ).scalar_one()
    trusted_since = None
    if served_before and device is not None:
        trusted_since = session.execute(
            select(func.max(col(DownloadAccess.at))).where(
                col(DownloadAccess.link_id) == link.id,
                col(DownloadAccess.device) == device,
                col(DownloadAccess.outcome).in_(TRUSTING),
            )
        ).scalar_one_or_none()
    patient_dob = (
        session.execute(
            select(col(RecordRequest.patient_dob)).where(col(RecordRequest.id) == link.request_id)
        ).scalar_one_or_none()
        if with_dob
        else None
    )
    return LinkFacts(bool(served_before), trusted_since, patient_dob)


def record_access(
    session: Session,
    link: DownloadLink | None,
    *,
    at: datetime,
    outcome: str,
    client: str | None,
    device: str | None,
    item: str | None = None,
) -> None:
    """One use of a link (or of a token that names none), served or refused (append-only);
    `item` says what the portal's study page served (page, zip, preview:<name>)."""
    session.add(
        DownloadAccess(
            link_id=link.id if link else None,
            request_id=link.request_id if link else None,
            at=at,
            outcome=outcome,
            client=client,
            device=device,
            item=item,
        )
    )


def accesses(session: Session, request_id: str) -> list[DownloadAccess]:
    """Every use of the request's links, oldest first."""
    return list(
        session.execute(
            select(DownloadAccess)
            .where(col(DownloadAccess.request_id) == request_id)
            .order_by(col(DownloadAccess.id))
        )
        .scalars()
        .all()
    )
