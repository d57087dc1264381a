"""AccountingWorkflow (164.528): 60 days and 30 more; the first accounting in 12 months is free,
a later one only after the patient is told the fee and may withdraw.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain import actions
    from domain.effects import AccountingQuery
    from domain.fees import FeeLine, FeeQuote
    from domain.kinds.accounting import (
        AccountingRequest,
        DisclosureEntry,
        accounting_entries,
        accounting_fee_cents,
        accounting_period,
    )
    from domain.kinds.case import CaseOutcome, CaseStart, CaseState, guard_case_status
    from domain.notices import NoticeKind
    from domain.types import Status
    from workflows.base import SHORT, refusal, refuse
    from workflows.case_base import CaseWorkflow

#: The accounting leaves out disclosures an agency's suspension still covers (issue 15, hole 7).
ACCOUNTING_SUSPENSION_PATCH = "accounting-suspension-v1"


@workflow.defn
class AccountingWorkflow(CaseWorkflow):
    """An accounting of disclosures for the 6 years before the request (or a shorter period)."""

    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        super().__init__(start)
        self.request = start.submission_as(AccountingRequest)
        self.fee_answer: bool | None = None

    @workflow.run
    async def run(self, start: CaseStart) -> CaseState:
        clock = await self._begin()
        query = AccountingQuery(
            patient_key=start.patient_key,
            request_id=start.request_id,
            received_at=start.received_at,
        )
        prior: list[str] = await workflow.execute_activity(
            names.PRIOR_ACCOUNTINGS, query, result_type=list[str], **SHORT
        )
        received_on = self.state.clock.received_at.date()
        earlier = [d for d in (datetime.fromisoformat(p).date() for p in prior) if d <= received_on]
        fee = accounting_fee_cents(earlier, received_on)
        if fee:
            self.state.fee = FeeQuote(
                lines=[
                    FeeLine(
                        code="accounting",
                        description="Second accounting within 12 months",
                        amount_cents=fee,
                    )
                ]
            )
            await self._notify(
                NoticeKind.ACCOUNTING_FEE_NOTICE,
                fee_lines=self.state.fee.lines,
                fee_total_cents=fee,
            )
            await self._move_to(
                Status.AWAITING_REQUESTER, "accounting.fee_quoted", "system", fee_cents=fee
            )
            await workflow.wait_condition(
                lambda: self.fee_answer is not None or not self.state.is_open
            )
            if not self.state.is_open:
                return await self._finish(clock)
        else:
            await self._notify(NoticeKind.ACKNOWLEDGEMENT)
        await self._move_to(Status.UNDER_REVIEW, "request.routed", "system")
        return await self._finish(clock)

    @workflow.update
    async def respond_to_fee(self, action: actions.FeeResponse) -> actions.ActionResult:
        """The patient accepts the fee (and pays) or withdraws the request."""
        if not action.accept:
            self.fee_answer = False
            await self._close(Status.CANCELLED, "accounting.withdrawn", action.actor)
            return self._result("Withdrawn; no fee is charged.")
        self.state.paid_cents = self.state.fee.total_cents
        self.fee_answer = True
        await self._record("payment.recorded", action.actor, reference=action.payment_reference)
        return self._result("Fee accepted.")

    @respond_to_fee.validator
    def _validate_fee(self, action: actions.FeeResponse) -> None:
        refuse(guard_case_status(self.state, Status.AWAITING_REQUESTER))
        if action.accept and not action.payment_reference:
            refuse(refusal("payment_reference", "missing", "Record the payment reference."))

    @workflow.update
    async def complete(self, action: actions.Complete) -> actions.ActionResult:
        """Compile the accounting from the disclosure log and send it."""
        start = self.state.start
        # an agency's suspension (164.528(a)(2)) is judged on the date the accounting is made
        suspended_on = self._today() if workflow.patched(ACCOUNTING_SUSPENSION_PATCH) else None
        entries: list[DisclosureEntry] = await workflow.execute_activity(
            names.PATIENT_DISCLOSURES,
            AccountingQuery(
                patient_key=start.patient_key,
                request_id=start.request_id,
                received_at=start.received_at,
                compiled_on=suspended_on,
            ),
            result_type=list[DisclosureEntry],
            **SHORT,
        )
        period = accounting_period(self.request, self.state.clock.received_at.date())
        included = accounting_entries(entries, period)
        self.state.outcome = CaseOutcome(
            entries=len(included), period_start=period.start, period_end=period.end
        )
        await self._notify(
            NoticeKind.ACCOUNTING_REPORT,
            period_start=period.start,
            period_end=period.end,
            accounting_entries=[
                {
                    "date": e.disclosed_at.date().isoformat(),
                    "recipient": e.recipient_name,
                    "address": e.recipient_address or "",
                    "description": e.description,
                    "purpose": e.purpose,
                }
                for e in included
            ],
        )
        await self._close(Status.COMPLETED, "accounting.sent", action.actor, entries=len(included))
        return self._result(f"Accounting sent with {len(included)} entries.")

    @complete.validator
    def _validate_complete(self, action: actions.Complete) -> None:
        refuse(guard_case_status(self.state, Status.UNDER_REVIEW))
