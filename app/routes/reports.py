"""Reports for supervisors and the privacy officer (Can.REPORTS): SLA compliance, turnaround,
the breach log, work per specialist, fees billed and paid, disclosures by purpose.

Each is a page (filters, a chart drawn on the server, the numbers in a table) with CSV and XLSX
downloads of the same table. Filters: one of the account's sites or all of them (an account
restricted to some sites never sees another's numbers; asking for one is a 403), and a range of
the site's months. Every view and download is a security event (`report.viewed`,
`report.exported`: who, which report, which filters, how many rows). No report holds patient
information: tracking numbers, codes, dates and counts only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from app import security_log
from app.accounts import Account
from app.auth import Signed, need
from app.charts import PALETTE, Series, bar_chart, hbar_chart
from app.context import Forbidden, NotFound
from app.deps import SessionDep
from app.render import render
from app.report_export import Column, Table, show, to_csv, to_xlsx
from app.roles import Can
from domain.calendar import local_date
from domain.kinds.accounting import EXCLUDED_CATEGORIES
from domain.reports import MAX_MONTHS, TURNAROUND_BUCKETS, Month, months
from domain.types import Site
from store import reports as q
from store.security import record_security_event

router = APIRouter(tags=["reports"], include_in_schema=False)

#: The breach log's page size, and the most rows a download holds.
PAGE_SIZE = 100
EXPORT_LIMIT = 10_000
VIEWED = "report.viewed"
EXPORTED = "report.exported"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Report(StrEnum):
    COMPLIANCE = "compliance"
    TURNAROUND = "turnaround"
    BREACHES = "breaches"
    SPECIALISTS = "specialists"
    FEES = "fees"
    DISCLOSURES = "disclosures"


TITLES: dict[Report, str] = {
    Report.COMPLIANCE: "SLA compliance",
    Report.TURNAROUND: "Turnaround",
    Report.BREACHES: "Breach log",
    Report.SPECIALISTS: "Work per specialist",
    Report.FEES: "Fees billed and paid",
    Report.DISCLOSURES: "Disclosures by purpose",
}

ABOUT: dict[Report, str] = {
    Report.COMPLIANCE: (
        "Requests closed in each month (the site's calendar). Answered: completed, denied or "
        "rejected. The 14-day target is counted over the answered requests that have one; the "
        "legal due date is the effective one (extended when the one extension was taken). "
        "Cancelled or expired requests were never answered and are counted apart."
    ),
    Report.TURNAROUND: (
        "Calendar days from receipt to answer (the site's dates) of the requests answered in "
        "the months. The median is the lower median: a real request's days."
    ),
    Report.BREACHES: (
        "Every request whose legal due date (in the months) passed before the hospital acted, "
        "open or closed: a breach stays on record after closing. The cause is the stage the "
        "request sat in at the due date (with a held release's reasons), from its audit trail; "
        "'held by' is who held its claim then, or with no claim the last staff member who took "
        "a step on it. Claims are read from claim, release, expiry and reassignment rows: a "
        "claim left idle past its timeout without anyone expiring it still counts."
    ),
    Report.SPECIALISTS: (
        "What each staff member did in the months at the sites, from the audit trail: requests "
        "claimed, requests they moved (workflow steps taken on them), the steps, requests they "
        "answered (completed, denied, rejected) and how many of those after the legal due date."
    ),
    Report.FEES: (
        "Fees quoted on the requests received in each month, what was paid, what is still "
        "owed on open requests and what was never collected on closed ones (cancelled, denied)."
    ),
    Report.DISCLOSURES: (
        "Disclosures made in each month by purpose category (the accounting category), per "
        "site. 'In an accounting' marks the categories a patient's accounting of disclosures "
        "lists (164.528)."
    ),
}


# ---- filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    site: str | None  # None: every site the account covers
    first: Month
    last: Month
    page: int = 1
    notices: tuple[str, ...] = ()

    def sites(self, account: Account) -> list[str]:
        return [self.site] if self.site else account.site_list

    def query(self, **changes: Any) -> str:
        values: dict[str, Any] = {
            "site": self.site or "",
            "from": str(self.first),
            "to": str(self.last),
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def detail(self) -> dict[str, Any]:
        """What the audit row records (no PHI in any filter)."""
        return {"site": self.site or "all", "from": str(self.first), "to": str(self.last)}


def parse_filters(
    account: Account,
    site: str | None,
    since: str | None,
    until: str | None,
    page: int | None,
    now: datetime,
) -> Filters:
    """The filters as given, or their defaults (the last 12 months) with a plain notice for
    what could not be read. A site the account does not cover is refused (403)."""
    notices: list[str] = []
    chosen = (site or "").strip().lower() or None
    if chosen is not None:
        if chosen not in {s.value for s in Site}:
            raise NotFound()
        if not account.covers(chosen):
            raise Forbidden("Your account does not cover that site.", reason="site")
    current = Month.of(now.date())

    def month(raw: str | None, default: Month, name: str) -> Month:
        if not raw or not raw.strip():
            return default
        try:
            return Month.parse(raw)
        except ValueError:
            notices.append(f"'{name}' is written YYYY-MM (e.g. {current}); showing {default}.")
            return default

    last = month(until, current, "to")
    first = month(since, last.minus(11), "from")
    if first > last:
        first, last = last, first
    if len(months(first, last)) > MAX_MONTHS:
        first = last.minus(MAX_MONTHS - 1)
        notices.append(f"A report covers at most {MAX_MONTHS} months; showing from {first}.")
    return Filters(chosen, first, last, max(1, min(page or 1, 100_000)), tuple(notices))


# ---- building each report -----------------------------------------------------------------


@dataclass
class Built:
    table: Table
    chart: Markup
    total: int | None = None  # the breach log: every breach the filters match
    links: list[str | None] = field(default_factory=list)  # a request per row (breach log)


def _site(value: str | None) -> str:
    return value.capitalize() if value else "All sites"


def _month_label(value: Month | None) -> str:
    return str(value) if value else "All months"


def _compliance(session: Session, account: Account, f: Filters, export: bool) -> Built:
    sites = f.sites(account)
    rows = q.compliance(session, sites, f.first, f.last)
    table = Table(
        [
            Column("month", "Month"),
            Column("site", "Site"),
            Column("answered", "Answered", "int"),
            Column("with_target", "With a 14-day target", "int"),
            Column("within_target", "Within target", "int"),
            Column("target_pct", "Within target (%)", "pct"),
            Column("within_legal", "Within legal due date", "int"),
            Column("legal_pct", "Within legal due date (%)", "pct"),
            Column("within_original", "Within original due date", "int"),
            Column("extended", "Extensions", "int"),
            Column("late", "Answered late (breach)", "int"),
            Column("unanswered", "Cancelled or expired", "int"),
        ]
    )
    for r in rows:
        if r.site is None and r.month is not None and len(sites) == 1:
            continue  # one site: its month rows are the month's totals already
        table.add(
            [
                _month_label(r.month),
                _site(r.site),
                r.answered,
                r.with_target,
                r.within_target,
                r.target_share,
                r.within_legal,
                r.legal_share,
                r.within_original,
                r.extended,
                r.late,
                r.unanswered,
            ],
            total=r.site is None,
        )
    by_month = {r.month: r for r in rows if r.site is None and r.month is not None}
    shown = months(f.first, f.last)
    chart = bar_chart(
        chart_id="chart-compliance",
        title=f"Share answered in time by month, {_scope(f)}",
        categories=[m.label for m in shown],
        series=[
            Series(
                "Within 14-day target",
                [by_month[m].target_share if m in by_month else None for m in shown],
                PALETTE[0],
            ),
            Series(
                "Within legal due date",
                [by_month[m].legal_share if m in by_month else None for m in shown],
                PALETTE[1],
            ),
        ],
        unit="%",
        max_value=100,
    )
    return Built(table, chart)


def _turnaround(session: Session, account: Account, f: Filters, export: bool) -> Built:
    rows = q.turnaround(session, f.sites(account), f.first, f.last)
    table = Table(
        [
            Column("site", "Site"),
            Column("answered", "Answered", "int"),
            *[Column(f"b{i}", b.label, "int") for i, b in enumerate(TURNAROUND_BUCKETS)],
            Column("median", "Median days", "int"),
            Column("p90", "90th percentile days", "int"),
            Column("max", "Longest days", "int"),
        ]
    )
    for r in rows:
        table.add(
            [_site(r.site), r.answered, *r.buckets, r.median_days, r.p90_days, r.max_days],
            total=r.site is None,
        )
    total = next((r for r in rows if r.site is None), None)
    counts = list(total.buckets) if total else [0] * len(TURNAROUND_BUCKETS)
    chart = bar_chart(
        chart_id="chart-turnaround",
        title=f"Requests answered by days from receipt, {_scope(f)}",
        categories=[b.label for b in TURNAROUND_BUCKETS],
        series=[Series("Answered", counts, PALETTE[0])],
    )
    return Built(table, chart)


def _breaches(session: Session, account: Account, f: Filters, export: bool) -> Built:
    sites = f.sites(account)
    now = datetime.now(UTC)
    total = q.breach_count(session, sites, f.first, f.last, now)
    limit, offset = (EXPORT_LIMIT, 0) if export else (PAGE_SIZE, (f.page - 1) * PAGE_SIZE)
    entries = q.breach_log(session, sites, f.first, f.last, now, limit=limit, offset=offset)
    names = q.staff_names(session, sorted({e.holder.actor for e in entries if e.holder.actor}))
    table = Table(
        [
            Column("tracking_number", "Tracking number"),
            Column("site", "Site"),
            Column("kind", "Kind"),
            Column("received", "Received", "date"),
            Column("due", "Legal due date", "date"),
            Column("extended", "Extended"),
            Column("closed", "Closed", "date"),
            Column("status", "Status"),
            Column("days_late", "Days late", "int"),
            Column("stage", "Stage at due date"),
            Column("cause", "Cause"),
            Column("waiting_on", "Waiting on"),
            Column("held_by", "Held by"),
            Column("how_held", "How held"),
        ]
    )
    links: list[str | None] = []
    for e in entries:
        site = Site(e.site)
        table.add(
            [
                e.tracking_number,
                e.site.capitalize(),
                e.kind.replace("_", " "),
                local_date(site, e.received_at),
                e.due_date,
                "yes" if e.extended else "no",
                local_date(site, e.closed_at) if e.closed_at else None,
                e.status.replace("_", " ") if not e.is_open else f"open ({e.status})",
                e.days_late,
                e.cause.stage,
                e.cause.text,
                "requester" if e.cause.on_requester else "hospital",
                names.get(e.holder.actor, e.holder.actor) if e.holder.actor else None,
                e.holder.how,
            ]
        )
        links.append(e.request_id)
    by_month = q.breach_months(session, sites, f.first, f.last, now)
    shown = months(f.first, f.last)
    chart = bar_chart(
        chart_id="chart-breaches",
        title=f"Breaches by month of the legal due date, {_scope(f)}",
        categories=[m.label for m in shown],
        series=[
            Series("Closed late", [by_month.get(m, (0, 0))[1] for m in shown], PALETTE[0]),
            Series("Still open", [by_month.get(m, (0, 0))[0] for m in shown], PALETTE[3]),
        ],
    )
    return Built(table, chart, total=total, links=links)


def _specialists(session: Session, account: Account, f: Filters, export: bool) -> Built:
    rows = q.specialist_work(session, f.sites(account), f.first, f.last)
    names = q.staff_names(session, [r.actor for r in rows])
    rows = sorted(rows, key=lambda r: (-r.answered, names.get(r.actor, r.actor)))
    table = Table(
        [
            Column("staff", "Staff member"),
            Column("claims", "Claims", "int"),
            Column("requests", "Requests moved", "int"),
            Column("steps", "Steps", "int"),
            Column("answered", "Answered", "int"),
            Column("answered_late", "Answered late", "int"),
        ]
    )
    for r in rows:
        table.add(
            [
                names.get(r.actor, r.actor),
                r.claims,
                r.requests,
                r.steps,
                r.answered,
                r.answered_late,
            ]
        )
    if rows:
        table.add(
            [
                "All staff",
                sum(r.claims for r in rows),
                None,  # a request moved by two people is one request: no sum
                sum(r.steps for r in rows),
                sum(r.answered for r in rows),
                sum(r.answered_late for r in rows),
            ],
            total=True,
        )
    chart = hbar_chart(
        chart_id="chart-specialists",
        title=f"Requests answered and claimed per staff member, {_scope(f)}",
        categories=[names.get(r.actor, r.actor) for r in rows],
        series=[
            Series("Answered", [r.answered for r in rows], PALETTE[0]),
            Series("Claims", [r.claims for r in rows], PALETTE[2]),
        ],
    )
    return Built(table, chart)


def _fees(session: Session, account: Account, f: Filters, export: bool) -> Built:
    sites = f.sites(account)
    rows = q.fees(session, sites, f.first, f.last)
    table = Table(
        [
            Column("month", "Month received"),
            Column("site", "Site"),
            Column("requests", "Requests", "int"),
            Column("with_fee", "With a fee", "int"),
            Column("paid_in_full", "Paid in full", "int"),
            Column("billed", "Billed ($)", "money"),
            Column("paid", "Paid ($)", "money"),
            Column("outstanding", "Outstanding, open ($)", "money"),
            Column("uncollected", "Not collected, closed ($)", "money"),
        ]
    )
    for r in rows:
        if r.site is None and r.month is not None and len(sites) == 1:
            continue
        table.add(
            [
                _month_label(r.month),
                _site(r.site),
                r.requests,
                r.with_fee,
                r.paid_in_full,
                r.billed_cents,
                r.paid_cents,
                r.outstanding_cents,
                r.uncollected_cents,
            ],
            total=r.site is None,
        )
    by_month = {r.month: r for r in rows if r.site is None and r.month is not None}
    shown = months(f.first, f.last)

    def dollars(pick: Callable[[q.FeeCounts], int]) -> list[float | int | None]:
        return [pick(by_month[m]) / 100 if m in by_month else 0 for m in shown]

    chart = bar_chart(
        chart_id="chart-fees",
        title=f"Fees billed and paid by month received, {_scope(f)}",
        categories=[m.label for m in shown],
        series=[
            Series("Billed", dollars(lambda r: r.billed_cents), PALETTE[0]),
            Series("Paid", dollars(lambda r: r.paid_cents), PALETTE[1]),
        ],
        unit="$",
    )
    return Built(table, chart)


def _disclosures(session: Session, account: Account, f: Filters, export: bool) -> Built:
    unsited = account.sites is None and f.site is None
    rows = q.disclosures_by_purpose(
        session, f.sites(account), f.first, f.last, with_unsited=unsited
    )
    excluded = {c.value for c in EXCLUDED_CATEGORIES}
    table = Table(
        [
            Column("month", "Month"),
            Column("site", "Site"),
            Column("category", "Purpose category"),
            Column("in_accounting", "In an accounting"),
            Column("disclosures", "Disclosures", "int"),
        ]
    )
    totals = []
    for r in rows:
        if r.total_row:
            site_label = "All sites"
        else:
            site_label = r.site.capitalize() if r.site else "No request (recorded by hand)"
        category = r.category.replace("_", " ") if r.category else "All categories"
        accountable = None if r.category is None else ("no" if r.category in excluded else "yes")
        table.add(
            [_month_label(r.month), site_label, category, accountable, r.count],
            total=r.total_row,
        )
        if r.total_row and r.category is not None:
            totals.append(r)
    chart = hbar_chart(
        chart_id="chart-disclosures",
        title=f"Disclosures by purpose category, {_scope(f)}",
        categories=[(r.category or "").replace("_", " ") for r in totals],
        series=[Series("Disclosures", [r.count for r in totals], PALETTE[0])],
    )
    return Built(table, chart)


def _scope(f: Filters) -> str:
    site = f.site.capitalize() if f.site else "all your sites"
    span = str(f.first) if f.first == f.last else f"{f.first} to {f.last}"
    return f"{site}, {span}"


BUILDERS: dict[Report, Callable[[Session, Account, Filters, bool], Built]] = {
    Report.COMPLIANCE: _compliance,
    Report.TURNAROUND: _turnaround,
    Report.BREACHES: _breaches,
    Report.SPECIALISTS: _specialists,
    Report.FEES: _fees,
    Report.DISCLOSURES: _disclosures,
}


def _report(name: str) -> Report:
    try:
        return Report(name)
    except ValueError:
        raise NotFound() from None


def _build(
    session: Session, request: Request, signed: Signed, report: Report, f: Filters, fmt: str
) -> tuple[Built, datetime]:
    """The report, and its audit row (a security event) in the same transaction."""
    now = datetime.now(UTC)
    built = BUILDERS[report](session, signed.account, f, fmt != "html")
    detail: dict[str, Any] = {
        "report": report.value,
        "format": fmt,
        **f.detail(),
        "rows": len(built.table.rows),
    }
    if report == Report.BREACHES and fmt == "html":
        detail["page_number"] = f.page
    record_security_event(
        session,
        action=VIEWED if fmt == "html" else EXPORTED,
        outcome="ok",
        actor=signed.account.id,
        client=security_log.client_of(request),
        detail=detail,
    )
    return built, now


@router.get("/reports", response_class=HTMLResponse)
def reports_index(
    request: Request, signed: Annotated[Signed, Depends(need(Can.REPORTS))]
) -> Response:
    """The list of reports."""
    return render(
        request,
        "reports.html",
        {"reports": [(r.value, TITLES[r], ABOUT[r]) for r in Report]},
    )


@router.get("/reports/{name}.csv")
def report_csv(
    request: Request,
    name: str,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.REPORTS))],
    site: Annotated[str | None, Query(max_length=16)] = None,
    since: Annotated[str | None, Query(alias="from", max_length=7)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=7)] = None,
) -> Response:
    """The report's table as CSV (the breach log: every breach, up to EXPORT_LIMIT)."""
    report = _report(name)
    f = parse_filters(signed.account, site, since, until, 1, datetime.now(UTC))
    built, _ = _build(session, request, signed, report, f, "csv")
    return Response(
        to_csv(built.table),
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{_filename(report, f)}.csv"',
        },
    )


