"""The privacy officer's pages: the security-events log and the disclosures log across sites.

Read-only (Can.OVERSIGHT): nothing here changes a request. Every view is itself audited: a
`privacy.viewed` security event (which page, which filters by name, how many rows, never their
values when they could be PHI), and for the disclosures log an audit row on each request whose
disclosures were shown or exported (`disclosures.listed`, `disclosures.exported`), so a
patient's own audit trail says who read their disclosures.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, func, or_, select
from sqlmodel import Session, col
from ulid import ULID

from app import security_log
from app.accounts import Account
from app.auth import Signed, ctx_of, need
from app.render import render
from app.roles import Can
from app.security_log import Action
from domain.kinds.accounting import EXCLUDED_CATEGORIES
from domain.types import DisclosureCategory, Site
from store.db import session_scope
from store.models import Disclosure, RecordRequest, SecurityEvent
from store.repository import append_event
from store.web_models import StaffUser

router = APIRouter(tags=["privacy"], include_in_schema=False)

PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
OUTCOMES = ("ok", "failed", "refused", "throttled")


def _day(raw: str | None) -> date | None:
    """A filter's date; none when unreadable or the last representable day (a range ends the
    day after its last day, which date.max has not)."""
    try:
        day = date.fromisoformat(raw.strip()) if raw and raw.strip() else None
    except ValueError:
        return None
    return None if day == date.max else day


def _page(raw: int | None) -> int:
    return max(1, min(raw or 1, 100_000))


def _viewed(session: Session, request: Request, signed: Signed, page: str, **detail: Any) -> None:
    security_log.add(
        session,
        Action.PRIVACY_VIEW,
        "ok",
        actor=signed.account.id,
        client=security_log.client_of(request),
        detail={"page": page, **detail},
    )


# ---- security events --------------------------------------------------------------------------


@router.get("/privacy/security-events", response_class=HTMLResponse)
def security_events(
    request: Request,
    signed: Annotated[Signed, Depends(need(Can.OVERSIGHT))],
    action: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Annotated[str | None, Query(max_length=16)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    page: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Every security event, newest first, filtered by action, outcome, actor and date."""
    ctx = ctx_of(request)
    number = _page(page)
    start, end = _day(since), _day(until)
    with session_scope(ctx.db()) as session:
        query = select(SecurityEvent)
        if action:
            query = query.where(col(SecurityEvent.action) == action)
        if outcome:
            query = query.where(col(SecurityEvent.outcome) == outcome)
        actor_id: str | None = None
        if actor and actor.strip():
            wanted = actor.strip().lower()
            actor_id = session.execute(
                select(col(StaffUser.id)).where(col(StaffUser.username) == wanted)
            ).scalar_one_or_none()
            query = query.where(col(SecurityEvent.actor) == (actor_id or actor.strip()))
        if start:
            query = query.where(col(SecurityEvent.at) >= datetime.combine(start, time(), UTC))
        if end:
            query = query.where(
                col(SecurityEvent.at) < datetime.combine(end + timedelta(days=1), time(), UTC)
            )
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = list(
            session.execute(
                query.order_by(col(SecurityEvent.at).desc(), col(SecurityEvent.id).desc())
                .offset((number - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            ).scalars()
        )
        session.expunge_all()
        actions = sorted(
            set(session.execute(select(col(SecurityEvent.action)).distinct()).scalars())
            | {a.value for a in Action}
        )
        names = _names(session, {r.actor for r in rows if r.actor})
        used = [
            k
            for k, v in (
                ("action", action),
                ("outcome", outcome),
                ("actor", actor),
                ("from", start),
                ("to", end),
            )
            if v
        ]
        _viewed(
            session,
            request,
            signed,
            "security_events",
            filters=used,
            action_filter=action or None,
            outcome_filter=outcome or None,
            actor_filter=actor_id,
            page_number=number,
            rows=len(rows),
        )
    return render(
        request,
        "privacy_security.html",
        {
            "rows": rows,
            "names": names,
            "total": total,
            "page": number,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "actions": actions,
            "outcomes": OUTCOMES,
            "f": {
                "action": action or "",
                "outcome": outcome or "",
                "actor": actor or "",
                "from": start.isoformat() if start else "",
                "to": end.isoformat() if end else "",
            },
        },
    )


def _names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(
        session.execute(
            select(col(StaffUser.id), col(StaffUser.username)).where(col(StaffUser.id).in_(ids))
        ).all()
    )


# ---- disclosures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisclosureFilters:
    site: str | None
    start: date | None
    end: date | None
    category: str | None
    purpose: str | None
    accountable: bool

    def used(self) -> list[str]:
        pairs = (
            ("site", self.site),
            ("from", self.start),
            ("to", self.end),
            ("category", self.category),
            ("purpose", self.purpose),
            ("accountable", self.accountable),
        )
        return [k for k, v in pairs if v]

    def query_string(self) -> str:
        from urllib.parse import urlencode

        return urlencode(
            {
                k: v
                for k, v in (
                    ("site", self.site or ""),
                    ("from", self.start.isoformat() if self.start else ""),
                    ("to", self.end.isoformat() if self.end else ""),
                    ("category", self.category or ""),
                    ("purpose", self.purpose or ""),
                    ("accountable", "1" if self.accountable else ""),
                )
                if v
            }
        )


def _filters(
    site: str | None,
    since: str | None,
    until: str | None,
    category: str | None,
    purpose: str | None,
    accountable: str | None,
) -> DisclosureFilters:
    sites = {s.value for s in Site}
    categories = {c.value for c in DisclosureCategory}
    return DisclosureFilters(
        site=site if site in sites else None,
        start=_day(since),
        end=_day(until),
        category=category if category in categories else None,
        purpose=purpose.strip() if purpose and purpose.strip() else None,
        accountable=bool(accountable),
    )


def _disclosure_query(account: Account, f: DisclosureFilters) -> Select[Disclosure, str, str]:
    """Disclosures with their request's site and tracking number (a disclosure recorded from
    the command line for no request has neither), limited to the account's sites."""
    query = select(Disclosure, col(RecordRequest.site), col(RecordRequest.tracking_number)).join(
        RecordRequest, col(RecordRequest.id) == col(Disclosure.request_id), isouter=True
    )
    if account.sites is not None:  # an account of some sites sees only theirs
        query = query.where(col(RecordRequest.site).in_(sorted(account.sites)))
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


def _audit_each(
    session: Session, ids: set[str], actor: str, action: str, now: datetime, **detail: Any
) -> None:
    """An audit row on every request (that exists) whose disclosures were read."""
    known = set(
        session.execute(
            select(col(RecordRequest.id)).where(col(RecordRequest.id).in_(sorted(ids)))
        ).scalars()
    )
    for request_id in sorted(known):
        append_event(
            session,
            key=f"{request_id}-{action}-{ULID()}",
            request_id=request_id,
            actor=actor,
            action=action,
            at=now,
            detail=detail or None,
        )


@router.get("/privacy/disclosures", response_class=HTMLResponse)
def disclosures_log(
    request: Request,
    signed: Annotated[Signed, Depends(need(Can.OVERSIGHT))],
    site: Annotated[str | None, Query(max_length=16)] = None,
    since: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    purpose: Annotated[str | None, Query(max_length=100)] = None,
    accountable: Annotated[str | None, Query(max_length=1)] = None,
    page: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Who disclosed what, to whom, why and when, across the account's sites, newest first.
    Patient information: the view is audited on each request shown."""
    ctx = ctx_of(request)
    number = _page(page)
    f = _filters(site, since, until, category, purpose, accountable)
    now = datetime.now(UTC)
    with session_scope(ctx.db()) as session:
        query = _disclosure_query(signed.account, f)
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = list(
            session.execute(
                query.order_by(col(Disclosure.disclosed_at).desc(), col(Disclosure.id).desc())
                .offset((number - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            ).all()
        )
        session.expunge_all()
        names = _names(session, {d.disclosed_by for d, _, _ in rows})
        _viewed(
            session,
            request,
            signed,
            "disclosures",
            filters=f.used(),
            site_filter=f.site,
            page_number=number,
            rows=len(rows),
        )
        _audit_each(
            session,
            {d.request_id for d, _, _ in rows},
            signed.account.id,
            "disclosures.listed",
            now,
        )
    return render(
        request,
        "privacy_disclosures.html",
        {
            "rows": rows,
            "names": names,
            "total": total,
            "page": number,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "f": f,
            "qs": f.query_string(),
            "sites": [s for s in signed.account.site_list],
            "categories": [c.value for c in DisclosureCategory],
            "excluded": {c.value for c in EXCLUDED_CATEGORIES},
        },
    )


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


@router.get("/privacy/disclosures.csv")
def disclosures_csv(
    request: Request,
    signed: Annotated[Signed, Depends(need(Can.OVERSIGHT))],
    site: Annotated[str | None, Query(max_length=16)] = None,
    since: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    purpose: Annotated[str | None, Query(max_length=100)] = None,
    accountable: Annotated[str | None, Query(max_length=1)] = None,
) -> Response:
    """The same log as CSV (at most EXPORT_LIMIT rows, newest first); the export is audited."""
    ctx = ctx_of(request)
    f = _filters(site, since, until, category, purpose, accountable)
    now = datetime.now(UTC)
    with session_scope(ctx.db()) as session:
        rows = list(
            session.execute(
                _disclosure_query(signed.account, f)
                .order_by(col(Disclosure.disclosed_at).desc(), col(Disclosure.id).desc())
                .limit(EXPORT_LIMIT)
            ).all()
        )
        session.expunge_all()
        names = _names(session, {d.disclosed_by for d, _, _ in rows})
        _viewed(session, request, signed, "disclosures.csv", filters=f.used(), rows=len(rows))
        _audit_each(
            session,
            {d.request_id for d, _, _ in rows},
            signed.account.id,
            "disclosures.exported",
            now,
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "disclosed_at",
            "site",
            "tracking_number",
            "disclosed_by",
            "recipient_name",
            "recipient_address",
            "description",
            "purpose",
            "category",
            "in_accounting",
            "method",
            "source",
        ]
    )
    excluded = {c.value for c in EXCLUDED_CATEGORIES}
    for d, row_site, tracking in rows:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    d.disclosed_at.isoformat(),
                    row_site or "",
                    tracking or "",
                    names.get(d.disclosed_by, d.disclosed_by),
                    d.recipient_name,
                    d.recipient_address or "",
                    d.description,
                    d.purpose,
                    d.category,
                    "no" if d.category in excluded else "yes",
                    d.method,
                    d.source,
                )
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="disclosures-{now:%Y%m%d}.csv"',
        },
    )
