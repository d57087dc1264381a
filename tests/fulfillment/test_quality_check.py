"""The second-specialist quality check, where a site asks for it for a kind of request."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from domain.release_safety import QualityCheck, parse_quality_policy, quality_check_required
from domain.types import RequestKind, Site, Status
from tests import factories
from tests.fulfillment.conftest import channel_worker
from tests.fulfillment.helpers import STAFF, release
from workflows.record_request import RecordRequestWorkflow as W

ALL = {"right_patient_on_every_page": True, "right_recipient": True, "in_scope": True}


def test_policy_per_site_and_kind() -> None:
    policy = parse_quality_policy("minnesota:third_party,court_order; arizona:*")
    assert quality_check_required(policy, Site.MINNESOTA, RequestKind.THIRD_PARTY)
    assert not quality_check_required(policy, Site.MINNESOTA, RequestKind.ACCESS_OWN)
    assert quality_check_required(policy, Site.ARIZONA, RequestKind.ACCESS_OWN)
    assert not quality_check_required(policy, Site.FLORIDA, RequestKind.COURT_ORDER)


async def test_a_second_specialist_confirms_the_packet_before_it_leaves(
    registered_env: WorkflowEnvironment, database_url: str, settings: Settings
) -> None:
    checked = settings.model_copy(update={"quality_check": "minnesota:third_party"})
    async with channel_worker(registered_env, database_url, checked) as h:
        now = (await registered_env.get_current_time()).isoformat()
        own = await h.start(factories.own_records(received_at=now))
        await release(h, own)
        assert (await h.wait_status(own, Status.COMPLETED)).status == Status.COMPLETED

        handle = await h.start(factories.third_party(received_at=now))
        rid = (await h.state(handle)).request_id
        await release(h, handle)
        await h.wait_status(handle, Status.READY_TO_RELEASE)
        [held] = [e for e in h.events(rid) if e.action == "release.held"]
        assert held.detail["codes"] == ["quality_check_required"]
        assert not [o for o in h.outbound(rid) if o.kind.startswith("records_")]

        same = await h.refused(handle, W.confirm_quality, QualityCheck(actor=STAFF, **ALL))
        assert [i["code"] for i in same] == ["same_specialist"]
        partial = await h.refused(
            handle, W.confirm_quality, QualityCheck(actor="spec.second", right_recipient=True)
        )
        assert {i["field"] for i in partial} == {"right_patient_on_every_page", "in_scope"}

        await handle.execute_update(W.confirm_quality, QualityCheck(actor="spec.second", **ALL))
        assert (await handle.result()).status == "completed"
        [confirmed] = [e for e in h.events(rid) if e.action == "quality.confirmed"]
        assert confirmed.actor == "spec.second" and confirmed.detail["approved_by"] == STAFF
        [disclosure] = h.disclosures(rid)
        assert disclosure.disclosed_by == STAFF
