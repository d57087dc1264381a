"""One durable workflow per non-copy request kind (issue 6), on the shared CaseWorkflow base.

- AmendmentWorkflow (164.526): 60 days + one 30-day extension; accept (notify everyone who
  must know, each tracked) or deny on one of four bases (then a statement of disagreement and a
  rebuttal may follow, all linked to the record).
- RevocationWorkflow (164.508(b)(5)): applied the moment it is received; pending releases under
  the authorization stop; a release already started stands.
- ProxyAccessWorkflow: documents checked by a specialist; access granted until the minor comes
  of age or the document ends (a timer), or until revoked.
- BillingWorkflow: routed to the billing office, tracked to an answer.
- DataIntegrityWorkflow: deceased-patient and adoption notifications for HIMS Data Integrity.
- AccountingWorkflow (164.528): 60 days + 30; first in 12 months free, a later one only after
  the patient is told the fee and may withdraw.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, time, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain import actions
    from domain.effects import (
        AccountingQuery,
        AmendmentOutcome,
        HandOff,
        ProxyChange,
        RegistryUpdate,
        RevocationApply,
        RevokedAuthorization,
    )
    from domain.fees import FeeLine, FeeQuote
    from domain.ids import workflow_id_for
    from domain.kinds import adoption, amendment
    from domain.kinds.accounting import (
        AccountingRequest,
        DisclosureEntry,
        accounting_entries,
        accounting_fee_cents,
        accounting_period,
    )
    from domain.kinds.case import CaseStart, CaseState, guard_case_status
    from domain.kinds.deceased import DeceasedNotice
    from domain.kinds.proxy import ProxyRequest, proxy_expiry
    from domain.notices import NoticeKind
    from domain.sites import site_profile
    from domain.types import RequestKind, Status
    from workflows.base import SHORT, refusal, refuse
    from workflows.case_base import CaseWorkflow
    from workflows.record_request import RecordRequestWorkflow

#: The revocation letter lists what it stopped and, apart, what had already been released in
#: reliance before it arrived (issue 15); histories before it listed every request as stopped.
REVOCATION_RELIANCE_PATCH = "revocation-reliance-v1"
#: The accounting leaves out disclosures an agency's suspension still covers (issue 15, hole 7).
ACCOUNTING_SUSPENSION_PATCH = "accounting-suspension-v1"

# ---- amendment ----------------------------------------------------------------------------


@workflow.defn
class AmendmentWorkflow(CaseWorkflow):
    """A request to amend the record, worked by the Amendment Request Specialist."""

    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        self._init_case(start)
        self.request = amendment.AmendmentRequest.model_validate(start.submission)

    @workflow.run
    async def run(self, start: CaseStart) -> CaseState:
        clock = await self._begin()
        await self._notify(NoticeKind.ACKNOWLEDGEMENT)
        await self._move_to(Status.UNDER_REVIEW, "request.routed", "system", team=start.team)
        await workflow.wait_condition(
            lambda: (
                self.state.status in (Status.NOTIFYING, Status.AWAITING_DISAGREEMENT)
                or not self.state.is_open
            )
        )
        if self.state.status == Status.NOTIFYING:
            await self._notify_holders()
        elif self.state.status == Status.AWAITING_DISAGREEMENT:
            await self._await_disagreement()
        return await self._finish(clock)

    def _outcome(self, outcome: str, **extra: str | None) -> AmendmentOutcome:
        start = self.state.start
        return AmendmentOutcome(
            request_id=start.request_id,
            patient_key=start.patient_key,
            outcome=outcome,
            record_description=self.request.record_description,
            at=workflow.now(),
            **extra,
        )

    @workflow.update
    async def accept(self, action: actions.AcceptAmendment) -> actions.ActionResult:
        """Amend the record; the patient is told and the people who must know are notified."""
        self.state.outcome["amendment_text"] = action.amendment_text
        self.state.outcome["holders"] = [h.model_dump() for h in action.known_holders]
        await workflow.execute_activity(
            names.RECORD_AMENDMENT,
            self._outcome("accepted", amendment_text=action.amendment_text),
            **SHORT,
        )
        await self._notify(
            NoticeKind.AMENDMENT_ACCEPTED,
            amendment_summary=action.amendment_text,
            notified_names=[p.name for p in self._people_to_notify()],
        )
        await self._move_to(Status.NOTIFYING, "amendment.accepted", action.actor)
        return self._result("Amendment accepted; notifications are being sent.")

    @accept.validator
    def _validate_accept(self, action: actions.AcceptAmendment) -> None:
        refuse(guard_case_status(self.state, Status.UNDER_REVIEW))

    def _people_to_notify(self) -> list[amendment.PersonToNotify]:
        extra = [
            amendment.PersonToNotify.model_validate(h)
            for h in self.state.outcome.get("holders", [])
        ]
        return [*self.request.notify, *extra]

    async def _notify_holders(self) -> None:
        """Each person the patient named, and each known holder, gets the amendment; tracked."""
        for i, person in enumerate(self._people_to_notify()):
            await self._notify(
                NoticeKind.AMENDMENT_NOTIFICATION,
                recipient_name=person.name,
                recipient_address=person.address_lines,
                amendment_summary=self.state.outcome["amendment_text"],
            )
            await self._record("amendment.notified", "system", recipient_index=i)
        await self._close(Status.COMPLETED, "request.completed", "system")

    @workflow.update
    async def deny(self, action: actions.DenyAmendment) -> actions.ActionResult:
        """Deny on one of the four 164.526(a)(2) bases."""
        self.state.outcome["denial_basis"] = action.basis.value
        await workflow.execute_activity(
            names.RECORD_AMENDMENT,
            self._outcome("denied", denial_basis=action.basis.value),
            **SHORT,
        )
        await self._notify(
            NoticeKind.AMENDMENT_DENIED,
            amendment_denial_basis=action.basis.value,
            denial_explanation=action.explanation,
        )
        await self._move_to(
            Status.AWAITING_DISAGREEMENT, "amendment.denied", action.actor, basis=action.basis.value
        )
        return self._result("Denied; the letter explains the right to file a disagreement.")

    @deny.validator
    def _validate_deny(self, action: actions.DenyAmendment) -> None:
        refuse(guard_case_status(self.state, Status.UNDER_REVIEW))

    async def _await_disagreement(self) -> None:
        try:
            await workflow.wait_condition(
                lambda: "disagreement" in self.state.outcome or not self.state.is_open,
                timeout=timedelta(days=amendment.DisagreementWindow.DAYS),
            )
        except TimeoutError:
            await self._close(Status.COMPLETED, "amendment.no_disagreement", "system")
            return
        if not self.state.is_open:
            return
        # a rebuttal may follow; the case stays open for the specialist to file it or close it
        await workflow.wait_condition(lambda: not self.state.is_open)

    @workflow.update
    async def file_disagreement(self, action: actions.FileStatement) -> actions.ActionResult:
        """The patient's statement of disagreement, linked to the record."""
        self.state.outcome["disagreement"] = action.text
        await workflow.execute_activity(
            names.RECORD_AMENDMENT,
            self._outcome(
                "denied", denial_basis=self.state.outcome["denial_basis"], disagreement=action.text
            ),
            **SHORT,
        )
        await self._record("amendment.disagreement_filed", action.actor)
        return self._result("Statement of disagreement linked to the record.")

    @file_disagreement.validator
    def _validate_disagreement(self, action: actions.FileStatement) -> None:
        refuse(guard_case_status(self.state, Status.AWAITING_DISAGREEMENT))
        if "disagreement" in self.state.outcome:
            refuse(
                refusal("text", "already_filed", "A statement of disagreement is already filed.")
            )

    @workflow.update
    async def file_rebuttal(self, action: actions.FileStatement) -> actions.ActionResult:
        """The hospital's rebuttal; the patient gets a copy; the case closes."""
        self.state.outcome["rebuttal"] = action.text
        await workflow.execute_activity(
            names.RECORD_AMENDMENT,
            self._outcome(
                "denied",
                denial_basis=self.state.outcome["denial_basis"],
                disagreement=self.state.outcome["disagreement"],
                rebuttal=action.text,
            ),
            **SHORT,
        )
        await self._close(Status.COMPLETED, "amendment.rebuttal_filed", action.actor)
        return self._result("Rebuttal linked to the record; the request is closed.")

    @file_rebuttal.validator
    def _validate_rebuttal(self, action: actions.FileStatement) -> None:
        refuse(guard_case_status(self.state, Status.AWAITING_DISAGREEMENT))
        if "disagreement" not in self.state.outcome:
            refuse(
                refusal(
                    "text", "no_disagreement", "There is no statement of disagreement to rebut."
                )
            )


