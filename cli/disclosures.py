"""Disclosures made outside the engine and agencies' suspensions of a patient's accounting of
disclosures (ROI's, 164.528)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:
    from pydantic import BaseModel

from cli.app import app
from cli.common import (
    Actor,
    console,
    db_url,
    err,
    print_issues,
    quiet_logging,
    refused,
    staff_account,
)

M = TypeVar("M", bound="BaseModel")


def _roi_account_and_file(actor: str, file: Path, model: type[M], what: str) -> tuple[str, str, M]:
    """(database URL, the acting ROI account's id, the file's content as `model`): the accounting
    of disclosures is ROI's; an unreadable file exits 2, an invalid one 1 with field errors."""
    from pydantic import ValidationError

    from app.cli_actor import ActorRefused, authorize
    from app.roles import Can
    from domain.kinds.common import Team
    from domain.request import issues_from_validation_error

    quiet_logging()
    database_url = db_url()
    account = staff_account(database_url, actor)
    try:
        authorize(account, Can.ACT, team=Team.ROI)
    except ActorRefused as refusal:
        refused(refusal)
    try:
        item = model.model_validate_json(file.read_bytes())
    except OSError:
        err.print("[red]Cannot read that file.[/]")
        raise typer.Exit(2) from None
    except ValidationError as error:
        print_issues(f"Invalid {what}", issues_from_validation_error(error))
        raise typer.Exit(1) from None
    return database_url, account.id, item


@app.command("disclosure-record")
def disclosure_record(
    actor: Actor,
    file: Annotated[
        Path, typer.Argument(help="JSON: patient, date, recipient, description, purpose, category.")
    ],
) -> None:
    """Record a disclosure made outside the engine (court order, police, public health...)."""
    from services.disclosures import (
        StaffDisclosure,
        record_staff_disclosure,
        staff_disclosure_issues,
    )

    database_url, account_id, item = _roi_account_and_file(
        actor, file, StaffDisclosure, "disclosure"
    )
    problems = staff_disclosure_issues(item, datetime.now(UTC))
    if problems:
        print_issues("Invalid disclosure", problems)
        raise typer.Exit(1)
    key = record_staff_disclosure(database_url, item, account_id)
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
    from domain.accounting_suspension import SuspensionRequest
    from services.accounting_suspensions import SuspensionRefused, record_suspension

    database_url, account_id, item = _roi_account_and_file(
        actor, file, SuspensionRequest, "suspension"
    )
    try:
        key = record_suspension(database_url, item, account_id)
    except SuspensionRefused as refusal:
        print_issues("Invalid suspension", refusal.issues)
        raise typer.Exit(1) from None
    console.print(
        f"[green]Accounting suspended[/] until {item.ends_on.isoformat()} ({key}); the "
        "agency's disclosures are left out of the patient's accounting until then."
    )
