"""`roi`: the command line for ROI staff and operators.

Submit a request from a JSON file, see a request's stage and clocks, list open requests, and
perform staff actions (sent to the request's workflow as Temporal Updates). Configuration comes
from the ROI_* environment (see README); with nothing set it talks to the local demo.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlmodel import col
from temporalio.client import Client

from activities.channels.batch_cli import batch_app, release_app
from app.accounts import Account
from app.cli import users_app
from app.cli_actor import ActorRefused, acting_account, authorize, authorize_on_request
from app.roles import Can
from domain import actions
from domain.accounting_suspension import SuspensionRequest
from domain.authorization import AuthorityDocument, Authorization
from domain.calendar import business_days_between, local_date, local_datetime
from domain.denial import DenialBasis, DenialReview, ReviewDecision
from domain.errors import FieldIssue
from domain.fees import format_usd
from domain.kinds.amendment import AmendmentDenialBasis, PersonToNotify
from domain.kinds.case import CaseState
from domain.kinds.common import Team
from domain.request import issues_from_validation_error
from domain.sites import site_profile
from domain.standing import ClockReading, Standing, read_clock
from domain.types import TERMINAL_STATUSES, DeliveryMethod, RequestKind, Site, Status
from runtime.logging import configure_logging
from runtime.postgres import resolve_database_url, resolve_migration_url
from runtime.production import Component, demo_settings_in_use, refuse_demo_settings
from runtime.settings import get_settings
from services import intake, staff
from services.accounting_suspensions import SuspensionRefused, record_suspension
from services.disclosures import (
    StaffDisclosure,
    record_staff_disclosure,
    staff_disclosure_issues,
)
from services.temporal import connect
from store.db import session_scope
from store.migrate import upgrade
from store.models import RecordRequest

app = typer.Typer(
    help="Release-of-information engine: submit, inspect and work records requests.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(batch_app, name="batch")
app.add_typer(release_app, name="release")
app.add_typer(users_app, name="users")
console = Console()
err = Console(stderr=True)


@app.callback()
def _refuse_demo_settings() -> None:
    # Runs before every command: outside ROI_ENV=local/test, demo settings stop it (exit 78).
    settings = get_settings()
    if demo_settings_in_use(settings, Component.CLI):
        configure_logging("WARNING", "console")  # the refusal event goes to stderr
        refuse_demo_settings(settings, Component.CLI)


Actor = Annotated[
    str,
    typer.Option(
        "--actor",
        envvar="ROI_ACTOR",
        help="Your staff account's username: an active account whose role allows the action.",
    ),
]
Ref = Annotated[str, typer.Argument(help="Tracking number (ROI-XXXXX-XXXXX) or request id.")]


def _db() -> str:
    settings = get_settings()
    return resolve_database_url(settings.database_url, settings.data_dir)


async def _client() -> Client:
    settings = get_settings()
    return await connect(settings.temporal_address, settings.temporal_namespace)


def _print_issues(title: str, issues: list[FieldIssue]) -> None:
    table = Table(title=title, title_style="bold red")
    table.add_column("field")
    table.add_column("problem")
    table.add_column("code", style="dim")
    for item in issues:
        table.add_row(item.field, item.message, item.code)
    err.print(table)


def _run(coro: Any) -> Any:
    configure_logging("WARNING", "console")
    return asyncio.run(coro)


def _refused(refused: ActorRefused) -> NoReturn:
    err.print(f"[red]Refused:[/] {refused.message}")
    raise typer.Exit(1)


def _staff_account(database_url: str, actor: str) -> Account:
    """The active account --actor names (else exit 1, before anything is sent)."""
    try:
        return acting_account(database_url, actor)
    except ActorRefused as refused:
        _refused(refused)


def _act(reference: str, action: Any, update: str | None = None) -> None:
    """Send a staff action as the --actor account, once it may act on this request."""

    async def go() -> None:
        database_url = _db()
        account = _staff_account(database_url, action.actor)
        try:
            request_id = staff.resolve_request_id(database_url, reference)
        except staff.RequestNotFound as missing:
            err.print(f"[red]{missing}[/]")
            raise typer.Exit(2) from None
        try:
            authorize_on_request(database_url, account, request_id, Can.ACT)
        except ActorRefused as refused:
            _refused(refused)
        # the workflow and the audit trail record the account, never what was typed
        action_as = action.model_copy(update={"actor": account.id})
        client = await _client()
        try:
            result = await staff.perform(client, request_id, action_as, update=update)
        except staff.ActionRefused as refused:
            _print_issues(f"Refused: {refused.message}", refused.issues)
            raise typer.Exit(1) from None
        console.print(f"[green]{result.message}[/] Stage: [bold]{result.status}[/]")

    _run(go())


def _build(model: type[Any], **fields: Any) -> Any:
    try:
        return model(**fields)
    except ValidationError as error:
        _print_issues("Invalid input", issues_from_validation_error(error))
        raise typer.Exit(1) from None


@app.command()
def submit(
    file: Annotated[Path, typer.Argument(help="JSON file with the request (see examples/).")],
    idempotency_key: Annotated[
        str | None, typer.Option("--key", help="Same key twice = the same request, never two.")
    ] = None,
) -> None:
    """Submit a records request; prints its tracking number, or every field error."""
    try:
        raw = file.read_bytes()
    except OSError:
        err.print("[red]Cannot read that file.[/]")
        raise typer.Exit(2) from None

    async def go() -> tuple[intake.IntakeResult, bool]:
        settings = get_settings()
        database_url = _db()  # the submission is stored even if Temporal is unreachable
        try:
            client: Client | None = await _client()
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

    result, connected = _run(go())
    if not result.accepted:
        _print_issues("The request was stored but not accepted", result.errors)
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

    async def go() -> None:
        database_url = _db()
        try:
            request_id = staff.resolve_request_id(database_url, reference)
        except staff.RequestNotFound as missing:
            err.print(f"[red]{missing}[/]")
            raise typer.Exit(2) from None
        state = await staff.any_state(await _client(), request_id)
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

    _run(go())


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
    for key, value in state.outcome.items():
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
    query = select(RecordRequest).order_by(
        col(RecordRequest.due_at), col(RecordRequest.target_due_at)
    )
    if site:
        query = query.where(col(RecordRequest.site) == site.value)
    if stage:
        query = query.where(col(RecordRequest.status) == stage.value)
    if kind:
        query = query.where(col(RecordRequest.kind) == kind.value)
    if not include_closed and not stage:
        query = query.where(col(RecordRequest.status).not_in([s.value for s in TERMINAL_STATUSES]))
    configure_logging("WARNING", "console")
    with session_scope(_db()) as session:
        rows = session.execute(query.limit(limit)).scalars().all()
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


@app.command()
def verify(
    reference: Ref,
    actor: Actor,
    method: Annotated[actions.IdentityMethod, typer.Option(help="How identity was checked.")],
    authority_confirmed: Annotated[
        bool, typer.Option(help="A representative's legal documents were checked.")
    ] = False,
    authority_document: Annotated[
        AuthorityDocument | None,
        typer.Option(help="The document that proves a representative's authority (164.502(g))."),
    ] = None,
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Record identity (and a representative's authority) as verified."""
    _act(
        reference,
        _build(
            actions.VerifyIdentity,
            actor=actor,
            method=method,
            authority_confirmed=authority_confirmed,
            authority_document=authority_document,
            note=note,
        ),
    )


