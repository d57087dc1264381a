"""The disclosures log across sites (the privacy officer's page and its CSV export): who
disclosed what, to whom, why and when, with each disclosure's request site and tracking number.
A patient's own log (what an accounting lists) is store/cases.py's `patient_disclosures`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, or_, select
from sqlmodel import Session, col

from domain.kinds.accounting import EXCLUDED_CATEGORIES
from store.models import Disclosure, RecordRequest

#: A disclosure, its request's site and tracking number (None: recorded for no request).
LogRow = tuple[Disclosure, str | None, str | None]


@dataclass(frozen=True)
class DisclosureFilter:
    """Which disclosures to list: a site, a day range (`end` included), a category, words of
    the purpose, and only those an accounting lists (`accountable`)."""

    site: str | None
    start: date | None
    end: date | None
    category: str | None
    purpose: str | None
    accountable: bool


def _query(sites: Collection[str] | None, f: DisclosureFilter) -> Select[Disclosure, str, str]:
    """Disclosures with their request's site and tracking number (a disclosure recorded from
    the command line for no request has neither), limited to `sites` (None: every site)."""
    query = select(Disclosure, col(RecordRequest.site), col(RecordRequest.tracking_number)).join(
        RecordRequest, col(RecordRequest.id) == col(Disclosure.request_id), isouter=True
    )
    if sites is not None:  # an account of some sites sees only theirs
        query = query.where(col(RecordRequest.site).in_(sorted(sites)))
    if f.site:
        query = query.where(col(RecordRequest.site) == f.site)
    if f.start:
        query = query.where(col(Disclosure.disclosed_at) >= datetime.combine(f.start, time(), UTC))
    if f.end:
        query = query.where(
            col(Disclosure.disclosed_at) < datetime.combine(f.end + timedelta(days=1), time(), UTC)
        )
    if f.category:
        query = query.where(col(Disclosure.category) == f.category)
    if f.purpose:
        like = "%" + f.purpose.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(
            or_(col(Disclosure.purpose).ilike(like), col(Disclosure.category).ilike(like))
        )
    if f.accountable:
        query = query.where(col(Disclosure.category).not_in(sorted(EXCLUDED_CATEGORIES)))
    return query


def _newest_first(query: Select[Disclosure, str, str]) -> Select[Disclosure, str, str]:
    return query.order_by(col(Disclosure.disclosed_at).desc(), col(Disclosure.id).desc())


def disclosures_page(
    session: Session,
    sites: Collection[str] | None,
    f: DisclosureFilter,
    *,
    offset: int,
    limit: int,
) -> tuple[int, list[LogRow]]:
    """How many disclosures match, and one page of them, newest first."""
    query = _query(sites, f)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(_newest_first(query).offset(offset).limit(limit)).all()
    return total, list(rows)


def disclosures_export(
    session: Session, sites: Collection[str] | None, f: DisclosureFilter, *, limit: int
) -> list[LogRow]:
    """At most `limit` matching disclosures, newest first (the CSV export)."""
    return list(session.execute(_newest_first(_query(sites, f)).limit(limit)).all())
