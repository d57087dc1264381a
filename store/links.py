"""Signed, expiring, revocable download links, each for one request (so one patient).

The token in the URL is the link's opaque id signed with `ROI_LINK_SECRET` (itsdangerous), so a
guessed or altered URL is refused before the database is asked. Expiry and revocation live in
the `download_links` row; every use, served or refused, is an access event. After a link's
first download only that device (its random cookie, kept as a hash) may download again for a
few hours without the patient's date of birth (`open_link`).
"""

from __future__ import annotations

import hmac
from datetime import date, datetime, timedelta
from typing import Any, cast

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col
from ulid import ULID

from store.db import session_scope
from store.models import DownloadAccess, DownloadLink, RecordRequest
from store.repository import append_event

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


def mark_sent(database_url: str, link_id: str, at: datetime) -> None:
    """The email carrying the link was accepted by the mail server."""
    with session_scope(database_url) as session:
        session.execute(
            update(DownloadLink)
            .where(col(DownloadLink.id) == link_id, col(DownloadLink.sent_at).is_(None))
            .values(sent_at=at)
        )


def revoke(database_url: str, *, request_id: str, actor: str, at: datetime) -> int:
    """Revoke every live link of a request, with its audit row; returns how many."""
    with session_scope(database_url) as session:
        result = session.execute(
            update(DownloadLink)
            .where(
                col(DownloadLink.request_id) == request_id, col(DownloadLink.revoked_at).is_(None)
            )
            .values(revoked_at=at, revoked_by=actor)
        )
        count = cast(CursorResult[Any], result).rowcount or 0
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


#: Accesses that handed the records over: the link's first download, the same device again
#: within the trusted hours, and a download after the date of birth was confirmed.
SERVED = ("served", "repeat", "confirmed")
#: The ones that made a device trusted for the following hours.
TRUSTING = ("served", "confirmed")


def links_of(database_url: str, request_id: str) -> list[tuple[DownloadLink, int, int]]:
    """The request's links, each with how many downloads were served and refused (a date of
    birth asked for or wrong, expired, revoked)."""
    served = func.count().filter(col(DownloadAccess.outcome).in_(SERVED))
    refused = func.count().filter(col(DownloadAccess.outcome).not_in(SERVED))
    with session_scope(database_url) as session:
        rows = session.execute(
            select(DownloadLink, served, refused)
            .outerjoin(DownloadAccess, col(DownloadAccess.link_id) == col(DownloadLink.id))
            .where(col(DownloadLink.request_id) == request_id)
            .group_by(DownloadLink.id)
            .order_by(col(DownloadLink.created_at))
        ).all()
        session.expunge_all()
        return [(link, int(s), int(r)) for link, s, r in rows]


def open_link(
    database_url: str,
    link_id: str | None,
    *,
    now: datetime,
    client: str | None,
    device: str | None = None,
    date_of_birth: date | None = None,
    answered: bool = False,
    trusted_for: timedelta = timedelta(hours=24),
) -> tuple[str, DownloadLink | None]:
    """Decide a download and record the access event (with the device's hash).

    invalid, revoked or expired; else `served` for the link's first download (the device is
    trusted for `trusted_for`), `repeat` for that device again within its hours; any other
    device, or the same after its hours, must confirm the patient's date of birth: without an
    answer `dob_asked`, a wrong one `dob_wrong`, the right one `confirmed` (that device is
    trusted from now). The link's row is locked, so two first downloads never both pass."""
    with session_scope(database_url) as session:
        link = (
            session.execute(
                select(DownloadLink).where(col(DownloadLink.id) == link_id).with_for_update()
            ).scalar_one_or_none()
            if link_id
            else None
        )
        if link is None:
            outcome = "invalid"
        elif link.revoked_at is not None:
            outcome = "revoked"
        elif link.expires_at <= now:
            outcome = "expired"
        else:
            outcome = _judge(
                session,
                link,
                now,
                device,
                date_of_birth if answered else None,
                answered,
                trusted_for,
            )
        session.add(
            DownloadAccess(
                link_id=link.id if link else None,
                request_id=link.request_id if link else None,
                at=now,
                outcome=outcome,
                client=client,
                device=device,
            )
        )
        if link is not None:
            session.expunge(link)
        return outcome, link


def _judge(
    session: Session,
    link: DownloadLink,
    now: datetime,
    device: str | None,
    date_of_birth: date | None,
    answered: bool,
    trusted_for: timedelta,
) -> str:
    """served, repeat, dob_asked, dob_wrong or confirmed (the link is live)."""
    first = session.execute(
        select(func.count())
        .select_from(DownloadAccess)
        .where(col(DownloadAccess.link_id) == link.id, col(DownloadAccess.outcome).in_(SERVED))
    ).scalar_one()
    if not first:
        return "served"
    if device is not None:
        trusted_since = session.execute(
            select(func.max(col(DownloadAccess.at))).where(
                col(DownloadAccess.link_id) == link.id,
                col(DownloadAccess.device) == device,
                col(DownloadAccess.outcome).in_(TRUSTING),
            )
        ).scalar_one_or_none()
        if trusted_since is not None and now - trusted_since < trusted_for:
            return "repeat"
    if not answered:
        return "dob_asked"
    expected = session.execute(
        select(col(RecordRequest.patient_dob)).where(col(RecordRequest.id) == link.request_id)
    ).scalar_one_or_none()
    stored = expected.isoformat() if expected else "0000-00-00"
    given = date_of_birth.isoformat() if date_of_birth else "x"
    return "confirmed" if hmac.compare_digest(stored, given) and expected else "dob_wrong"


def access_events(database_url: str, request_id: str) -> list[DownloadAccess]:
    """Every use of the request's links, oldest first."""
    with session_scope(database_url) as session:
        rows = (
            session.execute(
                select(DownloadAccess)
                .where(col(DownloadAccess.request_id) == request_id)
                .order_by(col(DownloadAccess.id))
            )
            .scalars()
            .all()
        )
        session.expunge_all()
        return list(rows)
