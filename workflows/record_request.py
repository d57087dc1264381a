"""RecordRequestWorkflow: one durable workflow per request for copies of records.

Intake is already stored when this starts. The workflow validates the authorization, waits for
staff (Updates with validators), quotes and collects fees, releases by the chosen method,
records the disclosure and closes; alongside, its clock loop fires the reminder, the 14-day
escalation, the legal-risk escalation and the breach at the right moments. It is the source of
truth; every change is projected to PostgreSQL by an activity.

This module holds the main flow and the request's own Updates (payment, delivery, release);
the parts it is put together from are fulfilment (the release and what follows it), release
safety (a held release's second looks), verification (identity, the authorization) and the
review of a denial (denial_review).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain import actions
    from domain.effects import PageCountQuery, RequestOutcome, StartRequest
    from domain.fees import DEFAULT_FEE_SCHEDULE
    from domain.notices import NoticeKind
    from domain.request import business_rules
    from domain.state import guard_complete, guard_open, guard_payment, waiting_status
    from domain.types import Status
    from workflows.base import SHORT, refusal, refuse
    from workflows.denial_review import DenialReviewFlow
    from workflows.fulfilment import Fulfilment
    from workflows.release_safety import ReleaseSafety
    from workflows.verification import Verification

#: Third-party fees from the site's schedule, pages counted from the records found (issue 15).
THIRD_PARTY_FEES_PATCH = "third-party-fees-v1"
#: the representative's authority document is judged before release (164.502(g))
AUTHORITY_PATCH = "authority-document-v1"


@workflow.defn
class RecordRequestWorkflow(Fulfilment, ReleaseSafety, Verification, DenialReviewFlow):
    """Access, third-party and imaging requests, from intake to closure."""

    @workflow.init
    def __init__(self, start: StartRequest) -> None:
        self._init_request(start)

    # ---- main flow -----------------------------------------------------------------------

    @workflow.run
    async def run(self, start: StartRequest) -> RequestOutcome:
        # requests started before the representative's authority document was judged keep
        # the rule they started under (their histories replay unchanged)
        self.state.judges_authority = workflow.patched(AUTHORITY_PATCH)
        await self._record("request.received", "system")
        await self._notify(NoticeKind.ACKNOWLEDGEMENT)
        sla = self._start_clock()

        if self.state.submission.needs_authorization or self.deceased_on:
            await self._report_authorization("system")
        if workflow.patched(THIRD_PARTY_FEES_PATCH):
            await self._quote_third_party()
        if self.state.fee.total_cents:
            await self._notify(
                NoticeKind.FEE_QUOTE,
                fee_lines=self.state.fee.lines,
                fee_total_cents=self.state.fee.total_cents,
            )
        await self._move_to(waiting_status(self.state), "request.triaged", "system")

        while True:
            await workflow.wait_condition(
                lambda: self.state.status in (Status.FULFILLING, Status.DENIED, Status.CANCELLED)
            )
            while self.state.status == Status.FULFILLING:
                if not await self._fulfil():
                    break
                # held before anything left: back with a specialist until released again
                await workflow.wait_condition(
                    lambda: (
                        self.state.status in (Status.FULFILLING, Status.DENIED, Status.CANCELLED)
                    )
                )
            if not await self._review_of_denial():
                break  # (a reversed denial goes back to work, above)

        await workflow.wait_condition(workflow.all_handlers_finished)
        sla.cancel()
        return RequestOutcome(
            request_id=self.state.request_id,
            status=self.state.status.value,
            disclosures=self.disclosures,
            breached=self.state.breached,
        )

    # ---- revocation (Signal from a RevocationWorkflow) ------------------------------------

    @workflow.signal
    async def authorization_revoked(self, revocation_request_id: str) -> None:
        """The authorization was revoked in writing: nothing more is released under it."""
        if self.revoked_by is not None:
            return
        self.revoked_by = revocation_request_id
        if self.state.is_open and self.state.status != Status.FULFILLING:
            await self._stop_for_revocation()
        # mid-release: the release lock decides (a release that already started stands)

    # ---- the request's own Updates ---------------------------------------------------------

    @workflow.update
    async def record_payment(self, action: actions.RecordPayment) -> actions.ActionResult:
        """The quoted fee was paid."""
        self.state.paid_cents += action.amount_cents
        await self._move_to(
            waiting_status(self.state),
            "payment.recorded",
            action.actor,
            amount_cents=action.amount_cents,
            reference=action.reference,
        )
        return self._result("Payment recorded.")

    @record_payment.validator
    def _validate_payment(self, action: actions.RecordPayment) -> None:
        refuse(guard_payment(self.state, action.amount_cents))

    @workflow.update
    async def choose_delivery(self, action: actions.ChooseDelivery) -> actions.ActionResult:
        """Change how the records will be sent (the fee is quoted again)."""
        previous = self.state.fee.total_cents
        self.state.submission = self.state.submission.model_copy(
            update={"delivery_method": action.method}
        )
        self._requote()
        if self.state.fee.total_cents and self.state.fee.total_cents != previous:
            await self._notify(
                NoticeKind.FEE_QUOTE,
                fee_lines=self.state.fee.lines,
                fee_total_cents=self.state.fee.total_cents,
            )
        await self._move_to(
            waiting_status(self.state), "delivery.changed", action.actor, method=action.method.value
        )
        return self._result("Delivery method changed.")

    @choose_delivery.validator
    def _validate_choose_delivery(self, action: actions.ChooseDelivery) -> None:
        refuse(guard_open(self.state))
        if self.state.paid_cents:
            refuse(
                refusal(
                    "method",
                    "already_paid",
                    "A fee was already paid; refund it before changing delivery.",
                )
            )
        changed = self.state.submission.model_copy(update={"delivery_method": action.method})
        refuse(
            [
                p
                for p in business_rules(changed, workflow.now())
                if "delivery" in p.field or "contact" in p.field
            ]
        )

    @workflow.update
    async def complete(self, action: actions.Complete) -> actions.ActionResult:
        """Release the records by the chosen method and close the request."""
        self.state.completion_requested_by = action.actor
        await self._move_to(Status.FULFILLING, "release.approved", action.actor)
        return self._result("Release started.")

    @complete.validator
    def _validate_complete(self, action: actions.Complete) -> None:
        refuse(guard_complete(self.state))
        if self.revoked_by:
            refuse(
                refusal(
                    "authorization",
                    "authorization_revoked",
                    "The authorization was revoked; nothing can be released.",
                )
            )

    async def _quote_third_party(self) -> None:
        """A third party's fee from the site's schedule, with the pages the record source
        holds for the request: quoted (and the quote sent) before any work, paid before release."""
        sub = self.state.submission
        self.fee_schedule = DEFAULT_FEE_SCHEDULE
        if sub.under_right_of_access:
            return
        self.pages = await workflow.execute_activity(
            names.COUNT_PAGES,
            PageCountQuery(request_id=self.state.request_id, submission=sub),
            result_type=int,
            **SHORT,
        )
        self._requote()
        await self._record(
            "fee.quoted", "system", pages=self.pages, total=self.state.fee.total_cents
        )