@router.get("/reports/{name}.xlsx")
def report_xlsx(
    request: Request,
    name: str,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.REPORTS))],
    site: Annotated[str | None, Query(max_length=16)] = None,
    since: Annotated[str | None, Query(alias="from", max_length=7)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=7)] = None,
) -> Response:
    """The report's table as an Excel workbook (typed cells, a header row)."""
    report = _report(name)
    f = parse_filters(signed.account, site, since, until, 1, datetime.now(UTC))
    built, now = _build(session, request, signed, report, f, "xlsx")
    about = [
        ("Report", TITLES[report]),
        ("Sites", ", ".join(f.sites(signed.account))),
        ("Months", f"{f.first} to {f.last}"),
        ("Produced", now.strftime("%Y-%m-%d %H:%M UTC")),
        ("By", signed.account.username),
        ("What it counts", ABOUT[report]),
    ]
    return Response(
        to_xlsx(built.table, title=TITLES[report], about=about),
        media_type=XLSX,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{_filename(report, f)}.xlsx"',
        },
    )


def _filename(report: Report, f: Filters) -> str:
    return f"{report.value}-{f.site or 'all'}-{f.first}-{f.last}"


@router.get("/reports/{name}", response_class=HTMLResponse)
def report_page(
    request: Request,
    name: str,
    session: SessionDep,
    signed: Annotated[Signed, Depends(need(Can.REPORTS))],
    site: Annotated[str | None, Query(max_length=16)] = None,
    since: Annotated[str | None, Query(alias="from", max_length=7)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=7)] = None,
    page: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """One report: filters, chart, table, downloads."""
    report = _report(name)
    f = parse_filters(signed.account, site, since, until, page, datetime.now(UTC))
    built, now = _build(session, request, signed, report, f, "html")
    pages = max(1, -(-(built.total or 0) // PAGE_SIZE)) if built.total is not None else 1
    return render(
        request,
        "reports_page.html",
        {
            "report": report.value,
            "title": TITLES[report],
            "about": ABOUT[report],
            "f": f,
            "qs": f.query(),
            "sites": signed.account.site_list,
            "built": built,
            "table": built.table,
            "show": show,
            "pages": pages,
            "now": now,
        },
    )
