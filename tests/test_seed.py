"""The demo seed: requests at every stage, and running it twice adds nothing."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import select

from ops.seed import demo_cases, seed
from store.db import session_scope
from store.models import IntakeSubmission, RecordRequest
from tests.harness import Harness


async def test_seed_covers_every_stage_and_is_idempotent(harness: Harness) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    h, records = harness, harness.records
    first = await seed(h.database_url, h.client, h.task_queue, now=now, records=records)
    keys = [c.key for c in demo_cases(now)]
    assert first["submitted"] == len(keys) - 1 and first["redirected"] == 1
    second = await seed(h.database_url, h.client, h.task_queue, now=now, records=records)
    assert second["submitted"] == 0 and second["actions"] == 0

    with session_scope(harness.database_url) as session:
        submissions = (
            session.execute(
                select(IntakeSubmission).where(IntakeSubmission.idempotency_key.in_(keys))  # type: ignore[union-attr]
            )
            .scalars()
            .all()
        )
        ids = [s.request_id for s in submissions if s.request_id]
        harness.started.extend(f"roi-{i}" for i in ids)
        for _ in range(100):  # let the last projections land
            rows = (
                session.execute(select(RecordRequest).where(RecordRequest.id.in_(ids)))
                .scalars()
                .all()
            )  # type: ignore[attr-defined]
            if len(rows) == len(ids):
                break
            await asyncio.sleep(0.1)
    assert len(submissions) == len(keys)  # one stored submission per demo request, not two
    stages = Counter(r.status for r in rows)
    for stage in (
        "awaiting_verification",
        "deficient",
        "awaiting_payment",
        "ready_to_release",
        "completed",
        "denied",
        "cancelled",
        "under_review",
        "active",
        "rejected",
        "awaiting_disagreement",
    ):
        assert stages[stage] >= 1, (stage, stages)
    assert any(r.breached for r in rows) and any(r.at_risk and not r.breached for r in rows)
    assert any(r.extended for r in rows)
    # the law firms' demo requests past payment paid what the schedule quoted, before release
    paid = [
        r for r in rows if r.kind == "third_party" and r.status in ("ready_to_release", "completed")
    ]
    assert {r.status for r in paid} == {"ready_to_release", "completed"}
    assert all(r.fee_cents > 0 and r.paid_cents == r.fee_cents for r in paid), paid
    assert {r.site for r in rows} == {"arizona", "florida", "minnesota", "wisconsin"}
    assert {r.team for r in rows} >= {"roi", "amendment", "data_integrity", "billing"}
    # the demo's releases went out on the records the seed wrote; none was held for lack of them
    released = [e for i in ids for e in h.events(i) if e.action.startswith("release.")]
    assert {e.action for e in released} >= {"release.approved"}
    assert not [e for e in released if e.action == "release.held"]
    assert len(list(records.glob("*/index.json"))) > len(keys) // 2  # type: ignore[union-attr]
