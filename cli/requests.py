"""`roi submit`, `roi status`, `roi list`: put a request in, see where it stands."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.app import app
from cli.common import Ref, console, db_url, err, print_issues, quiet_logging, run, temporal_client
from domain.types import RequestKind, Site, Status

if TYPE_CHECKING:
    from temporalio.client import Client

    from domain.denial import DenialReview
    from domain.kinds.case import CaseState
    from domain.standing import ClockReading
    from services import intake


@app.command()
def submit(
    file: Annotated[Path, typer.Argument(help="JSON file with the request (see examples/).")],
    idempotency_key: Annotated[
        str | None, typer.Option("--key", help="Same key twice = the same request, never two.")
    ] = None,
) -> None:
    """Submit a records request; prints its tracking number, or every field error."""
    from config.settings import get_settings
    from services import intake

    try:
        raw = file.read_bytes()
    except OSError:
        err.print("[red]Cannot read that file.[/]")
        raise typer.Exit(2) from None

    async def go() -> tuple[intake.IntakeResult, bool]:
        settings = get_settings()
        database_url = db_url()  # the submission is stored even if Temporal is unreachable
        try:
            client: Client | None = await temporal_client()
        except RuntimeError:
            client = None
        result = await intake.submit(
            raw,
            database_url=database_url,
            client=client,
            task_queue=settings.task_queue,
            source="cli",
            idempotency_key=idempotency_key,
        )
        return result, client is not None

    result, connected = run(go())
    if not result.accepted:
        print_issues("The request was stored but not accepted", result.errors)
        err.print(f"Submission {result.submission_id} is kept for staff review.")
        raise typer.Exit(1)
    note = " (already received earlier)" if result.duplicate else ""
    console.print(f"[green]Accepted{note}.[/] Tracking number: [bold]{result.tracking_number}[/]")
    console.print(f"Request id: {result.request_id}")
    if not connected:
        err.print(
            "[yellow]Temporal is unreachable: the request is stored and will start when it is "
            "back (the worker runs `roi reconcile` at start, or run it yourself).[/]"
        )


@app.command()
def status(reference: Ref) -> None:
    """Show a request's stage and both clocks (site-local time, business days left)."""
    from domain.calendar import business_days_between, local_date, local_datetime
    from domain.fees import format_usd
    from domain.kinds.case import CaseState
    from domain.sites import site_profile
    from domain.standing import Standing, read_clock
    from services import staff

    async def go() -> None:
        database_url = db_url()
        try:
            request_id = staff.resolve_request_id(database_url, reference)
        except staff.RequestNotFound as missing:
            err.print(f"[red]{missing}[/]")
            raise typer.Exit(2) from None
        state = await staff.any_state(await temporal_client(), request_id)
        clock = state.clock
        if isinstance(state, CaseState):
            _print_case(state)
            return
        sub = state.submission
        site = sub.site
        zone = site_profile(site).time_zone_label
        today = local_date(site, datetime.now(UTC))
        table = Table(show_header=False, title=f"{state.tracking_number}  ({state.request_id})")
        table.add_row("Stage", f"[bold]{state.status.value}[/]")
        table.add_row("Kind / site", f"{sub.kind.value} / {site_profile(site).display_name}")
        table.add_row(
            "Received", f"{local_datetime(site, clock.received_at):%Y-%m-%d %H:%M} {zone}"
        )
        reading = read_clock(
            site,
            state.status,
            due_date=clock.due_date,
            due_at=clock.due_at,
            target_due_date=clock.target_due_date,
            closed_at=state.closed_at,
            now=datetime.now(UTC),
            breached_flag=state.breached,
        )
        working = reading.standing == Standing.OPEN
        if clock.target_due_date:
            left = business_days_between(site, today, clock.target_due_date)
            target = f" ({left} business days left)" if working else ""
            table.add_row("Site target", f"{clock.target_due_date}{target}")
        _clock_rows(table, reading, clock.original_due_date if clock.extended else None)
        flags = [
            n
            for n, on in (
                ("at risk", state.at_risk and working),
                ("legal risk", state.legal_risk and working),
                ("BREACHED", reading.breached),
            )
            if on
        ]
        table.add_row("Flags", ", ".join(flags) or "none")
        table.add_row("Delivery", sub.delivery_method.value)
        table.add_row(
            "Fee", f"{format_usd(state.fee.total_cents)} (paid {format_usd(state.paid_cents)})"
        )
        table.add_row("Verified", "yes" if state.verified else "no")
        if state.review is not None:
            table.add_row("Denial review", _review_line(state.review))
        for item in state.deficiencies:
            table.add_row("Deficiency", f"{item.message} [dim]({item.code})[/]")
        console.print(table)

    run(go())