# ---- revocation ---------------------------------------------------------------------------


@workflow.defn
class RevocationWorkflow(CaseWorkflow):
    """A written revocation: recorded at once; pending releases under it stop."""

    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        self._init_case(start)

    @workflow.run
    async def run(self, start: CaseStart) -> CaseState:
        clock = await self._begin()
        refs = [str(r).upper() for r in start.submission["authorizations"]]
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
        self.state.outcome = {
            "revoked": [d.tracking_number for d in done if d.request_id],
            "unknown": [d.tracking_number for d in done if not d.request_id],
            "released_before": [d.tracking_number for d in done if d.released_before],
        }
        if workflow.patched(REVOCATION_RELIANCE_PATCH):
            released = set(self.state.outcome["released_before"])
            self.state.outcome["stopped"] = [
                ref for ref in self.state.outcome["revoked"] if ref not in released
            ]
            await self._notify(
                NoticeKind.REVOCATION_CONFIRMED,
                revoked_references=self.state.outcome["stopped"],
                released_references=self.state.outcome["released_before"],
            )
        else:
            await self._notify(
                NoticeKind.REVOCATION_CONFIRMED, revoked_references=self.state.outcome["revoked"]
            )
        await self._close(Status.COMPLETED, "revocation.applied", "system", **self.state.outcome)
        return await self._finish(clock)


