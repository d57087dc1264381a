"""BillingWorkflow: a billing information request, routed to the billing office and tracked
to an answer.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain import actions
    from domain.effects import HandOff
    from domain.kinds.billing import BillingRequest
    from domain.kinds.case import CaseStart, CaseState, guard_case_status
    from domain.notices import NoticeKind
    from domain.types import Status
    from workflows.base import SHORT, refuse
    from workflows.case_base import CaseWorkflow


@workflow.defn
class BillingWorkflow(CaseWorkflow):
    """A billing information request, routed to billing and tracked to an answer."""

    @workflow.run
    async def run(self, start: CaseStart) -> CaseState:
        clock = await self._begin()
        await self._notify(NoticeKind.ACKNOWLEDGEMENT)
        await workflow.execute_activity(
            names.HAND_OFF,
            HandOff(
                key=f"{start.request_id}-billing",
                request_id=start.request_id,
                office="billing",
                summary=start.submission_as(BillingRequest).question,
            ),
            **SHORT,
        )
        await self._move_to(Status.UNDER_REVIEW, "billing.routed", "system")
        return await self._finish(clock)

    @workflow.update
    async def answer(self, action: actions.Answer) -> actions.ActionResult:
        """Billing's answer goes to the requester; the request closes."""
        await self._notify(NoticeKind.BILLING_ANSWER, answer_text=action.text)
        await self._close(Status.COMPLETED, "billing.answered", action.actor)
        return self._result("Answer sent.")

    @answer.validator
    def _validate_answer(self, action: actions.Answer) -> None:
        refuse(guard_case_status(self.state, Status.UNDER_REVIEW))
