"""What the chaos run checks afterwards, counted where a person would notice: at the SMTP
server and the carrier for what left the hospital, in the read model for disclosures, the
audit trail and the clocks."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus

from domain.ids import workflow_id_for
from domain.sla import start_clock
from domain.types import RequestKind, Site
from fakes.carrier import reference_of
from store.db import session_scope
from store.models import Disclosure, OutboundItem, RecordRequest, RequestEvent
from tests.chaos.infra import CarrierFake, SmtpFake
from tests.chaos.workload import FEDEX_CENTS, Planned

CLOCK_FIELDS = ("received_at", "target_due_at", "due_at", "original_due_date", "due_date")

#: the audit trail each path must show, in order, each event exactly once
EXPECTED_EVENTS = {
    "email": ["request.received", "request.triaged", "identity.verified", "release.approved",
              "request.completed"],
    "mail": ["request.received", "authorization.checked", "fee.quoted", "request.triaged",
             "identity.verified", "payment.recorded", "release.approved", "request.completed"],
    "fedex": ["request.received", "request.triaged", "identity.verified", "payment.recorded",
              "release.approved", "request.completed"],
    "cd": ["request.received", "request.triaged", "identity.verified", "release.approved",
           "request.completed"],
}  # fmt: skip


@dataclass
class Check:
    name: str
    ok: bool
    result: str


def clocks(database_url: str, request_ids: list[str]) -> dict[str, tuple]:
    """The SLA clock columns of each request in the read model."""
    columns = [getattr(RecordRequest, f) for f in CLOCK_FIELDS]
    with session_scope(database_url) as session:
        rows = session.execute(
            select(RecordRequest.id, *columns).where(RecordRequest.id.in_(request_ids))  # type: ignore[attr-defined]
        ).all()
    return {row[0]: tuple(row[1:]) for row in rows}


def _bad(items: list[str], total: int) -> str:
    return f"{len(items)} of {total} wrong, e.g. {items[:3]}"


async def end_states(client: Client, planned: list[Planned], database_url: str) -> Check:
    """Completed in the read model; the workflow closed as completed (FedEx: still following
    its shipment, which the carrier reports every 6 hours)."""
    with session_scope(database_url) as session:
        status = dict(session.execute(select(RecordRequest.id, RecordRequest.status)).all())
    wrong = []
    for item in planned:
        if status.get(item.request_id) != "completed":
            wrong.append(f"{item.path}:{status.get(item.request_id)}")
            continue
        handle = client.get_workflow_handle(workflow_id_for(item.request_id))
        described = await handle.describe()
        wanted = (
            WorkflowExecutionStatus.RUNNING
            if item.path == "fedex"
            else WorkflowExecutionStatus.COMPLETED
        )
        if described.status != wanted:
            wrong.append(f"{item.path}:workflow {described.status.name}")
        elif item.path != "fedex" and (await handle.result())["status"] != "completed":
            wrong.append(f"{item.path}:outcome")
    return Check(
        "every request reached its end state",
        not wrong,
        _bad(wrong, len(planned)) if wrong else f"{len(planned)} completed",
    )


def emails(smtp: SmtpFake, planned: list[Planned]) -> Check:
    """Exactly one email per email-link request (the link) and per CD (its password), counted
    at the SMTP server; none for mail or FedEx."""
    received = Counter(m["To"] for m in smtp.inbox.messages)
    wanted = {i.email: 1 if i.path in ("email", "cd") else 0 for i in planned}
    wrong = [
        f"{i.path}:{received.get(i.email, 0)}"
        for i in planned
        if received.get(i.email, 0) != wanted[i.email]
    ]
    strangers = sum(n for to, n in received.items() if to not in wanted)
    total = sum(wanted.values())
    ok = not wrong and not strangers and len(smtp.inbox.messages) == total
    return Check(
        "exactly one email per email-link / CD request (at the SMTP server)",
        ok,
        f"{len(smtp.inbox.messages)} received for {total} expected"
        + (f"; {_bad(wrong, len(planned))}" if wrong else "")
        + (f"; {strangers} to unknown addresses" if strangers else ""),
    )


def shipments(carrier: CarrierFake, planned: list[Planned]) -> Check:
    """Exactly one live FedEx shipment (so one charge to the hospital's account) per FedEx
    request, counted at the carrier; none for anything else. A shipment created by an attempt
    whose answer was lost (never labelled, never tendered) must have been cancelled."""
    stored = list(carrier.carrier.shipments.values())
    refs = Counter(reference_of(s) for s in stored if not s.get("cancelled"))
    cancelled = sum(1 for s in stored if s.get("cancelled"))
    wrong = []
    for item in planned:
        want = 1 if item.path == "fedex" else 0
        got = refs.get(f"{item.request_id}-deliver", 0)
        if got != want:
            wrong.append(f"{item.path}:{got}")
    total = sum(1 for i in planned if i.path == "fedex")
    ok = not wrong and sum(refs.values()) == total
    return Check(
        "exactly one shipment per FedEx request (at the carrier)",
        ok,
        f"{sum(refs.values())} live shipments for {total} expected "
        f"({carrier.carrier.ship_calls} create calls, {cancelled} unlabelled ones cancelled)"
        + (f"; {_bad(wrong, len(planned))}" if wrong else ""),
    )


def payments(database_url: str, planned: list[Planned]) -> Check:
    """What was quoted recorded exactly once before the release: the $45 per FedEx request, the
    site's schedule for each law firm's copies."""
    paying = [i for i in planned if i.path in ("fedex", "mail")]
    with session_scope(database_url) as session:
        rows = session.execute(
            select(RecordRequest.id, RecordRequest.fee_cents, RecordRequest.paid_cents)
        ).all()
        events = session.execute(
            select(RequestEvent.request_id).where(RequestEvent.action == "payment.recorded")
        ).all()
    fees = {rid: (fee, paid) for rid, fee, paid in rows}
    recorded = Counter(r[0] for r in events)

    def wrong_payment(item: Planned) -> bool:
        fee, paid = fees.get(item.request_id, (0, 0))
        expected = FEDEX_CENTS if item.path == "fedex" else fee
        return not fee or paid != expected or recorded.get(item.request_id, 0) != 1

    wrong = [
        f"{i.path} quoted {fees.get(i.request_id, (0, 0))[0]} paid "
        f"{fees.get(i.request_id, (0, 0))[1]} x{recorded.get(i.request_id, 0)}"
        for i in paying
        if wrong_payment(i)
    ]
    return Check(
        "one payment of the quote per FedEx and third-party request",
        not wrong,
        _bad(wrong, len(paying)) if wrong else f"{len(paying)} paid once",
    )


def disclosures(database_url: str, planned: list[Planned]) -> Check:
    with session_scope(database_url) as session:
        rows = Counter(r[0] for r in session.execute(select(Disclosure.request_id)).all())
    wrong = [
        f"{i.path}:{rows.get(i.request_id, 0)}" for i in planned if rows.get(i.request_id, 0) != 1
    ]
    return Check(
        "exactly one disclosure row per release",
        not wrong and sum(rows.values()) == len(planned),
        _bad(wrong, len(planned)) if wrong else f"{sum(rows.values())} rows for {len(planned)}",
    )


def letters(database_url: str, planned: list[Planned]) -> Check:
    """One acknowledgement, one completion letter and one delivery record per request."""
    with session_scope(database_url) as session:
        rows = session.execute(select(OutboundItem.request_id, OutboundItem.kind)).all()
    per = Counter((r[0], r[1]) for r in rows)
    wrong = []
    for item in planned:
        for kind in ("acknowledgement", "completion", f"records_{item.data['delivery_method']}"):
            if per.get((item.request_id, kind), 0) != 1:
                wrong.append(f"{item.path}:{kind}x{per.get((item.request_id, kind), 0)}")
    return Check(
        "one acknowledgement, completion letter and delivery record each",
        not wrong,
        _bad(wrong, len(planned)) if wrong else f"{len(planned) * 3} items, none twice",
    )


def audit(database_url: str, planned: list[Planned]) -> Check:
    """The audit trail has every expected event once, in order, chained stage to stage, and as
    many events as the workflow's projection counter says it wrote (no gap). Order is the
    timeline's (event time, then insertion): a projection retried through an outage can be
    inserted after a later one, but keeps the time it happened."""
    with session_scope(database_url) as session:
        events = session.execute(
            select(
                RequestEvent.request_id,
                RequestEvent.action,
                RequestEvent.from_status,
                RequestEvent.to_status,
            ).order_by(RequestEvent.at, RequestEvent.id)  # the request page's timeline order
        ).all()
        versions = dict(
            session.execute(select(RecordRequest.id, RecordRequest.state_version)).all()
        )
    trail: dict[str, list] = defaultdict(list)
    for rid, action, before, after in events:
        trail[rid].append((action, before, after))
    wrong = []
    for item in planned:
        got = trail[item.request_id]
        actions_seen = [a for a, _, _ in got if not a.startswith(("sla.", "note."))]
        if actions_seen != EXPECTED_EVENTS[item.path]:
            wrong.append(f"{item.path}:{actions_seen}")
        elif len(got) != versions.get(item.request_id):
            wrong.append(f"{item.path}:{len(got)} events, version {versions.get(item.request_id)}")
        elif any(got[k][1] != got[k - 1][2] for k in range(1, len(got))):
            wrong.append(f"{item.path}:stage chain broken")
    return Check(
        "audit trail complete: expected events once each, in order, no gaps",
        not wrong,
        _bad(wrong, len(planned)) if wrong else f"{len(events)} events, all in sequence",
    )


def sla_unchanged(database_url: str, planned: list[Planned], at_intake: dict[str, tuple]) -> Check:
    """The clocks are what they were right after intake, and what the policy gives for the
    receipt time the requester's submission carried."""
    now = clocks(database_url, [i.request_id for i in planned])
    wrong = []
    for item in planned:
        expected = start_clock(
            RequestKind(item.data["kind"]),
            Site(item.data["site"]),
            datetime.fromisoformat(item.data["received_at"]),
        )
        policy = tuple(getattr(expected, f) for f in CLOCK_FIELDS)
        if now.get(item.request_id) != at_intake.get(item.request_id):
            wrong.append(f"{item.path}:moved")
        elif now[item.request_id] != policy:
            wrong.append(f"{item.path}:not the policy's")
    return Check(
        "SLA clocks unchanged (received, 14-day target, 30-day due)",
        not wrong,
        _bad(wrong, len(planned))
        if wrong
        else f"{len(planned)} x {len(CLOCK_FIELDS)} fields equal",
    )