# ---- proxy access -------------------------------------------------------------------------


@workflow.defn
class ProxyAccessWorkflow(CaseWorkflow):
    """Proxy access: checked by a specialist, granted with an expiry enforced by a timer."""

    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        self._init_case(start)
        self.request = ProxyRequest.model_validate(start.submission)
        self.end_reason: str | None = None

    @workflow.run
    async def run(self, start: CaseStart) -> CaseState:
        clock = await self._begin()
        await self._notify(NoticeKind.ACKNOWLEDGEMENT)
        await self._move_to(Status.UNDER_REVIEW, "request.routed", "system")
        await workflow.wait_condition(
            lambda: self.state.status == Status.ACTIVE or not self.state.is_open
        )
        if self.state.status == Status.ACTIVE:
            await self._until_access_ends()
        return await self._finish(clock)

    def _change(self, grant: bool, reason: str | None = None) -> ProxyChange:
        start = self.state.start
        return ProxyChange(
            key=self._step("proxy-grant" if grant else "proxy-end"),
            request_id=start.request_id,
            patient_key=start.patient_key,
            proxy_name=start.requester_name,
            basis=self.request.basis.value,
            grant=grant,
            expires_on=proxy_expiry(self.request),
            reason=reason,
            at=workflow.now(),
        )

    @workflow.update
    async def decide(self, action: actions.ProxyDecision) -> actions.ActionResult:
        """Approve (documents prove authority) or deny the proxy."""
        if not action.approve:
            self.state.outcome["denied_because"] = action.reason
            await self._notify(NoticeKind.PROXY_DENIED, denial_explanation=action.reason or "")
            await self._close(Status.DENIED, "proxy.denied", action.actor)
            return self._result("Proxy access denied; the requester is told why.")
        expires = proxy_expiry(self.request)
        self.state.outcome["expires_on"] = expires.isoformat() if expires else None
        await workflow.execute_activity(names.CHANGE_PROXY, self._change(True), **SHORT)
        await self._notify(
            NoticeKind.PROXY_GRANTED,
            proxy_name=self.state.start.requester_name,
            access_expires_on=expires,
        )
        await self._move_to(
            Status.ACTIVE,
            "proxy.granted",
            action.actor,
            expires_on=self.state.outcome["expires_on"],
        )
        return self._result("Proxy access granted.")

    @decide.validator
    def _validate_decide(self, action: actions.ProxyDecision) -> None:
        refuse(guard_case_status(self.state, Status.UNDER_REVIEW))
        if not action.approve and not action.reason:
            refuse(refusal("reason", "reason_required", "Say why the proxy is denied."))
        if action.approve and not action.documents_verified:
            refuse(
                refusal(
                    "documents_verified",
                    "documents_not_verified",
                    "Check the documents that prove authority before granting access.",
                )
            )

    async def _until_access_ends(self) -> None:
        expires = proxy_expiry(self.request)
        timeout = None
        if expires is not None:
            profile = site_profile(self.state.start.site)
            ends_at = datetime.combine(expires, time(0, 0), tzinfo=profile.zone)
            timeout = max(ends_at - workflow.now(), timedelta(seconds=1))
        try:
            await workflow.wait_condition(lambda: self.end_reason is not None, timeout=timeout)
        except TimeoutError:
            self.end_reason = "expired"
        await workflow.execute_activity(
            names.CHANGE_PROXY, self._change(False, self.end_reason), **SHORT
        )
        await self._notify(NoticeKind.PROXY_ENDED, proxy_name=self.state.start.requester_name)
        self.state.outcome["ended_because"] = self.end_reason
        await self._close(Status.EXPIRED, "proxy.ended", "system", reason=self.end_reason)

    @workflow.update
    async def revoke(self, action: actions.Cancel) -> actions.ActionResult:
        """End proxy access now (the document was revoked, or the patient withdrew it)."""
        self.end_reason = "revoked"
        self.state.outcome["revoked_because"] = action.reason
        await self._record("proxy.revoke_requested", action.actor)
        return self._result("Proxy access is being ended.")

    @revoke.validator
    def _validate_revoke(self, action: actions.Cancel) -> None:
        refuse(guard_case_status(self.state, Status.ACTIVE))


