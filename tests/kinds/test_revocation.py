"""Revocation (164.508(b)(5)): nothing is released after a revocation is recorded."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from sqlalchemy import select, text
from temporalio.client import WorkflowHandle

from domain import actions
from domain.kinds.case import CaseOutcome, CaseState
from domain.types import Status
from services import staff
from store.db import engine_for, session_scope
from store.models import AuthorizationRecord
from tests import factories
from tests.harness import Harness
from workflows.record_request import RecordRequestWorkflow as W

SPEC = "spec.rev"


async def ready_third_party(h: Harness) -> tuple[object, str, str]:
    now = await h.env.get_current_time()  # type: ignore[union-attr]
    handle = await h.start(factories.third_party(received_at=now.isoformat()))
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await handle.execute_update(
        W.verify, actions.VerifyIdentity(actor=SPEC, method=actions.IdentityMethod.KNOWN_PROVIDER)
    )
    await h.pay_quote(handle)  # the law firm paid the quote
    return handle, state.request_id, state.tracking_number


async def revoke(h: Harness, *tracking: str) -> WorkflowHandle[Any, CaseState]:
    now = await h.env.get_current_time()  # type: ignore[union-attr]
    return await h.start_case(factories.revocation(list(tracking), received_at=now.isoformat()))


async def test_pending_request_stops_and_requester_is_told(harness: Harness) -> None:
    handle, rid, tracking = await ready_third_party(harness)
    rev = await revoke(harness, tracking)
    outcome = await rev.result()
    assert outcome.status == "completed" and outcome.outcome.revoked == [tracking]
    result = await handle.result()  # type: ignore[attr-defined]
    assert result.status == "cancelled" and result.disclosures == 0
    assert harness.disclosures(rid) == []
    assert "release_stopped" in [o.kind for o in harness.outbound(rid)]
    with pytest.raises(staff.ActionRefused) as refused:
        await staff.perform(harness.client, rid, actions.Complete(actor=SPEC))
    assert refused.value.issues[0].code == "request_closed"


async def test_release_already_made_stands(harness: Harness) -> None:
    handle, rid, tracking = await ready_third_party(harness)
    await handle.execute_update(W.complete, actions.Complete(actor=SPEC))  # type: ignore[attr-defined]
    await handle.result()  # type: ignore[attr-defined]
    rev = await revoke(harness, tracking)
    outcome = await rev.result()
    assert outcome.outcome.released_before == [tracking]  # done in reliance: it stands
    assert len(harness.disclosures(rid)) == 1


async def test_revocation_by_phone_is_refused_at_intake(harness: Harness) -> None:
    result = await harness.submit(factories.revocation(["ROI-AAAAA-BBBBB"], channel="phone"))
    assert not result.accepted
    assert ("channel", "must_be_in_writing") in [(e.field, e.code) for e in result.errors]


async def test_someone_elses_request_is_not_revoked(harness: Harness) -> None:
    handle, _, tracking = await ready_third_party(harness)
    other = factories.revocation([tracking])
    other["patient"] = {**other["patient"], "last_name": "Someoneelse"}
    other["received_at"] = (await harness.env.get_current_time()).isoformat()  # type: ignore[union-attr]
    rev = await harness.start_case(other)
    outcome = await rev.result()
    assert outcome.outcome.unknown == [tracking] and outcome.outcome.revoked == []
    assert (await harness.state(handle)).status == Status.READY_TO_RELEASE  # type: ignore[arg-type]
    await handle.execute_update(W.cancel, actions.Cancel(actor=SPEC, reason="test over"))  # type: ignore[attr-defined]


# ---- release and revocation at the same moment -----------------------------------------------
#
# The row lock on the authorization (store.cases.begin_release / apply_revocation) decides which
# came first. The two orders are driven explicitly: the test holds that row lock itself, lets the
# first party queue on it, then the second, and lets go; PostgreSQL grants a row lock to its
# waiters in the order they queued, so the first to queue is the first to hold it.

Order = Literal["release_first", "revocation_first"]
Refusals = list[staff.ActionRefused]
_WAITING_ON_AUTHORIZATIONS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' "
    "AND query ILIKE '%FROM authorizations%FOR UPDATE%'"
)


async def _queued_on_lock(database_url: str, count: int, timeout: float = 15) -> None:
    """Wait (in real time: the worker shares this event loop) until `count` transactions wait
    for an authorization row lock."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        with engine_for(database_url).connect() as conn:
            waiting = conn.execute(_WAITING_ON_AUTHORIZATIONS).scalar_one()
        if waiting == count:
            return
        assert waiting < count, f"{waiting} waiting on the authorization lock, expected {count}"
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{waiting} waiting on the authorization lock, never {count}")
        await asyncio.sleep(0.02)


