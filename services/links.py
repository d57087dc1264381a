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

from domain.download_links import SERVED, judge, refusal
from store import links
from store.models import DownloadAccess, DownloadLink
from store.repository import append_event

__all__ = ["SERVED", "access_events", "link_id_of", "links_of", "open_download", "revoke"]


def link_id_of(secret: str, token: str) -> str | None:
    """The link id a genuine token carries (None: altered, or signed with another secret)."""
    return links.LinkSigner(secret).link_id(token)


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
) -> tuple[str, DownloadLink | None]:
    """Decide one use of a link and record it as an access event (with the device's hash):
    invalid, revoked, expired, served, repeat, dob_asked, dob_wrong or confirmed
    (domain/download_links.py). The link's row stays locked until the caller commits, so two
    first downloads never both pass."""
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
        outcome = judge(
            facts,
            now=now,
            answered=answered,
            date_of_birth=date_of_birth if answered else None,
            trusted_for=trusted_for,
        )
    links.record_access(session, link, at=now, outcome=outcome, client=client, device=device)
    return outcome, link


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
