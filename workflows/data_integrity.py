"""DataIntegrityWorkflow: deceased-patient and adoption notifications, worked by HIMS Data
Integrity (the registry is updated once they confirm).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain import actions
    from domain.effects import RegistryUpdate
    from domain.kinds import adoption
    from domain.kinds.case import CaseStart, CaseState, guard_case_status
    from domain.kinds.deceased import DeceasedNotice
    from domain.notices import NoticeKind
    from domain.types import RequestKind, Status
    from workflows.base import SHORT, refuse
    from workflows.case_base import CaseWorkflow


@workflow.defn
class DataIntegrityWorkflow(CaseWorkflow):
    """Deceased-patient and adoption notifications, worked by HIMS Data Integrity."""

    @workflow.run
    async def run(self, start: CaseStart) -> CaseState:
        clock = await self._begin()
        if start.kind == RequestKind.ADOPTION_NOTICE:
            document = start.submission_as(adoption.AdoptionNotice).document_type
            accepted, reason = adoption.document_decision(document)
            if not accepted:
                await self._reject(reason, "system")
                return await self._finish(clock)
        await self._notify(NoticeKind.ACKNOWLEDGEMENT)
        await self._move_to(Status.UNDER_REVIEW, "request.routed", "system", team=start.team)
        return await self._finish(clock)

    async def _reject(self, reason: str, actor: str) -> None:
        self.state.outcome.rejected_because = reason
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
            deceased_on = start.submission_as(DeceasedNotice).patient.date_of_death
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
            document = start.submission_as(adoption.AdoptionNotice).document_type
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
