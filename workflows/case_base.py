"""Shared machinery of the case workflows: their state, start, letters and clock rule.

Each case kind subclasses `CaseWorkflow` and adds its own Updates; the base (RequestWorkflowBase)
gives every case the status query, the clock loop (reminder, target, legal risk, breach), one
extension, cancel and notes. A case's clock stops once the hospital has acted (CLOCK_SATISFIED).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain import actions
    from domain.effects import AuditEvent, CaseProjection
    from domain.errors import FieldIssue
    from domain.kinds.case import CaseStart, CaseState, guard_case_open
    from domain.notices import Notice, NoticeKind
    from domain.sla import start_clock
    from domain.types import Site, Status
    from workflows import search
    from workflows.base import RequestWorkflowBase

#: Stages in which the legal clock is satisfied (the hospital has acted).
CLOCK_SATISFIED = frozenset({Status.ACTIVE, Status.NOTIFYING, Status.AWAITING_DISAGREEMENT})


class CaseWorkflow(RequestWorkflowBase[CaseState]):
    """Base of the case workflows (not a workflow itself)."""

    if TYPE_CHECKING:
        # Every case kind's entry point (each subclass defines it under @workflow.run).
        async def run(self, start: CaseStart) -> CaseState: ...

    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        """The case's state and clock (a kind that keeps more extends this)."""
        self.state = CaseState(
            start=start, clock=start_clock(start.kind, start.site, start.received_at)
        )
        self._init_base()

    @workflow.query
    def status(self) -> CaseState:
        """The case's full current state."""
        return self.state

    # ---- the base's hooks ----------------------------------------------------------------

    def _site(self) -> Site:
        return self.state.start.site

    def _projection(self, event: AuditEvent) -> tuple[str, Any]:
        state = self.state.model_dump(mode="json")
        return names.PROJECT_CASE, CaseProjection(state=state, version=self.version, event=event)

    def _guard_open(self) -> list[FieldIssue]:
        return guard_case_open(self.state)

    async def _withdraw(self, action: actions.Cancel) -> None:
        self.state.outcome.cancelled_because = action.reason
        await self._close(Status.CANCELLED, "request.cancelled", action.actor)

    def _upsert_search(self) -> None:
        workflow.upsert_search_attributes([search.STATUS.value_set(self.state.status.value)])

    def _clock_running(self) -> bool:
        return self.state.is_open and self.state.status not in CLOCK_SATISFIED

    def _clock_stopped(self) -> bool:
        return not self._clock_running()

    def _compose_notice(self, kind: NoticeKind, **fields: Any) -> Notice:
        start = self.state.start
        values: dict[str, Any] = dict(
            kind=kind,
            language=start.language,
            site=start.site,
            tracking_number=start.tracking_number,
            issued_on=self._today(),
            recipient_name=start.requester_name,
            recipient_address=start.reply_address,
            patient_name=start.patient_name,
            patient_date_of_birth=start.patient_date_of_birth,
            received_on=start.received_at.date(),
            expected_date=self.state.clock.due_date,
        )
        values.update(fields)
        return Notice(**values)

    # ---- a case's life -------------------------------------------------------------------

    async def _begin(self) -> asyncio.Task[None]:
        """Project the received case, start its clock loop."""
        await self._record("request.received", "system")
        return self._start_clock()

    async def _finish(self, clock: asyncio.Task[None]) -> CaseState:
        await workflow.wait_condition(lambda: not self.state.is_open)
        await workflow.wait_condition(workflow.all_handlers_finished)
        clock.cancel()
        return self.state