@contextlib.contextmanager
def _holding_authorization_lock(database_url: str, request_id: str) -> Iterator[None]:
    """Hold the authorization's row lock until the block ends (then commit: nothing changed)."""
    with engine_for(database_url).connect() as conn, conn.begin():
        locked = conn.execute(
            select(AuthorizationRecord.authorization_ref)
            .where(AuthorizationRecord.request_id == request_id)
            .with_for_update()
        ).scalar_one()
        assert locked == f"{request_id}-authorization"
        yield


def _authorization(h: Harness, rid: str) -> AuthorizationRecord:
    with session_scope(h.database_url) as session:
        row = session.execute(
            select(AuthorizationRecord).where(AuthorizationRecord.request_id == rid)
        ).scalar_one()
        session.expunge(row)
        return row


def _sent_files(h: Harness, rid: str) -> list[Path]:
    """The release itself in the outbox (print job, email, shipment), keyed by the request."""
    return [p for c in ("print", "email", "ship") for p in (h.outbox / c).glob(f"{rid}-deliver*")]


async def _release(h: Harness, rid: str) -> None:
    result = await staff.perform(h.client, rid, actions.Complete(actor=SPEC))
    assert result.status == Status.FULFILLING.value, result


async def _revocation_outcome(rev: WorkflowHandle[Any, CaseState]) -> CaseOutcome:
    outcome = await rev.result()
    assert outcome.status == "completed", outcome
    return outcome.outcome


async def assert_released_and_stands(
    h: Harness, handle: object, rid: str, tracking: str, seen: CaseOutcome
) -> None:
    """The release began before the revocation: it stands (done in reliance), and the
    revocation is recorded all the same."""
    assert seen.revoked == [tracking] and seen.released_before == [tracking], seen
    result = await handle.result()  # type: ignore[attr-defined]
    assert result.status == "completed" and result.disclosures == 1
    [disclosure] = h.disclosures(rid)
    assert disclosure.authorization_ref == f"{rid}-authorization"
    auth = _authorization(h, rid)
    assert auth.status == "revoked" and auth.revocation_request_id is not None
    # (the two times are each workflow's own clock when it asked, not when it held the lock:
    # the order is what the revocation found under the lock, released_before above)
    assert auth.release_started_at is not None and auth.revoked_at is not None
    assert len(_sent_files(h, rid)) == 1
    assert [o.kind for o in h.outbound(rid) if o.kind.startswith("records_")] == ["records_us_mail"]
    actions_seen = [e.action for e in h.events(rid)]
    assert "request.completed" in actions_seen and "release.stopped_revoked" not in actions_seen


async def assert_never_released(
    h: Harness, handle: object, rid: str, tracking: str, seen: CaseOutcome
) -> None:
    """The revocation was recorded first: nothing left, nothing disclosed, requester told."""
    assert seen.revoked == [tracking] and seen.released_before == [], seen
    result = await handle.result()  # type: ignore[attr-defined]
    assert result.status == "cancelled" and result.disclosures == 0
    assert h.disclosures(rid) == []
    auth = _authorization(h, rid)
    assert auth.status == "revoked" and auth.revoked_at is not None
    assert auth.release_started_at is None
    assert _sent_files(h, rid) == []
    kinds = [o.kind for o in h.outbound(rid)]
    assert not [k for k in kinds if k.startswith("records_")], kinds
    assert "release_stopped" in kinds
    actions_seen = [e.action for e in h.events(rid)]
    assert "release.stopped_revoked" in actions_seen and "request.completed" not in actions_seen


