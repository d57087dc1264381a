"""RecordRequestWorkflow: one durable workflow per request for copies of records.

Intake is already stored when this starts. The workflow validates the authorization, waits for
staff (Updates with validators), quotes and collects fees, releases by the chosen method,
records the disclosure and closes; alongside, its clock loop fires the reminder, the 14-day
escalation, the legal-risk escalation and the breach at the right moments. It is the source of
truth; every change is projected to PostgreSQL by an activity.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain import actions
    from domain.correspondence import (
        compose_notice,
        form_and_format,
        release_description,
        release_purpose,
    )
    from domain.denial import DenialReview, ReviewDecision, denial_ground, review_due
    from domain.effects import (
        AuditEvent,
        BatchFulfilled,
        Delivery,
        DeliveryReceipt,
        DisclosureRecord,
        PageCountQuery,
        Projection,
        ReleaseFacts,
        ReleaseFactsQuery,
        ReleaseHold,
        ReleaseStart,
        RequestOutcome,
        ShipmentQuery,
        ShipmentStatus,
        StaffNotification,
        StartRequest,
    )
    from domain.errors import FieldIssue
    from domain.fees import DEFAULT_FEE_SCHEDULE, LEGACY_FEE_SCHEDULE, quote_fee
    from domain.notices import Notice, NoticeKind
    from domain.patients import patient_key
    from domain.release_basis import release_basis_issues, release_time_issues
    from domain.release_safety import QualityCheck, SensitiveReview
    from domain.request import Relationship, business_rules
    from domain.sla import (
        start_clock,
    )
    from domain.state import (
        RequestState,
        authority_role_for,
        guard_assign_reviewer,
        guard_authority,
        guard_complete,
        guard_correct_authorization,
        guard_decide_review,
        guard_deny,
        guard_open,
        guard_payment,
        guard_request_review,
        guard_verify,
        representative_role,
        waiting_status,
    )
    from domain.types import Site, Status
    from workflows import search
    from workflows.base import SHORT, RequestWorkflowBase, refuse

#: The release is judged again at its moment, on workflow time (issue 15).
RELEASE_RECHECK_PATCH = "release-recheck-v1"
#: Third-party fees from the site's schedule, pages counted from the records found (issue 15).
THIRD_PARTY_FEES_PATCH = "third-party-fees-v1"
#: A denial on a reviewable ground waits for the patient's request for review by another
#: licensed professional, and carries the reviewer's decision out (issue 15).
DENIAL_REVIEW_PATCH = "denial-review-v1"
#: The disclosure records the form and format and an unencrypted email (164.524(c)(2)).
FORM_FORMAT_PATCH = "form-format-v1"
#: the representative's authority document is judged before release (164.502(g))
AUTHORITY_PATCH = "authority-document-v1"

TRACKING_EVERY = timedelta(hours=6)
TRACKING_READS = 60  # 15 days of 6-hourly reads, then staff are told
DELIVERY: workflow.ActivityConfig = dict(
    start_to_close_timeout=timedelta(minutes=10),
    heartbeat_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=2)
    ),
)


def _hold_of(cause: ApplicationError, request_id: str) -> dict[str, Any]:
    """A ReleaseHeld activity error as a hold (its details are the blocking issues)."""
    issues = [d for d in cause.details if isinstance(d, dict)]
    return {
        "request_id": request_id,
        "codes": [str(i.get("code")) for i in issues] or ["release_held"],
        "messages": [str(i.get("message")) for i in issues],
    }


@workflow.defn
class RecordRequestWorkflow(RequestWorkflowBase[RequestState]):
    """Access, third-party and imaging requests, from intake to closure."""

    EXTENDED = "Extended to {date}; the requester is told why."
    CANCELLED = "Cancelled at the requester's request."
    CLOCK_WAITS_WHEN_DONE = True

    @workflow.init
    def __init__(self, start: StartRequest) -> None:
        sub = start.submission
        self.state = RequestState(
            request_id=start.request_id,
            tracking_number=start.tracking_number,
            submission=sub,
            clock=start_clock(sub.kind, sub.site, sub.received_at),
        )
        self._init_base()
        self.disclosures = 0
        # Judge the authorization and quote the fee before any Update can be validated.
        self.deceased_on = start.patient_deceased_on
        self.revoked_by: str | None = None
        # fulfillment by the real channels (issue 7)
        self.batch_sent: BatchFulfilled | None = None
        self.hold: ReleaseHold | None = None
        self.sensitive_reviewed_by: str | None = None
        self.approved_by: str | None = None  # who asked for the release that was held
        self.quality_pending = False
        self.quality_checked_by: str | None = None
        # another agreed format (164.524(c)(2)): held until staff confirm they produced it
        self.format_pending = False
        self.format_produced_by: str | None = None
        # fees (issue 15): the legacy schedule until run() switches (patched) to the site's
        self.fee_schedule = LEGACY_FEE_SCHEDULE
        self.pages: int | None = None
        if sub.needs_authorization or self.deceased_on:
            self.state.deficiencies = release_basis_issues(sub, self._today(), self.deceased_on)
            self.state.authorization_valid = not self.state.deficiencies
        self._requote()

    # ---- queries -------------------------------------------------------------------------

    @workflow.query
    def status(self) -> RequestState:
        """The full current state (stage, clocks, deficiencies, fee, flags)."""
        return self.state

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

    async def _fulfil(self) -> bool:
        """Release, record and close; True when a safety check held the release back."""
        sub = self.state.submission
        actor = self.state.completion_requested_by or "system"
        contact = sub.delivery_contact()
        address = contact.address.lines() if contact.address else []
        if workflow.patched(RELEASE_RECHECK_PATCH):
            refused = await self._recheck_before_release()
            if refused is not None:
                return refused
        if sub.needs_authorization and workflow.patched("release-lock-v1"):
            try:
                await workflow.execute_activity(
                    names.BEGIN_RELEASE,
                    ReleaseStart(
                        request_id=self.state.request_id,
                        authorization_ref=f"{self.state.request_id}-authorization",
                        at=workflow.now(),
                    ),
                    **SHORT,
                )
            except ActivityError as error:
                cause = error.cause
                if isinstance(cause, ApplicationError) and cause.type == "AuthorizationRevoked":
                    self.revoked_by = self.revoked_by or "recorded-before-release"
                    await self._stop_for_revocation()
                    return False
                raise
        try:
            receipt: DeliveryReceipt = await workflow.execute_activity(
                names.DELIVER,
                self._delivery(sub, contact.email, address),
                result_type=DeliveryReceipt,
                **DELIVERY,
            )
        except ActivityError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type == "ReleaseHeld":
                await self._hold(ReleaseHold.model_validate(_hold_of(cause, self.state.request_id)))
                return True
            raise
        if receipt.queued and workflow.patched("batch-fulfilment-v1"):
            sent = await self._wait_for_batch(actor)
            if sent is None:
                return self.state.status == Status.READY_TO_RELEASE
            receipt = DeliveryReceipt(
                key=receipt.key,
                method=sent.method,
                reference=sent.reference,
                carrier_tracking_number=sent.carrier_tracking_number,
            )
        await self._disclose_and_close(sub, actor, address, contact.email, receipt)
        return False

    async def _recheck_before_release(self) -> bool | None:
        """Judge the release again now, on workflow time (issue 15): a revocation, the
        authorization's expiry, a death recorded since intake, the release basis. None: it may
        go; False: stopped for good (revoked); True: back with staff (deficient)."""
        sub = self.state.submission
        facts: ReleaseFacts = await workflow.execute_activity(
            names.RELEASE_FACTS,
            ReleaseFactsQuery(
                request_id=self.state.request_id,
                patient_key=patient_key(
                    sub.patient.first_name, sub.patient.last_name, sub.patient.date_of_birth
                ),
            ),
            result_type=ReleaseFacts,
            **SHORT,
        )
        if facts.deceased_on is not None and self.deceased_on is None:
            self.deceased_on = facts.deceased_on
        if sub.needs_authorization and (facts.authorization_revoked or self.revoked_by):
            self.revoked_by = self.revoked_by or "recorded-before-release"
            await self._stop_for_revocation()
            return False
        problems = release_time_issues(sub, self._today(), self.deceased_on)
        if not problems:
            return None
        self.state.deficiencies = problems
        self.state.authorization_valid = False
        self.state.completion_requested_by = None
        await self._report_authorization("system")
        await self._move_to(
            waiting_status(self.state),
            "release.refused_at_release",
            "system",
            codes=[p.code for p in problems],
        )
        return True

    def _delivery(self, sub: Any, email: str | None, address: list[str]) -> Delivery:
        return Delivery(
            key=f"{self.state.request_id}-deliver",
            request_id=self.state.request_id,
            tracking_number=self.state.tracking_number,
            method=sub.delivery_method,
            recipient_name=sub.recipient_name(),
            email=email,
            address_lines=address,
            description=release_description(sub),
            patient_key=patient_key(
                sub.patient.first_name, sub.patient.last_name, sub.patient.date_of_birth
            ),
            submission=sub,
            workflow_id=workflow.info().workflow_id,
            fee_paid_cents=self.state.paid_cents,
            sensitive_reviewed_by=self.sensitive_reviewed_by,
            quality_checked_by=self.quality_checked_by,
            release_on=self._today(),
            fee_quoted_cents=self.state.fee.total_cents,
            format_produced_by=self.format_produced_by,
        )

    async def _wait_for_batch(self, actor: str) -> BatchFulfilled | None:
        """Queued for the site's batch: wait until it sends (or holds) this request."""
        if self.batch_sent is None and self.hold is None:
            await self._move_to(Status.QUEUED_FOR_BATCH, "release.queued_for_batch", actor)
        await workflow.wait_condition(
            lambda: (
                self.batch_sent is not None
                or self.hold is not None
                or self.state.status not in (Status.QUEUED_FOR_BATCH, Status.FULFILLING)
            )
        )
        if self.batch_sent is not None:
            sent = self.batch_sent
            await self._record(
                "release.sent_by_batch",
                "system",
                batch_id=sent.batch_id,
                reference=sent.reference,
                pages=sent.pages,
            )
            return sent
        if self.hold is not None:
            await self._hold(self.hold)
        return None  # cancelled, denied or delivery changed while queued

    async def _hold(self, hold: ReleaseHold) -> None:
        """A safety check stopped the release: nothing left; a specialist gets the reasons."""
        self.hold = None
        self.batch_sent = None
        self.approved_by = self.state.completion_requested_by
        self.quality_pending = "quality_check_required" in hold.codes
        self.format_pending = "other_format_to_produce" in hold.codes
        self.state.completion_requested_by = None
        await self._move_to(
            Status.READY_TO_RELEASE, "release.held", "system", codes=hold.codes, batch=hold.batch_id
        )
        await workflow.execute_activity(
            names.NOTIFY_STAFF,
            StaffNotification(
                key=self._step("release-held"),
                request_id=self.state.request_id,
                audience="assignee",
                kind="release_held",
                at=workflow.now(),
            ),
            **SHORT,
        )

    async def _disclose_and_close(
        self,
        sub: Any,
        actor: str,
        address: list[str],
        email: str | None,
        receipt: DeliveryReceipt,
    ) -> None:
        """Record the disclosure, send the completion letter, close; then follow a shipment."""
        contact_email = email
        fmt, transmission = None, None
        chosen = sub.plain_email or sub.electronic_format != "pdf"
        if chosen and workflow.patched(FORM_FORMAT_PATCH):
            fmt, transmission = form_and_format(sub)
        await workflow.execute_activity(
            names.RECORD_DISCLOSURE,
            DisclosureRecord(
                electronic_format=fmt,
                transmission=transmission,
                key=f"{self.state.request_id}-disclosure",
                request_id=self.state.request_id,
                disclosed_at=workflow.now(),
                disclosed_by=actor,
                recipient_name=sub.recipient_name(),
                recipient_address="\n".join(address) or contact_email,
                description=release_description(sub),
                purpose=release_purpose(sub),
                method=sub.delivery_method,
                category=sub.disclosure_category,
                authorization_ref=(
                    f"{self.state.request_id}-authorization" if sub.needs_authorization else None
                ),
                patient_key=patient_key(
                    sub.patient.first_name, sub.patient.last_name, sub.patient.date_of_birth
                ),
            ),
            **SHORT,
        )
        self.disclosures += 1
        if sub.certified_copy and workflow.patched("certified-copy-v1"):
            await self._notify(NoticeKind.CUSTODIAN_CERTIFICATION)
        await self._notify(NoticeKind.COMPLETION, released_items=[release_description(sub)])
        self.state.closed_at = workflow.now()
        await self._move_to(
            Status.COMPLETED, "request.completed", actor, delivery_reference=receipt.reference
        )
        if receipt.carrier_tracking_number and workflow.patched("fedex-tracking-v1"):
            await self._follow_shipment(receipt.carrier_tracking_number)

    async def _follow_shipment(self, tracking_number: str) -> None:
        """Read the carrier's tracking until delivery, and record it (staff told if it stalls)."""
        for n in range(1, TRACKING_READS + 1):
            await workflow.sleep(TRACKING_EVERY)
            status: ShipmentStatus = await workflow.execute_activity(
                names.TRACK_SHIPMENT,
                ShipmentQuery(
                    key=f"{self.state.request_id}-track-{n}",
                    request_id=self.state.request_id,
                    tracking_number=tracking_number,
                ),
                result_type=ShipmentStatus,
                **SHORT,
            )
            if status.status == "delivered":
                await self._record(
                    "shipment.delivered",
                    "system",
                    tracking_number=tracking_number,
                    delivered_at=status.delivered_at.isoformat() if status.delivered_at else None,
                )
                return
        await self._record("shipment.not_delivered", "system", tracking_number=tracking_number)
        await workflow.execute_activity(
            names.NOTIFY_STAFF,
            StaffNotification(
                key=f"{self.state.request_id}-shipment-stalled",
                request_id=self.state.request_id,
                audience=f"supervisor:{self.state.submission.site.value}",
                kind="shipment_not_delivered",
                at=workflow.now(),
            ),
            **SHORT,
        )

    # ---- batch fulfillment and release safety (signals from the site batch; Updates) -------

    @workflow.signal
    def batch_fulfilled(self, sent: BatchFulfilled) -> None:
        """The site's batch sent this request (a repeat of the same batch is ignored)."""
        waiting = self.state.status in (Status.FULFILLING, Status.QUEUED_FOR_BATCH)
        if waiting and self.batch_sent is None and sent.request_id == self.state.request_id:
            self.batch_sent = sent

    @workflow.signal
    def release_held(self, hold: ReleaseHold) -> None:
        """The site's batch found a reason not to send this request."""
        waiting = self.state.status in (Status.FULFILLING, Status.QUEUED_FOR_BATCH)
        if waiting and self.batch_sent is None and hold.request_id == self.state.request_id:
            self.hold = hold

    @workflow.update
    async def review_sensitive(self, review: SensitiveReview) -> actions.ActionResult:
        """A specialist reviewed the sensitive information the authorization names."""
        self.sensitive_reviewed_by = review.actor
        await self._record("sensitive.reviewed", review.actor, note=review.note)
        return self._result("Sensitive information reviewed; it may be released.")

    @workflow.update
    async def confirm_quality(self, check: QualityCheck) -> actions.ActionResult:
        """A second specialist confirmed the packet; the release goes on (both are recorded)."""
        self.quality_checked_by = check.actor
        self.quality_pending = False
        await self._record(
            "quality.confirmed", check.actor, approved_by=self.approved_by, note=check.note
        )
        self.state.completion_requested_by = self.approved_by
        await self._move_to(Status.FULFILLING, "release.approved", self.approved_by or check.actor)
        return self._result("Quality check recorded; the release goes ahead.")

    @workflow.update
    async def confirm_format(self, action: actions.ConfirmFormat) -> actions.ActionResult:
        """Staff produced the copy in the other format agreed with the patient; the release
        that waited for it goes on."""
        self.format_produced_by = action.actor
        self.format_pending = False
        await self._record("format.produced", action.actor, note=action.note)
        self.state.completion_requested_by = self.approved_by or action.actor
        await self._move_to(Status.FULFILLING, "release.approved", self.approved_by or action.actor)
        return self._result("Format recorded as produced; the release goes ahead.")

    @confirm_format.validator
    def _validate_confirm_format(self, action: actions.ConfirmFormat) -> None:
        refuse(guard_complete(self.state))
        if not self.format_pending:
            refuse(
                [
                    FieldIssue(
                        field="status",
                        code="no_format_pending",
                        message="This request is not waiting for a copy in another format.",
                    )
                ]
            )

    @confirm_quality.validator
    def _validate_confirm_quality(self, check: QualityCheck) -> None:
        refuse(guard_complete(self.state))
        problems = []
        if not self.quality_pending:
            problems.append(
                FieldIssue(
                    field="status",
                    code="no_quality_check_pending",
                    message="This request is not waiting for a quality check.",
                )
            )
        elif check.actor == self.approved_by:
            problems.append(
                FieldIssue(
                    field="actor",
                    code="same_specialist",
                    message="The quality check is done by a second specialist, not the approver.",
                )
            )
        problems += [
            FieldIssue(field=name, code="not_confirmed", message="Confirm this before release.")
            for name in check.unconfirmed()
        ]
        refuse(problems)

    @review_sensitive.validator
    def _validate_review_sensitive(self, review: SensitiveReview) -> None:
        refuse(guard_open(self.state))

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

    async def _stop_for_revocation(self) -> None:
        self.state.outcome_note = "authorization_revoked"
        self.state.closed_at = workflow.now()
        await self._notify(NoticeKind.RELEASE_STOPPED)
        await self._move_to(
            Status.CANCELLED, "release.stopped_revoked", "system", revocation=self.revoked_by
        )

    # ---- staff actions (Updates) ---------------------------------------------------------

    @workflow.update
    async def verify(self, action: actions.VerifyIdentity) -> actions.ActionResult:
        """A specialist verified identity (and a representative's authority)."""
        self.state.verified = True
        self.state.verified_by = action.actor
        detail: dict[str, Any] = {}
        if action.authority_document is not None:
            self._confirm_authority(action.authority_document)
            detail["authority_document"] = action.authority_document.value
        await self._move_to(
            waiting_status(self.state),
            "identity.verified",
            action.actor,
            method=action.method.value,
            authority_confirmed=action.authority_confirmed,
            **detail,
        )
        return self._result("Identity verified.")

    @verify.validator
    def _validate_verify(self, action: actions.VerifyIdentity) -> None:
        refuse(guard_verify(self.state))
        sub = self.state.submission
        representative = sub.requester.relationship != Relationship.SELF
        if sub.under_right_of_access and representative and not action.authority_confirmed:
            refuse(
                [
                    FieldIssue(
                        field="authority_confirmed",
                        code="authority_not_confirmed",
                        message="A personal representative's legal authority must be checked.",
                    )
                ]
            )
        # an authorization signed by a representative: the document type, against the list
        refuse(
            guard_authority(
                self.state, action.authority_document, required=not sub.under_right_of_access
            )
        )

    def _confirm_authority(self, document: Any) -> None:
        self.state.authority_document = document
        self.state.authority_role = authority_role_for(self.state.submission, document)

    @workflow.update
    async def confirm_authority(self, action: actions.ConfirmAuthority) -> actions.ActionResult:
        """Staff confirmed the representative's authority document (e.g. after a corrected
        authorization changed who signed)."""
        self._confirm_authority(action.authority_document)
        await self._move_to(
            waiting_status(self.state),
            "authority.confirmed",
            action.actor,
            authority_document=action.authority_document.value,
        )
        return self._result("The representative's authority is confirmed.")

    @confirm_authority.validator
    def _validate_confirm_authority(self, action: actions.ConfirmAuthority) -> None:
        refuse(guard_open(self.state))
        if representative_role(self.state.submission) is None:
            refuse(
                [
                    FieldIssue(
                        field="authority_document",
                        code="no_representative",
                        message="The patient acts for themselves; there is no authority to check.",
                    )
                ]
            )
        refuse(guard_authority(self.state, action.authority_document, required=True))

    @workflow.update
    async def mark_deficient(self, action: actions.MarkDeficient) -> actions.ActionResult:
        """A specialist found the authorization deficient for reasons the rules cannot see."""
        self.state.authorization_valid = False
        self.state.deficiencies = action.deficiencies
        await self._notify(NoticeKind.DEFICIENCY, deficiencies=self.state.deficiencies)
        await self._move_to(
            Status.DEFICIENT,
            "authorization.marked_deficient",
            action.actor,
            codes=[d.code for d in action.deficiencies],
        )
        return self._result("Marked deficient; the requester is sent a deficiency notice.")

    @mark_deficient.validator
    def _validate_mark_deficient(self, action: actions.MarkDeficient) -> None:
        refuse(guard_correct_authorization(self.state))

    @workflow.update
    async def correct_authorization(
        self, action: actions.CorrectAuthorization
    ) -> actions.ActionResult:
        """A corrected authorization arrived; validate it again."""
        self.state.submission = self.state.submission.model_copy(
            update={"authorization": action.authorization}
        )
        await self._check_authorization(action.actor)
        await self._move_to(waiting_status(self.state), "authorization.corrected", action.actor)
        if self.state.authorization_valid:
            return self._result("The corrected authorization is valid.")
        return self._result(
            "The corrected authorization is still deficient; a new notice was sent."
        )

    @correct_authorization.validator
    def _validate_correct_authorization(self, action: actions.CorrectAuthorization) -> None:
        refuse(guard_correct_authorization(self.state))

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
                [
                    FieldIssue(
                        field="method",
                        code="already_paid",
                        message="A fee was already paid; refund it before changing delivery.",
                    )
                ]
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
    async def deny(self, action: actions.Deny) -> actions.ActionResult:
        """Deny the request, with the basis (164.524(a)) the letter explains."""
        ground = denial_ground(action.basis)
        if ground.reviewable and workflow.patched(DENIAL_REVIEW_PATCH):
            self.state.review = DenialReview(
                basis=action.basis,
                denied_by=action.actor,
                professional=action.professional,
                denied_at=workflow.now(),
            )
        self.state.outcome_note = action.basis.value
        self.state.closed_at = workflow.now()
        await self._notify(
            NoticeKind.DENIAL, denial_basis=action.basis, denial_explanation=action.explanation
        )
        await self._move_to(
            Status.DENIED,
            "request.denied",
            action.actor,
            basis=action.basis.value,
            reviewable=ground.reviewable,
        )
        return self._result("Denied; the denial letter was sent.")

    @deny.validator
    def _validate_deny(self, action: actions.Deny) -> None:
        refuse(guard_deny(self.state))

    # ---- review of a denial by another licensed professional (164.524(a)(4)) ------------

    async def _review_of_denial(self) -> bool:
        """A reviewable denial: wait for the patient's request for review (within the site's
        window), then for the reviewer's decision on its clock (supervisors told when it is
        late). True when the review reversed the denial and the request went back to work."""
        review = self.state.review
        if review is None or self.state.status != Status.DENIED or review.decision is not None:
            return False
        try:
            await workflow.wait_condition(
                lambda: self.state.status != Status.DENIED,
                timeout=review.window_ends_at - workflow.now(),
            )
        except TimeoutError:
            await self._record("denial.review_window_closed", "system")
            return False
        if not self._in(Status.DENIAL_REVIEW):  # cancelled, or the window passed
            return False
        due_at = review.due_at or workflow.now()
        try:
            await workflow.wait_condition(
                lambda: self.state.status != Status.DENIAL_REVIEW,
                timeout=max(due_at - workflow.now(), timedelta(seconds=1)),
            )
        except TimeoutError:
            review.overdue = True
            await self._record("denial.review_overdue", "system", due_at=due_at.isoformat())
            await workflow.execute_activity(
                names.NOTIFY_STAFF,
                StaffNotification(
                    key=f"{self.state.request_id}-denial-review-overdue",
                    request_id=self.state.request_id,
                    audience=f"supervisor:{self.state.submission.site.value}",
                    kind="denial_review_overdue",
                    at=workflow.now(),
                ),
                **SHORT,
            )
            await workflow.wait_condition(lambda: self.state.status != Status.DENIAL_REVIEW)
        return review.decision == ReviewDecision.REVERSE and self.state.is_open

    def _in(self, status: Status) -> bool:
        return self.state.status == status

    @workflow.update
    async def request_review(self, action: actions.RequestDenialReview) -> actions.ActionResult:
        """The patient asked for the denial to be reviewed: the review's clock starts."""
        review = self.state.review
        assert review is not None  # the validator checked
        review.requested_at = workflow.now()
        review.requested_by = action.actor
        review.due_at = review_due(review.requested_at)
        self.state.closed_at = None
        await self._move_to(
            Status.DENIAL_REVIEW,
            "denial.review_requested",
            action.actor,
            due_at=review.due_at.isoformat(),
            note=action.note,
        )
        return self._result(
            "Review requested; assign a licensed professional who did not take part in the "
            f"denial. The decision is due by {review.due_at.date().isoformat()}."
        )

    @request_review.validator
    def _validate_request_review(self, action: actions.RequestDenialReview) -> None:
        refuse(guard_request_review(self.state))

    @workflow.update
    async def assign_reviewer(self, action: actions.AssignReviewer) -> actions.ActionResult:
        """The reviewing professional is named (never the one who denied)."""
        review = self.state.review
        assert review is not None  # the validator checked
        review.reviewer = action.reviewer
        review.assigned_by = action.actor
        await self._record("denial.reviewer_assigned", action.actor)
        return self._result("Reviewer assigned.")

    @assign_reviewer.validator
    def _validate_assign_reviewer(self, action: actions.AssignReviewer) -> None:
        refuse(guard_assign_reviewer(self.state, action.reviewer, action.licensed_professional))

    @workflow.update
    async def decide_review(self, action: actions.DecideReview) -> actions.ActionResult:
        """The reviewer's decision, carried out at once: the denial stands (a letter says so,
        with the complaint routes) or the records are released."""
        review = self.state.review
        assert review is not None  # the validator checked
        review.decision = action.decision
        review.decided_at = workflow.now()
        review.explanation = action.explanation
        await self._notify(
            NoticeKind.DENIAL_REVIEWED,
            denial_basis=review.basis,
            review_decision=action.decision.value,
            denial_explanation=action.explanation,
        )
        if action.decision == ReviewDecision.UPHOLD:
            self.state.closed_at = workflow.now()
            await self._move_to(Status.DENIED, "denial.review_upheld", action.actor)
            return self._result("The denial was upheld; the patient is told in writing.")
        self.state.outcome_note = None
        ready = not guard_complete(
            self.state.model_copy(update={"status": Status.READY_TO_RELEASE})
        )
        if ready:  # nothing else is missing: the release goes out now
            self.state.completion_requested_by = action.actor
            await self._move_to(Status.FULFILLING, "denial.review_reversed", action.actor)
            return self._result("The denial was reversed; the records are being released.")
        await self._move_to(waiting_status(self.state), "denial.review_reversed", action.actor)
        return self._result("The denial was reversed; finish the release steps shown.")

    @decide_review.validator
    def _validate_decide_review(self, action: actions.DecideReview) -> None:
        refuse(guard_decide_review(self.state))

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
                [
                    FieldIssue(
                        field="authorization",
                        code="authorization_revoked",
                        message="The authorization was revoked; nothing can be released.",
                    )
                ]
            )

    def _requote(self) -> None:
        sub = self.state.submission
        self.state.fee = quote_fee(
            site=sub.site,
            delivery=sub.delivery_method,
            under_right_of_access=sub.under_right_of_access,
            pages=self.pages,
            schedule=self.fee_schedule,
            requester=sub.requester.relationship.value,
            kind=sub.kind,
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

    async def _check_authorization(self, actor: str) -> None:
        problems = release_basis_issues(self.state.submission, self._today(), self.deceased_on)
        self.state.deficiencies = problems
        self.state.authorization_valid = not problems
        await self._report_authorization(actor)

    async def _report_authorization(self, actor: str) -> None:
        problems = self.state.deficiencies
        await self._record(
            "authorization.checked", actor, valid=not problems, codes=[p.code for p in problems]
        )
        if problems:
            await self._notify(NoticeKind.DEFICIENCY, deficiencies=problems)

    # ---- the base's hooks ----------------------------------------------------------------

    def _site(self) -> Site:
        return self.state.submission.site

    def _projection(self, event: AuditEvent) -> tuple[str, Any]:
        return names.PROJECT, Projection(state=self.state, version=self.version, event=event)

    def _compose_notice(self, kind: NoticeKind, **fields: Any) -> Notice:
        return compose_notice(self.state, kind, self._today(), **fields)

    def _guard_open(self) -> list[FieldIssue]:
        return guard_open(self.state)

    async def _withdraw(self, action: actions.Cancel) -> None:
        self.state.outcome_note = "withdrawn"
        self.state.closed_at = workflow.now()
        await self._notify(NoticeKind.CANCELLATION, cancellation_reason=action.reason)
        await self._move_to(Status.CANCELLED, "request.cancelled", action.actor)

    def _search_dates_changed(self) -> None:
        self._upsert_search()

    def _clock_running(self) -> bool:
        return self.state.is_open and self.state.review is None

    def _clock_stopped(self) -> bool:
        return not self.state.is_open

    def _upsert_search(self) -> None:
        workflow.upsert_search_attributes(
            [
                search.STATUS.value_set(self.state.status.value),
                search.LEGAL_DUE.value_set(self.state.clock.due_at),
                search.BREACHED.value_set(self.state.breached),
            ]
        )