# ---- billing ------------------------------------------------------------------------------


@workflow.defn
class BillingWorkflow(CaseWorkflow):
    """A billing information request, routed to billing and tracked to an answer."""

    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        self._init_case(start)

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
                summary=str(start.submission.get("question", "")),
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


# ---- HIMS data integrity: deceased and adoption ------------------------------------------


@workflow.defn
class DataIntegrityWorkflow(CaseWorkflow):
    """Deceased-patient and adoption notifications, worked by HIMS Data Integrity."""

    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        self._init_case(start)

    @workflow.run
    async def run(self, start: CaseStart) -> CaseState:
        clock = await self._begin()
        if start.kind == RequestKind.ADOPTION_NOTICE:
            document = adoption.AdoptionDocument(start.submission["document_type"])
            accepted, reason = adoption.document_decision(document)
            if not accepted:
                await self._reject(reason, "system")
                return await self._finish(clock)
        await self._notify(NoticeKind.ACKNOWLEDGEMENT)
        await self._move_to(Status.UNDER_REVIEW, "request.routed", "system", team=start.team)
        return await self._finish(clock)

    async def _reject(self, reason: str, actor: str) -> None:
        self.state.outcome["rejected_because"] = reason
        await self._notify(
            NoticeKind.ADOPTION_REJECTED,
            rejection_reason=reason,
            accepted_documents=list(adoption.ACCEPTED.values()),
        )
        await self._close(Status.REJECTED, "adoption.rejected", actor)

    @workflow.update
    async def confirm(self, action: actions.ConfirmUpdate) -> actions.ActionResult:
        """Data Integrity confirms: the record is updated (deceased, or the adoption)."""
        start = self.state.start
        if start.kind == RequestKind.ADOPTION_NOTICE and not action.complete_copy:
            await self._reject(
                "The document must be a complete copy, every page included.", action.actor
            )
            return self._result("Rejected: the copy is incomplete; the parents are told why.")
        deceased_on = None
        if start.kind == RequestKind.DECEASED_NOTICE:
            deceased_on = DeceasedNotice.model_validate(start.submission).patient.date_of_death
        await workflow.execute_activity(
            names.UPDATE_REGISTRY,
            RegistryUpdate(
                key=f"{start.request_id}-registry",
                request_id=start.request_id,
                patient_key=start.patient_key,
                deceased_on=deceased_on,
                adoption=start.kind == RequestKind.ADOPTION_NOTICE,
                at=workflow.now(),
            ),
            **SHORT,
        )
        if start.kind == RequestKind.ADOPTION_NOTICE:
            document = adoption.AdoptionDocument(start.submission["document_type"])
            await self._notify(
                NoticeKind.ADOPTION_ACCEPTED, document_name=adoption.ACCEPTED[document]
            )
        else:
            await self._notify(NoticeKind.DECEASED_RECORDED)
        await self._close(Status.COMPLETED, "registry.updated", action.actor)
        return self._result("The record is updated.")

    @confirm.validator
    def _validate_confirm(self, action: actions.ConfirmUpdate) -> None:
        refuse(guard_case_status(self.state, Status.UNDER_REVIEW))


# ---- accounting of disclosures ------------------------------------------------------------


@workflow.defn
class AccountingWorkflow(CaseWorkflow):
    """An accounting of disclosures for the 6 years before the request (or a shorter period)."""

    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        self._init_case(start)
        self.request = AccountingRequest.model_validate(start.submission)
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
        self.state.outcome = {
            "entries": len(included),
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
        }
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


CASE_WORKFLOWS = {
    RequestKind.AMENDMENT: AmendmentWorkflow,
    RequestKind.REVOCATION: RevocationWorkflow,
    RequestKind.PROXY_ACCESS: ProxyAccessWorkflow,
    RequestKind.BILLING: BillingWorkflow,
    RequestKind.DECEASED_NOTICE: DataIntegrityWorkflow,
    RequestKind.ADOPTION_NOTICE: DataIntegrityWorkflow,
    RequestKind.ACCOUNTING: AccountingWorkflow,
}
