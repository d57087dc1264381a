"""Actions on the other request kinds: amendments, proxy access, billing questions, HIMS
notifications and accountings of disclosures."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.app import app
from cli.common import Actor, Ref, act, build, print_issues
from domain import actions
from domain.errors import FieldIssue
from domain.kinds.amendment import AmendmentDenialBasis, PersonToNotify


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
    act(
        reference,
        build(actions.AcceptAmendment, actor=actor, amendment_text=text, known_holders=holders),
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
    act(
        reference,
        build(actions.DenyAmendment, actor=actor, basis=basis, explanation=explanation),
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
        print_issues(
            "Invalid input",
            [FieldIssue(field="kind", code="unknown", message="Use disagreement or rebuttal.")],
        )
        raise typer.Exit(1)
    act(reference, build(actions.FileStatement, actor=actor, text=text), f"file_{kind}")


@app.command("proxy-decide")
def proxy_decide(
    reference: Ref,
    actor: Actor,
    approve: Annotated[bool, typer.Option("--approve/--deny")],
    documents_verified: Annotated[bool, typer.Option(help="Authority documents checked.")] = False,
    reason: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Grant proxy access (documents checked) or deny it with a reason."""
    act(
        reference,
        build(
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
    act(reference, build(actions.Cancel, actor=actor, reason=reason), "revoke")


@app.command("billing-answer")
def billing_answer(reference: Ref, actor: Actor, text: Annotated[str, typer.Option()]) -> None:
    """Send billing's answer and close the request."""
    act(reference, build(actions.Answer, actor=actor, text=text), "answer")


@app.command("hims-confirm")
def hims_confirm(
    reference: Ref,
    actor: Actor,
    complete_copy: Annotated[bool, typer.Option("--complete-copy/--incomplete-copy")] = True,
) -> None:
    """Data Integrity: confirm a deceased or adoption notification and update the record."""
    act(
        reference,
        build(actions.ConfirmUpdate, actor=actor, complete_copy=complete_copy),
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
    act(
        reference,
        build(actions.FeeResponse, actor=actor, accept=accept, payment_reference=payment_reference),
        "respond_to_fee",
    )


@app.command("accounting-send")
def accounting_send(reference: Ref, actor: Actor) -> None:
    """Compile the accounting of disclosures and send it."""
    act(reference, build(actions.Complete, actor=actor), "complete")
