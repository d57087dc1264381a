"""`roi batch …` and `roi release …`: run or preview a site's batch, revoke links, record a
sensitive-information review. Registered on the main `roi` app in starter.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from temporalio.client import Client, WorkflowUpdateFailedError

from app.cli_actor import ActorRefused, acting_account, authorize_on_request
from app.roles import Can
from config.settings import get_settings
from domain.actions import ConfirmFormat
from domain.batch import BATCH_METHODS, BatchResult
from domain.ids import workflow_id_for
from domain.release_safety import QualityCheck, SensitiveReview
from domain.types import Site
from services import batch as batch_service
from services import links
from services.schedule import start_batch_now
from services.staff import UpdateMethod
from services.temporal import connect
from store import batch as batch_rows
from store.db import session_scope
from store.postgres import resolve_database_url
from workflows.record_request import RecordRequestWorkflow

batch_app = typer.Typer(
    help="The daily mail, CD and FedEx batch of each site.", no_args_is_help=True
)
release_app = typer.Typer(
    help="Release safeguards: links and sensitive reviews.", no_args_is_help=True
)
console = Console()

ACTOR_HELP = "Your staff account's username: an active account whose role allows the action."
SiteOpt = Annotated[
    list[Site] | None, typer.Option("--site", help="A site (repeat for several); default: all.")
]


def _db() -> str:
    settings = get_settings()
    return resolve_database_url(settings.database_url, settings.data_dir)


async def _client() -> Client:
    settings = get_settings()
    return await connect(settings.temporal_address, settings.temporal_namespace)


@batch_app.command()
def preview(site: SiteOpt = None) -> None:
    """What the next run of each site would send (references only)."""
    settings = get_settings()
    sites = site or list(Site)
    with session_scope(_db()) as session:
        previews = batch_service.preview(session, sites, datetime.now(UTC), settings.batch_time)
    for found in previews:
        table = Table(title=f"{found.site.value}: next run {found.next_run:%a %b %d %H:%M %Z}")
        table.add_column("tracking number")
        table.add_column("method")
        table.add_column("queued at (UTC)")
        for item in found.items:
            table.add_row(item.tracking_number, item.method, f"{item.queued_at:%Y-%m-%d %H:%M}")
        if not found.items:
            table.add_row("—", "nothing queued", "")
        console.print(table)


@batch_app.command()
def run(
    site: SiteOpt = None,
    wait: Annotated[bool, typer.Option(help="Show progress until the run ends.")] = True,
) -> None:
    """Run a site's batch now (staff-triggered; any day), with progress bars."""
    settings = get_settings()
    database_url = _db()

    async def go() -> list[BatchResult]:
        client = await _client()
        handles = [
            await start_batch_now(client, settings.task_queue, s) for s in site or list(Site)
        ]
        if not wait:
            for handle in handles:
                console.print(f"started {handle.id}")
            return []
        results: list[BatchResult] = []
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks: dict[str, TaskID] = {}
            pending = {h.id: h for h in handles}
            waiters = {h.id: asyncio.ensure_future(h.result()) for h in handles}
            while pending:
                await asyncio.sleep(0.5)
                _show(database_url, list(waiters), progress, tasks)
                for batch_id in [b for b in pending if waiters[b].done()]:
                    results.append(waiters[batch_id].result())
                    del pending[batch_id]
            _show(database_url, list(waiters), progress, tasks)
        return results

    results = asyncio.run(go())
    if results:
        table = Table(title="Batch runs")
        for column in ("site", "batch", "sent", "held", "announced again", "skipped"):
            table.add_column(column)
        for r in results:
            table.add_row(
                r.site, r.batch_id, str(r.sent), str(r.held), str(r.announced_again), str(r.skipped)
            )
        console.print(table)