async def lock_ordered_round(h: Harness, first: Order) -> None:
    """Both parties queue on the authorization lock in the given order, then it is let go."""
    handle, rid, tracking = await ready_third_party(h)
    assert _authorization(h, rid).status == "active"
    with _holding_authorization_lock(h.database_url, rid):
        if first == "release_first":
            await _release(h, rid)
            await _queued_on_lock(h.database_url, 1)
            rev = await revoke(h, tracking)
        else:
            rev = await revoke(h, tracking)
            await _queued_on_lock(h.database_url, 1)
            await _release(h, rid)
        await _queued_on_lock(h.database_url, 2)
        # neither has done anything yet
        assert _authorization(h, rid).status == "active"
        assert h.disclosures(rid) == [] and _sent_files(h, rid) == []
    seen = await _revocation_outcome(rev)
    if first == "release_first":
        await assert_released_and_stands(h, handle, rid, tracking, seen)
    else:
        await assert_never_released(h, handle, rid, tracking, seen)


async def test_release_that_takes_the_lock_first_stands(harness: Harness) -> None:
    await lock_ordered_round(harness, "release_first")


async def test_revocation_that_takes_the_lock_first_stops_the_release(harness: Harness) -> None:
    await lock_ordered_round(harness, "revocation_first")


async def test_release_after_recorded_revocation_is_refused(harness: Harness) -> None:
    """The revocation applied, then a release asked for at once (its signal may still be on the
    way): refused by the Update's validator or by the lock, never sent."""
    handle, rid, tracking = await ready_third_party(harness)
    rev = await revoke(harness, tracking)
    seen = await _revocation_outcome(rev)
    assert _authorization(harness, rid).status == "revoked"
    try:
        await _release(harness, rid)
    except staff.ActionRefused as refused:
        codes = {i.code for i in refused.issues}
        assert codes <= {"request_closed", "authorization_revoked"} and codes, refused.issues
    await assert_never_released(harness, handle, rid, tracking, seen)


async def test_free_race_keeps_the_invariant(harness: Harness) -> None:
    """Release and revocation sent together, unordered, a few times: whichever order happened,
    its outcome holds. (The two orders are proven above; this run only shows timing never
    produces a third outcome.)"""
    orders = {"release_first": 0, "revocation_first": 0}
    for i in range(6):
        handle, rid, tracking = await ready_third_party(harness)
        refusals: Refusals = []

        async def release(delay: float, rid: str = rid, refusals: Refusals = refusals) -> None:
            await asyncio.sleep(delay)
            try:
                await _release(harness, rid)
            except staff.ActionRefused as refused:  # the revocation got there first
                refusals.append(refused)

        async def revocation(delay: float, tracking: str = tracking) -> CaseOutcome:
            await asyncio.sleep(delay)
            return await _revocation_outcome(await revoke(harness, tracking))

        offset = (i % 3) * 0.01
        _, seen = await asyncio.gather(
            release(offset if i % 2 else 0), revocation(0 if i % 2 else offset)
        )
        for refusal in refusals:
            codes = {issue.code for issue in refusal.issues}
            assert codes and codes <= {"request_closed", "authorization_revoked"}, refusal.issues
        if seen.released_before:
            assert not refusals
            await assert_released_and_stands(harness, handle, rid, tracking, seen)
            orders["release_first"] += 1
        else:
            await assert_never_released(harness, handle, rid, tracking, seen)
            orders["revocation_first"] += 1
    assert sum(orders.values()) == 6
    print("free race orders:", orders)
