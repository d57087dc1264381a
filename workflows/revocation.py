"""RevocationWorkflow (164.508(b)(5)): applied the moment it is received; pending releases under
the authorization stop (their workflows are signalled); a release already started stands.
"""

from __future__ import annotations

import contextlib

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain.effects import RevocationApply, RevokedAuthorization
    from domain.ids import workflow_id_for
    from domain.kinds.case import CaseOutcome, CaseStart, CaseState
    from domain.kinds.revocation import RevocationRequest
    from domain.notices import NoticeKind
    from domain.types import Status
    from workflows.base import SHORT
    from workflows.case_base import CaseWorkflow
    from workflows.record_request import RecordRequestWorkflow

#: The revocation letter lists what it stopped and, apart, what had already been released in
#: reliance before it arrived (issue 15); histories before it listed every request as stopped.
REVOCATION_RELIANCE_PATCH = "revocation-reliance-v1"


@workflow.defn
class RevocationWorkflow(CaseWorkflow):
    """A written revocation: recorded at once; pending releases under it stop."""

    @workflow.run
    async def run(self, start: CaseStart) -> CaseState:
        clock = await self._begin()
        refs = [r.upper() for r in start.submission_as(RevocationRequest).authorizations]
        done: list[RevokedAuthorization] = await workflow.execute_activity(
            names.APPLY_REVOCATION,
            RevocationApply(
                revocation_request_id=start.request_id,
                patient_key=start.patient_key,
                tracking_numbers=refs,
                at=workflow.now(),
            ),
            result_type=list[RevokedAuthorization],
            **SHORT,
        )
        for item in done:
            if item.request_id:
                handle = workflow.get_external_workflow_handle(workflow_id_for(item.request_id))
                # a request whose workflow already closed has nothing left to stop
                with contextlib.suppress(Exception):
                    await handle.signal(
                        RecordRequestWorkflow.authorization_revoked, start.request_id
                    )
        revoked = [d.tracking_number for d in done if d.request_id]
        released = [d.tracking_number for d in done if d.released_before]
        self.state.outcome = CaseOutcome(
            revoked=revoked,
            unknown=[d.tracking_number for d in done if not d.request_id],
            released_before=released,
        )
        if workflow.patched(REVOCATION_RELIANCE_PATCH):
            stopped = [ref for ref in revoked if ref not in set(released)]
            self.state.outcome.stopped = stopped
            await self._notify(
                NoticeKind.REVOCATION_CONFIRMED,
                revoked_references=stopped,
                released_references=released,
            )
        else:
            await self._notify(NoticeKind.REVOCATION_CONFIRMED, revoked_references=revoked)
        detail = self.state.outcome.model_dump(mode="json")
        await self._close(Status.COMPLETED, "revocation.applied", "system", **detail)
        return await self._finish(clock)