@app.command("confirm-authority")
def confirm_authority(
    reference: Ref,
    actor: Actor,
    document: Annotated[
        AuthorityDocument,
        typer.Option(help="The document that proves the representative's authority."),
    ],
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Confirm a representative's authority document after verification (164.502(g))."""
    _act(
        reference,
        _build(actions.ConfirmAuthority, actor=actor, authority_document=document, note=note),
    )


@app.command("mark-deficient")
def mark_deficient(
    reference: Ref,
    actor: Actor,
    reason: Annotated[list[str], typer.Option(help="A deficiency, in plain words (repeatable).")],
) -> None:
    """Mark the authorization deficient; the requester is sent a deficiency notice."""
    issues = [
        FieldIssue(field="authorization", code="specialist_finding", message=r) for r in reason
    ]
    _act(reference, _build(actions.MarkDeficient, actor=actor, deficiencies=issues))


@app.command("correct-authorization")
def correct_authorization(
    reference: Ref,
    actor: Actor,
    file: Annotated[Path, typer.Argument(help="JSON file with the corrected authorization.")],
) -> None:
    """Record a corrected authorization; it is validated again."""
    try:
        data = json.loads(file.read_text())
        authorization = Authorization.model_validate(data)
    except (OSError, ValueError) as error:
        issues = (
            issues_from_validation_error(error)
            if isinstance(error, ValidationError)
            else [FieldIssue(field="file", code="unreadable", message="Not a readable JSON file.")]
        )
        _print_issues("Invalid authorization", issues)
        raise typer.Exit(1) from None
    _act(reference, actions.CorrectAuthorization(actor=actor, authorization=authorization))


@app.command()
def pay(
    reference: Ref,
    actor: Actor,
    amount: Annotated[str, typer.Option(help="Amount in US dollars, e.g. 45.00.")],
    payment_reference: Annotated[
        str, typer.Option("--reference", help="Receipt or card reference.")
    ],
) -> None:
    """Record payment of the quoted fee."""
    try:
        cents = int((Decimal(amount) * 100).to_integral_exact())
    except (InvalidOperation, ValueError):
        _print_issues(
            "Invalid input",
            [FieldIssue(field="amount", code="not_money", message="Give an amount like 45.00.")],
        )
        raise typer.Exit(1) from None
    _act(
        reference,
        _build(actions.RecordPayment, actor=actor, amount_cents=cents, reference=payment_reference),
    )


@app.command()
def delivery(
    reference: Ref,
    actor: Actor,
    method: Annotated[DeliveryMethod, typer.Argument(help="New delivery method.")],
) -> None:
    """Change how the records will be sent (the fee is quoted again)."""
    _act(reference, _build(actions.ChooseDelivery, actor=actor, method=method))


@app.command()
def deny(
    reference: Ref,
    actor: Actor,
    basis: Annotated[DenialBasis, typer.Option(help="Ground for denial (45 CFR 164.524(a)).")],
    explanation: Annotated[str, typer.Option(help="Plain-language explanation for the letter.")],
    professional: Annotated[
        str | None,
        typer.Option(help="Licensed professional who made a 164.524(a)(3) determination."),
    ] = None,
) -> None:
    """Deny the request; the denial letter states the basis and the review/complaint rights."""
    _act(
        reference,
        _build(
            actions.Deny,
            actor=actor,
            basis=basis,
            explanation=explanation,
            professional=professional,
        ),
    )


@app.command("review-request")
def review_request(
    reference: Ref, actor: Actor, note: Annotated[str | None, typer.Option()] = None
) -> None:
    """The patient asked for a review of a denial on a reviewable ground (164.524(a)(4))."""
    _act(reference, _build(actions.RequestDenialReview, actor=actor, note=note))


@app.command("review-assign")
def review_assign(
    reference: Ref,
    actor: Actor,
    reviewer: Annotated[str, typer.Option(help="The reviewing licensed professional.")],
    licensed: Annotated[
        bool, typer.Option("--licensed", help="The reviewer is a licensed professional.")
    ] = False,
) -> None:
    """Assign the reviewer: a licensed professional who did not take part in the denial."""
    _act(
        reference,
        _build(
            actions.AssignReviewer, actor=actor, reviewer=reviewer, licensed_professional=licensed
        ),
    )


@app.command("review-decide")
def review_decide(
    reference: Ref,
    actor: Actor,
    decision: Annotated[ReviewDecision, typer.Option(help="uphold or reverse.")],
    explanation: Annotated[str, typer.Option(help="The reviewer's reasons, for the letter.")],
) -> None:
    """Record the reviewer's decision; it is carried out at once (letter; release on reverse)."""
    _act(
        reference,
        _build(actions.DecideReview, actor=actor, decision=decision, explanation=explanation),
    )


@app.command()
def cancel(
    reference: Ref,
    actor: Actor,
    reason: Annotated[str, typer.Option(help="Why (e.g. the requester withdrew it).")],
) -> None:
    """Cancel on the requester's withdrawal."""
    _act(reference, _build(actions.Cancel, actor=actor, reason=reason))


@app.command()
def extend(
    reference: Ref,
    actor: Actor,
    reason: Annotated[str, typer.Option(help="Reason for the delay (told to the requester).")],
    new_due: Annotated[str, typer.Option(help="New due date, YYYY-MM-DD (at most +30 days).")],
) -> None:
    """Take the one allowed extension, before the original due date."""
    try:
        new_date = date.fromisoformat(new_due)
    except ValueError:
        _print_issues(
            "Invalid input",
            [FieldIssue(field="new_due", code="not_a_date", message="Use the form YYYY-MM-DD.")],
        )
        raise typer.Exit(1) from None
    _act(reference, _build(actions.Extend, actor=actor, reason=reason, new_due_date=new_date))


@app.command()
def complete(
    reference: Ref, actor: Actor, note: Annotated[str | None, typer.Option()] = None
) -> None:
    """Release the records by the chosen method and close the request."""
    _act(reference, _build(actions.Complete, actor=actor, note=note))


@app.command()
def note(reference: Ref, actor: Actor, text: Annotated[str, typer.Argument()]) -> None:
    """Add a note to the request's timeline."""
    _act(reference, _build(actions.AddNote, actor=actor, text=text))


@app.command()
def migrate() -> None:
    """Apply database migrations (Alembic) as the tables' owner (ROI_MIGRATION_DATABASE_URL,
    else ROI_DATABASE_URL) and grant the app's role (roi_app) its privileges."""
    configure_logging("WARNING", "console")
    settings = get_settings()
    upgrade(resolve_migration_url(settings.migration_url, settings.data_dir))
    console.print("[green]Database is up to date.[/]")


@app.command()
def reconcile() -> None:
    """Start the workflow of any stored submission that never got one (after a crash)."""

    async def go() -> list[str]:
        return await intake.reconcile(_db(), await _client(), get_settings().task_queue)

    console.print(f"Started {len(_run(go()))} workflow(s).")


# ---- actions on the other request kinds ----------------------------------------------------


@app.command("amend-accept")
def amend_accept(
    reference: Ref,
    actor: Actor,
    text: Annotated[str, typer.Option("--text", help="The amendment as made to the record.")],
    holder: Annotated[
        list[str] | None, typer.Option(help="Another known holder to notify (repeatable).")
    ] = None,
) -> None:
    """Accept an amendment: record it, tell the patient, notify everyone who must know."""
    holders = [PersonToNotify(name=h) for h in holder or []]
    _act(
        reference,
        _build(actions.AcceptAmendment, actor=actor, amendment_text=text, known_holders=holders),
        "accept",
    )


@app.command("amend-deny")
def amend_deny(
    reference: Ref,
    actor: Actor,
    basis: Annotated[AmendmentDenialBasis, typer.Option(help="One of the four 164.526 bases.")],
    explanation: Annotated[str, typer.Option()],
) -> None:
    """Deny an amendment; the letter explains the right to file a statement of disagreement."""
    _act(
        reference,
        _build(actions.DenyAmendment, actor=actor, basis=basis, explanation=explanation),
        "deny",
    )


@app.command("amend-statement")
def amend_statement(
    reference: Ref,
    actor: Actor,
    kind: Annotated[str, typer.Argument(help="disagreement (the patient's) or rebuttal (ours).")],
    text: Annotated[str, typer.Option()],
) -> None:
    """File the patient's statement of disagreement or the hospital's rebuttal."""
    if kind not in ("disagreement", "rebuttal"):
        _print_issues(
            "Invalid input",
            [FieldIssue(field="kind", code="unknown", message="Use disagreement or rebuttal.")],
        )
        raise typer.Exit(1)
    _act(reference, _build(actions.FileStatement, actor=actor, text=text), f"file_{kind}")


@app.command("proxy-decide")
def proxy_decide(
    reference: Ref,
    actor: Actor,
    approve: Annotated[bool, typer.Option("--approve/--deny")],
    documents_verified: Annotated[bool, typer.Option(help="Authority documents checked.")] = False,
    reason: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Grant proxy access (documents checked) or deny it with a reason."""
    _act(
        reference,
        _build(
            actions.ProxyDecision,
            actor=actor,
            approve=approve,
            documents_verified=documents_verified,
            reason=reason,
        ),
        "decide",
    )


@app.command("proxy-revoke")
def proxy_revoke(reference: Ref, actor: Actor, reason: Annotated[str, typer.Option()]) -> None:
    """End proxy access now."""
    _act(reference, _build(actions.Cancel, actor=actor, reason=reason), "revoke")


@app.command("billing-answer")
def billing_answer(reference: Ref, actor: Actor, text: Annotated[str, typer.Option()]) -> None:
    """Send billing's answer and close the request."""
    _act(reference, _build(actions.Answer, actor=actor, text=text), "answer")


@app.command("hims-confirm")
def hims_confirm(
    reference: Ref,
    actor: Actor,
    complete_copy: Annotated[bool, typer.Option("--complete-copy/--incomplete-copy")] = True,
) -> None:
    """Data Integrity: confirm a deceased or adoption notification and update the record."""
    _act(
        reference,
        _build(actions.ConfirmUpdate, actor=actor, complete_copy=complete_copy),
        "confirm",
    )


@app.command("accounting-fee")
def accounting_fee(
    reference: Ref,
    actor: Actor,
    accept: Annotated[bool, typer.Option("--accept/--withdraw")],
    payment_reference: Annotated[str | None, typer.Option("--reference")] = None,
) -> None:
    """Record the patient's answer to a quoted accounting fee."""
    _act(
        reference,
        _build(
            actions.FeeResponse, actor=actor, accept=accept, payment_reference=payment_reference
        ),
        "respond_to_fee",
    )


@app.command("accounting-send")
def accounting_send(reference: Ref, actor: Actor) -> None:
    """Compile the accounting of disclosures and send it."""
    _act(reference, _build(actions.Complete, actor=actor), "complete")


@app.command("disclosure-record")
def disclosure_record(
    actor: Actor,
    file: Annotated[
        Path, typer.Argument(help="JSON: patient, date, recipient, description, purpose, category.")
    ],
) -> None:
    """Record a disclosure made outside the engine (court order, police, public health...)."""
    configure_logging("WARNING", "console")
    database_url = _db()
    account = _staff_account(database_url, actor)
    try:
        authorize(account, Can.ACT, team=Team.ROI)  # the accounting of disclosures is ROI's
    except ActorRefused as refused:
        _refused(refused)
    try:
        item = StaffDisclosure.model_validate_json(file.read_bytes())
    except OSError:
        err.print("[red]Cannot read that file.[/]")
        raise typer.Exit(2) from None
    except ValidationError as error:
        _print_issues("Invalid disclosure", issues_from_validation_error(error))
        raise typer.Exit(1) from None
    problems = staff_disclosure_issues(item, datetime.now(UTC))
    if problems:
        _print_issues("Invalid disclosure", problems)
        raise typer.Exit(1)
    key = record_staff_disclosure(database_url, item, account.id)
    console.print(f"[green]Disclosure recorded[/] ({key}).")


@app.command("accounting-suspend")
def accounting_suspend(
    actor: Actor,
    file: Annotated[
        Path,
        typer.Argument(
            help="JSON: patient, agency_type, agency_name, form (written/oral), received_on, "
            "ends_on, statement; for an oral request official_name and official_identity."
        ),
    ],
) -> None:
    """Record an agency's request to suspend a patient's accounting of the disclosures made to
    it (164.528(a)(2)): written, to the end date it states; oral, 30 days at most."""
    configure_logging("WARNING", "console")
    database_url = _db()
    account = _staff_account(database_url, actor)
    try:
        authorize(account, Can.ACT, team=Team.ROI)  # the accounting of disclosures is ROI's
    except ActorRefused as refused:
        _refused(refused)
    try:
        item = SuspensionRequest.model_validate_json(file.read_bytes())
    except OSError:
        err.print("[red]Cannot read that file.[/]")
        raise typer.Exit(2) from None
    except ValidationError as error:
        _print_issues("Invalid suspension", issues_from_validation_error(error))
        raise typer.Exit(1) from None
    try:
        key = record_suspension(database_url, item, account.id)
    except SuspensionRefused as refused:
        _print_issues("Invalid suspension", refused.issues)
        raise typer.Exit(1) from None
    console.print(
        f"[green]Accounting suspended[/] until {item.ends_on.isoformat()} ({key}); the "
        "agency's disclosures are left out of the patient's accounting until then."
    )


if __name__ == "__main__":
    app()
