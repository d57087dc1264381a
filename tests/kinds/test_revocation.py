"""Revocation (164.508(b)(5)): nothing is released after a revocation is recorded."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import select

from domain import actions
from domain.types import Status
from services import staff
from store.db import session_scope
from store.models import AuthorizationRecord
from tests import factories
from tests.harness import Harness

SPEC = "spec.rev"


async def ready_third_party(h: Harness) -> tuple[object, str, str]:
    now = await h.env.get_current_time()  # type: ignore[union-attr]
    handle = await h.start(factories.third_party(received_at=now.isoformat()))
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await handle.execute_update(
        "verify", actions.VerifyIdentity(actor=SPEC, method=actions.IdentityMethod.KNOWN_PROVIDER)
    )
    await h.wait_status(handle, Status.READY_TO_RELEASE)
    return handle, state.request_id, state.tracking_number


async def revoke(h: Harness, *tracking: str) -> object:
    now = await h.env.get_current_time()  # type: ignore[union-attr]
    return await h.start_case(factories.revocation(list(tracking), received_at=now.isoformat()))


async def test_pending_request_stops_and_requester_is_told(harness: Harness) -> None:
    handle, rid, tracking = await ready_third_party(harness)
    rev = await revoke(harness, tracking)
    outcome = await rev.result()  # type: ignore[attr-defined]
    assert outcome["status"] == "completed" and outcome["outcome"]["revoked"] == [tracking]
    result = await handle.result()  # type: ignore[attr-defined]
    assert result.status == "cancelled" and result.disclosures == 0
    assert harness.disclosures(rid) == []
    assert "release_stopped" in [o.kind for o in harness.outbound(rid)]
    with pytest.raises(staff.ActionRefused) as refused:
        await staff.perform(harness.client, rid, actions.Complete(actor=SPEC))
    assert refused.value.issues[0].code == "request_closed"


async def test_release_already_made_stands(harness: Harness) -> None:
    handle, rid, tracking = await ready_third_party(harness)
    await handle.execute_update("complete", actions.Complete(actor=SPEC))  # type: ignore[attr-defined]
    await handle.result()  # type: ignore[attr-defined]
    rev = await revoke(harness, tracking)
    outcome = await rev.result()  # type: ignore[attr-defined]
    assert outcome["outcome"]["released_before"] == [tracking]  # done in reliance: it stands
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
    outcome = await rev.result()  # type: ignore[attr-defined]
    assert outcome["outcome"]["unknown"] == [tracking] and outcome["outcome"]["revoked"] == []
    assert (await harness.state(handle)).status == Status.READY_TO_RELEASE  # type: ignore[arg-type]
    await handle.execute_update("cancel", actions.Cancel(actor=SPEC, reason="test over"))  # type: ignore[attr-defined]


async def test_race_never_releases_after_revocation(harness: Harness) -> None:
    """Revocation and release at the same moment, many times: either the release began before
    the revocation was recorded (and stands), or nothing was released."""
    outcomes = {"released_before_revocation": 0, "stopped": 0}
    for i in range(12):
        seen: dict[str, list[str]] = {}
        handle, rid, tracking = await ready_third_party(harness)

        async def release(delay: float, handle: object = handle) -> None:
            await asyncio.sleep(delay)
            with contextlib.suppress(Exception):  # refused when the revocation won
                await handle.execute_update("complete", actions.Complete(actor=SPEC))  # type: ignore[attr-defined]

        async def revocation(
            delay: float, tracking: str = tracking, seen: dict[str, list[str]] = seen
        ) -> None:
            await asyncio.sleep(delay)
            rev = await revoke(harness, tracking)
            seen.update((await rev.result())["outcome"])  # type: ignore[attr-defined]

        # vary who goes first, by a few milliseconds either way
        offset = (i % 4) * 0.015
        await asyncio.gather(release(offset if i % 2 else 0), revocation(0 if i % 2 else offset))
        result = await handle.result()  # type: ignore[attr-defined]
        with session_scope(harness.database_url) as session:
            auth = session.execute(
                select(AuthorizationRecord).where(AuthorizationRecord.request_id == rid)
            ).scalar_one()
        disclosures = harness.disclosures(rid)
        assert auth.status == "revoked" and auth.revoked_at is not None
        if disclosures:
            assert result.status == "completed" and len(disclosures) == 1
            # The row lock ordered them: the revocation found the release already begun.
            assert auth.release_started_at is not None
            assert seen["released_before"] == [tracking]
            outcomes["released_before_revocation"] += 1
        else:
            assert result.status == "cancelled" and auth.release_started_at is None
            assert seen["revoked"] == [tracking] and seen["released_before"] == []
            assert not (harness.outbox / "print").exists() or not any(
                rid in p.name for p in (harness.outbox / "print").glob("*")
            )
            outcomes["stopped"] += 1
    assert sum(outcomes.values()) == 12
    print("revocation race outcomes:", outcomes)
