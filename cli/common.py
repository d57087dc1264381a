"""What every `roi` command shares: the app, the consoles, the --actor/reference options and the
small helpers. Heavy modules (Temporal, SQLAlchemy, services) are imported only when a command
runs, so `roi --help` stays fast."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from domain.errors import FieldIssue

if TYPE_CHECKING:
    from temporalio.client import Client

    from app.accounts import Account
    from app.cli_actor import ActorRefused

console = Console()
err = Console(stderr=True)

Actor = Annotated[
    str,
    typer.Option(
        "--actor",
        envvar="ROI_ACTOR",
        help="Your staff account's username: an active account whose role allows the action.",
    ),
]
Ref = Annotated[str, typer.Argument(help="Tracking number (ROI-XXXXX-XXXXX) or request id.")]


def db_url() -> str:
    from config.settings import get_settings
    from store.postgres import resolve_database_url

    settings = get_settings()
    return resolve_database_url(settings.database_url, settings.data_dir)


async def temporal_client() -> Client:
    from config.settings import get_settings
    from services.temporal import connect

    settings = get_settings()
    return await connect(settings.temporal_address, settings.temporal_namespace)


def print_issues(title: str, issues: list[FieldIssue]) -> None:
    table = Table(title=title, title_style="bold red")
    table.add_column("field")
    table.add_column("problem")
    table.add_column("code", style="dim")
    for item in issues:
        table.add_row(item.field, item.message, item.code)
    err.print(table)


def quiet_logging() -> None:
    from config.logging import configure_logging

    configure_logging("WARNING", "console")


def run(coro: Any) -> Any:
    quiet_logging()
    return asyncio.run(coro)


def refused(refusal: ActorRefused) -> NoReturn:
    err.print(f"[red]Refused:[/] {refusal.message}")
    raise typer.Exit(1)


def staff_account(database_url: str, actor: str) -> Account:
    """The active account --actor names (else exit 1, before anything is sent)."""
    from app.cli_actor import ActorRefused, acting_account

    try:
        return acting_account(database_url, actor)
    except ActorRefused as refusal:
        refused(refusal)


def act(reference: str, action: Any, update: str | None = None) -> None:
    """Send a staff action as the --actor account, once it may act on this request."""
    from app.cli_actor import ActorRefused, authorize_on_request
    from app.roles import Can
    from services import staff

    async def go() -> None:
        database_url = db_url()
        account = staff_account(database_url, action.actor)
        try:
            request_id = staff.resolve_request_id(database_url, reference)
        except staff.RequestNotFound as missing:
            err.print(f"[red]{missing}[/]")
            raise typer.Exit(2) from None
        try:
            authorize_on_request(database_url, account, request_id, Can.ACT)
        except ActorRefused as refusal:
            refused(refusal)
        # the workflow and the audit trail record the account, never what was typed
        action_as = action.model_copy(update={"actor": account.id})
        client = await temporal_client()
        try:
            result = await staff.perform(client, request_id, action_as, update=update)
        except staff.ActionRefused as refusal:
            print_issues(f"Refused: {refusal.message}", refusal.issues)
            raise typer.Exit(1) from None
        console.print(f"[green]{result.message}[/] Stage: [bold]{result.status}[/]")

    run(go())


def build(model: type[Any], **fields: Any) -> Any:
    from pydantic import ValidationError

    from domain.request import issues_from_validation_error

    try:
        return model(**fields)
    except ValidationError as error:
        print_issues("Invalid input", issues_from_validation_error(error))
        raise typer.Exit(1) from None
