"""The production worker may run without Temporal's sandbox (ROI_WORKFLOW_SANDBOX=false): the
same requests go through to the same end, letters, disclosures and audit trail."""

from __future__ import annotations

from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from domain import actions
from domain.types import Status
from tests import factories
from tests.harness import running_worker
from workflows.record_request import RecordRequestWorkflow as W

STAFF = "spec.nosandbox"


async def test_requests_close_the_same_way_without_the_sandbox(
    registered_env: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> None:
    client = registered_env.client
    received = (await registered_env.get_current_time()).isoformat()
    async with running_worker(
        client, database_url, tmp_path / "outbox", registered_env, sandboxed=False
    ) as h:
        own = await h.start(factories.own_records(received_at=received))
        unsigned = factories.valid_authorization(signed=False, signature_date=None)
        third = await h.start(factories.third_party(received_at=received, authorization=unsigned))

        await h.wait_status(own, Status.AWAITING_VERIFICATION)
        await own.execute_update(
            W.verify, actions.VerifyIdentity(actor=STAFF, method=actions.IdentityMethod.PHOTO_ID)
        )
        await own.execute_update(W.complete, actions.Complete(actor=STAFF))

        deficient = await h.wait_status(third, Status.DEFICIENT)
        assert deficient.deficiencies
        await third.execute_update(
            W.correct_authorization,
            actions.CorrectAuthorization(
                actor=STAFF, authorization=factories.valid_authorization()
            ),
        )
        await h.wait_status(third, Status.AWAITING_VERIFICATION)
        await third.execute_update(
            W.verify, actions.VerifyIdentity(actor=STAFF, method=actions.IdentityMethod.PHOTO_ID)
        )
        await h.pay_quote(third)
        await third.execute_update(W.complete, actions.Complete(actor=STAFF))

        for handle in (own, third):
            outcome = await handle.result()
            assert outcome.status == "completed" and outcome.disclosures == 1
            request_id = handle.id.removeprefix("roi-")
            assert h.row(request_id).status == "completed"
            assert len(h.disclosures(request_id)) == 1
            assert "request.completed" in [e.action for e in h.events(request_id)]
        assert [o.kind for o in h.outbound(own.id.removeprefix("roi-"))] == [
            "acknowledgement",
            "records_email_link",
            "completion",
        ]