def _show(
    database_url: str, batch_ids: list[str], progress: Progress, tasks: dict[str, TaskID]
) -> None:
    """Move each run's bars to what its build activities last recorded."""
    with session_scope(database_url) as session:
        for run_row in batch_rows.runs(session, batch_ids):
            counts = run_row.counts or {}
            for method in BATCH_METHODS:
                total = counts.get(f"{method.value}_total")
                if not total:
                    continue
                key = f"{run_row.batch_id}:{method.value}"
                if key not in tasks:
                    tasks[key] = progress.add_task(f"{run_row.site} {method.value}", total=total)
                done = counts.get(f"{method.value}_done", 0)
                if run_row.status != "running":
                    done = max(
                        done,
                        counts.get(f"{method.value}_sent", 0)
                        + counts.get(f"{method.value}_held", 0),
                    )
                progress.update(tasks[key], completed=done, total=total)


def _as_staff(request_id: str, actor: str) -> str:
    """The id of the active account --actor names, if it may act on this request (as on the
    web: role, team, site); else exit 1 before anything is changed or sent."""
    database_url = _db()
    try:
        account = acting_account(database_url, actor)
        authorize_on_request(database_url, account, request_id, Can.ACT)
    except ActorRefused as refused:
        console.print(f"[red]Refused:[/red] {refused.message}")
        raise typer.Exit(1) from None
    return account.id


@release_app.command("revoke-links")
def revoke_links(
    request_id: Annotated[str, typer.Argument(help="Request id.")],
    actor: Annotated[str, typer.Option("--actor", envvar="ROI_ACTOR", help=ACTOR_HELP)],
) -> None:
    """Withdraw every download link of a request (later clicks get a 'no longer valid' page)."""
    who = _as_staff(request_id, actor)
    with session_scope(_db()) as session:
        count = links.revoke(session, request_id=request_id, actor=who, at=datetime.now(UTC))
    console.print(f"{count} link(s) revoked.")


@release_app.command("confirm-quality")
def confirm_quality(
    request_id: Annotated[str, typer.Argument(help="Request id.")],
    actor: Annotated[str, typer.Option("--actor", envvar="ROI_ACTOR", help=ACTOR_HELP)],
    patient: Annotated[bool, typer.Option(help="Right patient on every page.")] = False,
    recipient: Annotated[bool, typer.Option(help="Right recipient and address.")] = False,
    scope: Annotated[bool, typer.Option(help="Only what was asked for and authorized.")] = False,
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """As the second specialist, confirm a held packet so it can leave."""
    check = QualityCheck(
        actor=_as_staff(request_id, actor),
        right_patient_on_every_page=patient,
        right_recipient=recipient,
        in_scope=scope,
        note=note,
    )
    _update(request_id, RecordRequestWorkflow.confirm_quality, check)


def _update(request_id: str, update: UpdateMethod, payload: object) -> None:
    async def go() -> object:
        client = await _client()
        return await client.get_workflow_handle(workflow_id_for(request_id)).execute_update(
            update, payload
        )

    try:
        result = asyncio.run(go())
    except WorkflowUpdateFailedError as error:
        details = getattr(error.cause, "details", ()) or ()
        console.print(f"[red]Refused:[/red] {getattr(error.cause, 'message', error)}")
        for detail in details:
            if isinstance(detail, dict):
                console.print(f"  {detail.get('field')}: {detail.get('message')}")
        raise typer.Exit(1) from error
    message = result.get("message") if isinstance(result, dict) else getattr(result, "message", "")
    console.print(message or "Done.")


@release_app.command("format-produced")
def format_produced(
    request_id: Annotated[str, typer.Argument(help="Request id.")],
    actor: Annotated[str, typer.Option("--actor", envvar="ROI_ACTOR", help=ACTOR_HELP)],
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Record that you produced the copy in the other format agreed with the patient; the
    release that waited for it goes ahead."""
    who = _as_staff(request_id, actor)
    _update(request_id, RecordRequestWorkflow.confirm_format, ConfirmFormat(actor=who, note=note))


@release_app.command("review-sensitive")
def review_sensitive(
    request_id: Annotated[str, typer.Argument(help="Request id.")],
    actor: Annotated[str, typer.Option("--actor", envvar="ROI_ACTOR", help=ACTOR_HELP)],
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Record that you reviewed the sensitive information a release includes."""
    who = _as_staff(request_id, actor)
    _update(
        request_id, RecordRequestWorkflow.review_sensitive, SensitiveReview(actor=who, note=note)
    )
