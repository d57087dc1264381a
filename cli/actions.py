"""The staff actions on an access request (`roi verify` ... `roi note`), each sent to the
request's workflow as a Temporal Update, as the --actor account."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from cli.app import app
from cli.common import Actor, Ref, act, build, print_issues
from domain import actions
from domain.authorization import AuthorityDocument, Authorization
from domain.denial import DenialBasis, ReviewDecision
from domain.errors import FieldIssue
from domain.types import DeliveryMethod


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
    act(
        reference,
        build(
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
    act(
        reference,
        build(actions.ConfirmAuthority, actor=actor, authority_document=document, note=note),
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
    act(reference, build(actions.MarkDeficient, actor=actor, deficiencies=issues))


@app.command("correct-authorization")
def correct_authorization(
    reference: Ref,
    actor: Actor,
    file: Annotated[Path, typer.Argument(help="JSON file with the corrected authorization.")],
) -> None:
    """Record a corrected authorization; it is validated again."""
    from pydantic import ValidationError

    from domain.request import issues_from_validation_error

    try:
        data = json.loads(file.read_text())
        authorization = Authorization.model_validate(data)
    except (OSError, ValueError) as error:
        issues = (
            issues_from_validation_error(error)
            if isinstance(error, ValidationError)
            else [FieldIssue(field="file", code="unreadable", message="Not a readable JSON file.")]
        )
        print_issues("Invalid authorization", issues)
        raise typer.Exit(1) from None
    act(reference, actions.CorrectAuthorization(actor=actor, authorization=authorization))


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
        print_issues(
            "Invalid input",
            [FieldIssue(field="amount", code="not_money", message="Give an amount like 45.00.")],
        )
        raise typer.Exit(1) from None
    act(
        reference,
        build(actions.RecordPayment, actor=actor, amount_cents=cents, reference=payment_reference),
    )


@app.command()
def delivery(
    reference: Ref,
    actor: Actor,
    method: Annotated[DeliveryMethod, typer.Argument(help="New delivery method.")],
) -> None:
    """Change how the records will be sent (the fee is quoted again)."""
    act(reference, build(actions.ChooseDelivery, actor=actor, method=method))


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
    act(
        reference,
        build(
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
    act(reference, build(actions.RequestDenialReview, actor=actor, note=note))


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
    act(
        reference,
        build(
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
    act(
        reference,
        build(actions.DecideReview, actor=actor, decision=decision, explanation=explanation),
    )


@app.command()
def cancel(
    reference: Ref,
    actor: Actor,
    reason: Annotated[str, typer.Option(help="Why (e.g. the requester withdrew it).")],
) -> None:
    """Cancel on the requester's withdrawal."""
    act(reference, build(actions.Cancel, actor=actor, reason=reason))


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
        print_issues(
            "Invalid input",
            [FieldIssue(field="new_due", code="not_a_date", message="Use the form YYYY-MM-DD.")],
        )
        raise typer.Exit(1) from None
    act(reference, build(actions.Extend, actor=actor, reason=reason, new_due_date=new_date))


@app.command()
def complete(
    reference: Ref, actor: Actor, note: Annotated[str | None, typer.Option()] = None
) -> None:
    """Release the records by the chosen method and close the request."""
    act(reference, build(actions.Complete, actor=actor, note=note))


@app.command()
def note(reference: Ref, actor: Actor, text: Annotated[str, typer.Argument()]) -> None:
    """Add a note to the request's timeline."""
    act(reference, build(actions.AddNote, actor=actor, text=text))
