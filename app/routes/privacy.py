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
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from app import security_log
from app.auth import Signed, need
from app.deps import SessionDep
from app.render import render
from app.roles import Can
from app.security_log import Action
from domain.kinds.accounting import EXCLUDED_CATEGORIES
from domain.types import DisclosureCategory, Site
from store import disclosures, requests, security, staff
from store.audit import audit

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
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.OVERSIGHT))],
    action: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Annotated[str | None, Query(max_length=16)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    page: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Every security event, newest first, filtered by action, outcome, actor and date."""
    number = _page(page)
    start, end = _day(since), _day(until)
    actor_id: str | None = None
    if actor and actor.strip():
        actor_id = staff.user_id_for(session, actor.strip().lower())
    wanted = security.EventFilter(
        action=action or None,
        outcome=outcome or None,
        actor=(actor_id or actor.strip()) if actor and actor.strip() else None,
        since=start,
        until=end,
    )
    total, rows = security.security_events(
        session, wanted, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    actions = sorted(security.recorded_actions(session) | {a.value for a in Action})
    names = staff.usernames(session, {r.actor for r in rows if r.actor})
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


# ---- disclosures ------------------------------------------------------------------------------


class DisclosureFilters(disclosures.DisclosureFilter):
    """The disclosures log's filters, as the page names them."""

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


def _audit_each(
    session: Session, ids: set[str], actor: str, action: str, now: datetime, **detail: Any
) -> None:
    """An audit row on every request (that exists) whose disclosures were read."""
    for request_id in sorted(requests.existing_ids(session, ids)):
        audit(session, request_id, actor, action, now, **detail)


@router.get("/privacy/disclosures", response_class=HTMLResponse)
def disclosures_log(
    request: Request,
    session: SessionDep,
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
    number = _page(page)
    f = _filters(site, since, until, category, purpose, accountable)
    now = datetime.now(UTC)
    total, rows = disclosures.disclosures_page(
        session, signed.account.sites, f, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    names = staff.usernames(session, {d.disclosed_by for d, _, _ in rows})
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
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.OVERSIGHT))],
    site: Annotated[str | None, Query(max_length=16)] = None,
    since: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    purpose: Annotated[str | None, Query(max_length=100)] = None,
    accountable: Annotated[str | None, Query(max_length=1)] = None,
) -> Response:
    """The same log as CSV (at most EXPORT_LIMIT rows, newest first); the export is audited."""
    f = _filters(site, since, until, category, purpose, accountable)
    now = datetime.now(UTC)
    rows = disclosures.disclosures_export(session, signed.account.sites, f, limit=EXPORT_LIMIT)
    names = staff.usernames(session, {d.disclosed_by for d, _, _ in rows})
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
