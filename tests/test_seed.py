"""The demo seed: every row of the table reaches its stage, and seeding again adds nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ops.demo_cases import CASES
from ops.seed import demo_requests, seed
from store.db import session_scope
from store.models import IntakeSubmission, RecordRequest
from tests.harness import Harness

FLAGS = ("at_risk", "legal_risk", "breached", "extended")


def _rows(database_url: str, keys: list[str]) -> tuple[list[IntakeSubmission], dict[str, Any]]:
    """The demo's stored submissions, and the read-model row of each request by its key."""
    with session_scope(database_url) as session:
        submissions = list(
            session.execute(
                select(IntakeSubmission).where(IntakeSubmission.idempotency_key.in_(keys))  # type: ignore[union-attr]
            )
            .scalars()
            .all()
        )
        by_id = {s.request_id: s.idempotency_key for s in submissions if s.request_id}
        rows = session.execute(select(RecordRequest).where(RecordRequest.id.in_(by_id))).scalars()  # type: ignore[attr-defined]
        return submissions, {by_id[r.id]: r for r in rows}


async def test_every_demo_case_reaches_its_stage_and_seeding_again_adds_nothing(
    harness: Harness,
) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    h, records = harness, harness.records
    requests = demo_requests(now)
    keys = [r.key for r in requests]
    assert len(requests) == len(CASES) and len(set(keys)) == len(keys)

    first = await seed(h.database_url, h.client, h.task_queue, now=now, records=records)
    redirected = [r for r in requests if r.case.stage is None]
    assert first["submitted"] == len(keys) - len(redirected)
    assert first["redirected"] == len(redirected) == 1
    steps = sum(len(r.case.steps) for r in requests)
    assert first["actions"] == steps

    expected = {r.key: (r.case.stage, sorted(r.case.flags)) for r in requests if r.case.stage}
    got: dict[str, tuple[str | None, list[str]]] = {}
    for _ in range(100):  # let the last projections land
        submissions, rows = _rows(h.database_url, keys)
        got = {
            key: (row.status, sorted(f for f in FLAGS if getattr(row, f)))
            for key, row in rows.items()
        }
        if got == expected:
            break
        await asyncio.sleep(0.1)
    harness.started.extend(row.workflow_id for row in rows.values())
    wrong = {
        k: f"expected {expected.get(k)}, got {got.get(k)}"
        for k in expected
        if got.get(k) != expected[k]
    }
    assert not wrong, wrong
    assert {s.outcome for s in submissions if s.idempotency_key in {r.key for r in redirected}} == {
        "redirected"
    }

    # run again, on the same clock and on a later one (the demo restarted the next day): the
    # same requests answer, nothing is submitted, stored or done twice
    for later in (now, now + timedelta(days=1)):
        again = await seed(h.database_url, h.client, h.task_queue, now=later, records=records)
        assert again["submitted"] == 0 and again["actions"] == 0, again
        assert again["already_there"] == len(keys) - len(redirected), again
    with session_scope(h.database_url) as session:
        stored = session.execute(
            select(IntakeSubmission).where(IntakeSubmission.source == "demo")  # type: ignore[arg-type]
        ).scalars()
        assert len(list(stored)) == len(keys)  # one stored submission per demo request

    # the demo's payments paid what was quoted, before release
    paid = [rows[r.key] for r in requests if "pay" in r.case.steps]
    assert paid and all(r.fee_cents > 0 and r.paid_cents == r.fee_cents for r in paid), paid
    assert {r.site for r in rows.values()} == {"arizona", "florida", "minnesota", "wisconsin"}
    assert {r.team for r in rows.values()} >= {"roi", "amendment", "data_integrity", "billing"}
    # the demo's releases went out on the records the seed wrote; none was held for lack of them
    released = [
        e for row in rows.values() for e in h.events(row.id) if e.action.startswith("release.")
    ]
    assert {e.action for e in released} >= {"release.approved"}
    assert not [e for e in released if e.action == "release.held"]
    assert len(list(records.glob("*/index.json"))) > len(keys) // 2  # type: ignore[union-attr]