def _review_line(review: DenialReview) -> str:
    """Where the review of a reviewable denial stands (164.524(a)(4))."""
    if review.decision is not None:
        return f"decided: {review.decision.value}"
    if review.requested_at is None:
        return "may be requested by the patient"
    due = review.due_at.date().isoformat() if review.due_at else "?"
    who = f"reviewer assigned, decision due {due}" if review.reviewer else f"asked; due {due}"
    return f"{who}{' (OVERDUE)' if review.overdue else ''}"


def _clock_rows(table: Table, reading: ClockReading, extended_from: date | None) -> None:
    """The legal clock as staff should read it: days left only on work still to do; parked
    work says why its clock is met; closed work says when it closed, in time or how late."""
    from domain.standing import Standing

    extended = f", extended from {extended_from}" if extended_from else ""
    if reading.standing == Standing.OPEN:
        table.add_row("Legal due", f"{reading.due_date} ({reading.summary()}{extended})")
        return
    table.add_row("Legal due", f"{reading.due_date}{f' ({extended[2:]})' if extended else ''}")
    if reading.standing == Standing.PARKED:
        table.add_row("Clock", f"met: {reading.parked_reason} (no days left)")
        return
    label = "Completed" if reading.status == Status.COMPLETED else "Closed"
    when = f"{reading.closed_on}" if reading.closed_on else "—"
    how = reading.late_phrase or f"{reading.status.value.replace('_', ' ')} in time"
    table.add_row(label, f"{when} ({how})" if reading.closed_on else how)


def _print_case(state: CaseState) -> None:
    from domain.sites import site_profile
    from domain.standing import Standing, read_clock

    start, clock = state.start, state.clock
    table = Table(show_header=False, title=f"{start.tracking_number}  ({start.request_id})")
    table.add_row("Stage", f"[bold]{state.status.value}[/]")
    table.add_row("Kind / team", f"{start.kind.value} / {start.team}")
    table.add_row("Site", site_profile(start.site).display_name)
    reading = read_clock(
        start.site,
        state.status,
        due_date=clock.due_date,
        due_at=clock.due_at,
        target_due_date=clock.target_due_date,
        closed_at=state.closed_at,
        now=datetime.now(UTC),
        breached_flag=state.breached,
    )
    _clock_rows(table, reading, clock.original_due_date if clock.extended else None)
    working = reading.standing == Standing.OPEN
    flags = [
        n
        for n, on in (("legal risk", state.legal_risk and working), ("BREACHED", reading.breached))
        if on
    ]
    table.add_row("Flags", ", ".join(flags) or "none")
    for key, value in state.outcome.model_dump(mode="json").items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)


@app.command("list")
def list_requests(
    site: Annotated[Site | None, typer.Option(help="Only this site.")] = None,
    stage: Annotated[Status | None, typer.Option("--status", help="Only this stage.")] = None,
    kind: Annotated[RequestKind | None, typer.Option(help="Only this kind.")] = None,
    include_closed: Annotated[
        bool, typer.Option(help="Include completed/denied/cancelled.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Open requests, most urgent legal due date first."""
    from store import requests
    from store.db import session_scope

    quiet_logging()
    with session_scope(db_url()) as session:
        rows = requests.listing(
            session,
            site=site.value if site else None,
            status=stage.value if stage else None,
            kind=kind.value if kind else None,
            include_closed=include_closed,
            limit=limit,
        )
    table = Table(title=f"{len(rows)} request(s)")
    for column in ("tracking", "kind", "site", "stage", "legal due", "flags", "assignee"):
        table.add_column(column, no_wrap=column in ("tracking", "stage", "legal due"))
    for row in rows:
        flags = " ".join(
            f
            for f, on in (
                ("risk", row.at_risk),
                ("legal", row.legal_risk),
                ("[red]BREACH[/]", row.breached),
            )
            if on
        )
        table.add_row(
            row.tracking_number,
            row.kind,
            row.site,
            row.status,
            str(row.due_date),
            flags,
            row.assignee or "",
        )
    console.print(table)
