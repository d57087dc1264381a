"""Fulfilment of a records request: the release, and what follows it.

The pre-release recheck (on workflow time), the release lock against a revocation, the delivery
(at most once, by the chosen channel), the wait for the site's batch (mail, CD, FedEx), a hold
that sends the request back to a specialist, the disclosure and the completion letter, and the
carrier's tracking read until the shipment is delivered.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain.correspondence import form_and_format, release_description, release_purpose
    from domain.effects import (
        BatchFulfilled,
        Delivery,
        DeliveryReceipt,
        DisclosureRecord,
        ReleaseFacts,
        ReleaseFactsQuery,
        ReleaseHold,
        ReleaseStart,
        ShipmentQuery,
        ShipmentStatus,
    )
    from domain.notices import NoticeKind
    from domain.patients import patient_key
    from domain.release_basis import release_time_issues
    from domain.request import RecordRequestSubmission
    from domain.state import waiting_status
    from domain.types import Status
    from workflows.base import SHORT
    from workflows.request_base import RecordRequestBase

#: The release is judged again at its moment, on workflow time (issue 15).
RELEASE_RECHECK_PATCH = "release-recheck-v1"
#: The disclosure records the form and format and an unencrypted email (164.524(c)(2)).
FORM_FORMAT_PATCH = "form-format-v1"

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


class Fulfilment(RecordRequestBase):
    """The release and what follows it (a part of RecordRequestWorkflow)."""

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

    def _delivery(
        self, sub: RecordRequestSubmission, email: str | None, address: list[str]
    ) -> Delivery:
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
        await self._tell_staff(self._step("release-held"), "release_held")

    async def _disclose_and_close(
        self,
        sub: RecordRequestSubmission,
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
        stalled = f"{self.state.request_id}-shipment-stalled"
        await self._tell_staff(stalled, "shipment_not_delivered", self._supervisors())

    # ---- the site batch's answers (signals) ----------------------------------------------

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
