"""AmendmentWorkflow (164.526): 60 days and one 30-day extension; accept (everyone who must
know is notified, each tracked) or deny on one of four bases, after which a statement of
disagreement and a rebuttal may follow, all linked to the record.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain import actions
    from domain.effects import AmendmentOutcome
    from domain.kinds import amendment
    from domain.kinds.case import CaseStart, CaseState, guard_case_status
    from domain.notices import NoticeKind
    from domain.types import Status
    from workflows.base import SHORT, refusal, refuse
    from workflows.case_base import CaseWorkflow


@workflow.defn
class AmendmentWorkflow(CaseWorkflow):
    """A request to amend the record, worked by the Amendment Request Specialist."""

    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        super().__init__(start)
        self.request = start.submission_as(amendment.AmendmentRequest)

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

    def _denial_basis(self) -> str | None:
        basis = self.state.outcome.denial_basis
        return None if basis is None else basis.value

    @workflow.update
    async def accept(self, action: actions.AcceptAmendment) -> actions.ActionResult:
        """Amend the record; the patient is told and the people who must know are notified."""
        self.state.outcome.amendment_text = action.amendment_text
        self.state.outcome.holders = list(action.known_holders)
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
        return [*self.request.notify, *(self.state.outcome.holders or [])]

    async def _notify_holders(self) -> None:
        """Each person the patient named, and each known holder, gets the amendment; tracked."""
        for i, person in enumerate(self._people_to_notify()):
            await self._notify(
                NoticeKind.AMENDMENT_NOTIFICATION,
                recipient_name=person.name,
                recipient_address=person.address_lines,
                amendment_summary=self.state.outcome.amendment_text,
            )
            await self._record("amendment.notified", "system", recipient_index=i)
        await self._close(Status.COMPLETED, "request.completed", "system")

    @workflow.update
    async def deny(self, action: actions.DenyAmendment) -> actions.ActionResult:
        """Deny on one of the four 164.526(a)(2) bases."""
        self.state.outcome.denial_basis = action.basis
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
                lambda: self.state.outcome.disagreement is not None or not self.state.is_open,
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
        self.state.outcome.disagreement = action.text
        await workflow.execute_activity(
            names.RECORD_AMENDMENT,
            self._outcome("denied", denial_basis=self._denial_basis(), disagreement=action.text),
            **SHORT,
        )
        await self._record("amendment.disagreement_filed", action.actor)
        return self._result("Statement of disagreement linked to the record.")

    @file_disagreement.validator
    def _validate_disagreement(self, action: actions.FileStatement) -> None:
        refuse(guard_case_status(self.state, Status.AWAITING_DISAGREEMENT))
        if self.state.outcome.disagreement is not None:
            refuse(
                refusal("text", "already_filed", "A statement of disagreement is already filed.")
            )

    @workflow.update
    async def file_rebuttal(self, action: actions.FileStatement) -> actions.ActionResult:
        """The hospital's rebuttal; the patient gets a copy; the case closes."""
        self.state.outcome.rebuttal = action.text
        await workflow.execute_activity(
            names.RECORD_AMENDMENT,
            self._outcome(
                "denied",
                denial_basis=self._denial_basis(),
                disagreement=self.state.outcome.disagreement,
                rebuttal=action.text,
            ),
            **SHORT,
        )
        await self._close(Status.COMPLETED, "amendment.rebuttal_filed", action.actor)
        return self._result("Rebuttal linked to the record; the request is closed.")

    @file_rebuttal.validator
    def _validate_rebuttal(self, action: actions.FileStatement) -> None:
        refuse(guard_case_status(self.state, Status.AWAITING_DISAGREEMENT))
        if self.state.outcome.disagreement is None:
            refuse(
                refusal(
                    "text", "no_disagreement", "There is no statement of disagreement to rebut."
                )
            )
