"""Rule hole D (issue 15): the sender of outside records is told where to send them, by the
channel they used, once; stored first, then sent (a send that cannot happen yet is retried)."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from activities.channels.mailer import Mailer
from activities.outbox import Outbox
from activities.outside_records import OutsideRecordsActivities
from domain.kinds.outside_records import (
    OutsideRecordsNotice,
    OutsideRecordsReply,
    reply_key,
    reply_workflow_id,
)
from services import intake
from store.db import session_scope
from store.models import IntakeSubmission, OutboundItem
from tests.fulfillment.helpers import pages_text
from tests.harness import Harness


def outside(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "outside_records",
        "site": "arizona",
        "channel": "email",
        "received_at": "2026-11-20T16:00:00+00:00",
        "sender_name": "Valley Clinic",
        "sender_email": "records@valleyclinic.example",
    }
    data.update(overrides)
    return data


def replies(h: Harness, submission_id: str) -> list[OutboundItem]:
    with session_scope(h.database_url) as session:
        rows = session.execute(
            select(OutboundItem).where(OutboundItem.request_id == submission_id)  # type: ignore[arg-type]
        )
        return list(rows.scalars().all())


async def sent(h: Harness, submission_id: str) -> str:
    handle = h.client.get_workflow_handle(reply_workflow_id(submission_id))
    return str(await handle.result())


async def test_sender_gets_the_redirect_by_email_once(harness: Harness) -> None:
    first = await harness.submit(outside(), key="outside-email-1")
    assert first.redirected and first.request_id is None and harness.started == []
    where = await sent(harness, first.submission_id)
    [row] = replies(harness, first.submission_id)  # recorded on the submission: what, when
    assert (row.item_key, row.channel, row.kind) == (
        reply_key(first.submission_id),
        "email",
        "outside_records_redirect",
    )
    assert row.path == where and row.detail["sent_at"] and row.created_at is not None
    [eml] = list((harness.outbox / "email").glob("outside-reply-*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=default)
    assert isinstance(message, EmailMessage)
    assert message["To"] == "records@valleyclinic.example"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "care team" in body.get_content()
    assert [p.get_filename() for p in message.iter_attachments()] == [
        "outside_records_redirect.pdf"
    ]

    # the same submission again (same Idempotency-Key): the same answer, nothing sent again
    again = await harness.submit(outside(), key="outside-email-1")
    assert again.duplicate and again.submission_id == first.submission_id
    assert await sent(harness, first.submission_id) == where
    # and a retried send finds the record and sends nothing
    activities = OutsideRecordsActivities(
        harness.database_url, Outbox(harness.outbox), Mailer(Outbox(harness.outbox))
    )
    reply = OutsideRecordsReply(
        submission_id=first.submission_id,
        notice=OutsideRecordsNotice.model_validate(outside()),
    )
    assert activities.send_reply(reply) == where
    assert len(replies(harness, first.submission_id)) == 1
    assert len(list((harness.outbox / "email").glob("outside-reply-*.eml"))) == 1


async def test_sender_without_email_gets_a_letter_at_their_address(harness: Harness) -> None:
    data = outside(
        channel="mail",
        sender_email=None,
        language="es",
        sender_address={
            "line1": "12 Mesa Rd",
            "city": "Phoenix",
            "state": "AZ",
            "postal_code": "85001",
        },
    )
    result = await harness.submit(data, key="outside-letter-1")
    where = await sent(harness, result.submission_id)
    [row] = replies(harness, result.submission_id)
    assert row.channel == "letter" and row.path == where
    text = " ".join(" ".join(pages_text(Path(where).read_bytes())).split())
    assert "Valley Clinic" in text and "12 Mesa Rd" in text and "Phoenix, AZ 85001" in text
    assert "equipo de atención" in text or "Portal" in text  # the Spanish redirect wording


async def test_stored_first_then_sent_when_temporal_comes_back(harness: Harness) -> None:
    # Temporal unreachable at intake: the submission is kept and answered, the reply waits
    result = await intake.submit(
        outside(sender_email="intake@lakeside.example"),
        database_url=harness.database_url,
        client=None,
        task_queue=harness.task_queue,
        source="test",
        idempotency_key="outside-deferred-1",
    )
    assert result.redirected and replies(harness, result.submission_id) == []
    with session_scope(harness.database_url) as session:
        stored = session.get(IntakeSubmission, result.submission_id)
        assert stored is not None and stored.outcome == "redirected"
    await intake.reconcile(harness.database_url, harness.client, harness.task_queue)
    await sent(harness, result.submission_id)
    assert [r.channel for r in replies(harness, result.submission_id)] == ["email"]
    # reconciled again: nothing left to send, nothing sent twice
    await intake.reconcile(harness.database_url, harness.client, harness.task_queue)
    with session_scope(harness.database_url) as session:
        count = session.execute(
            select(func.count())
            .select_from(OutboundItem)
            .where(OutboundItem.item_key == reply_key(result.submission_id))  # type: ignore[arg-type]
        ).scalar_one()
    assert count == 1
