"""Shared machinery of the case workflows: state, clocks, projection, letters, common actions.

Each case kind subclasses `CaseWorkflow` and adds its own Updates; the base gives every case
the status query, the clock loop (reminder, target, legal risk, breach), one extension, cancel
and notes.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain import actions
    from domain.calendar import local_date
    from domain.effects import AuditEvent, CaseProjection, NoticeToSend, StaffNotification
    from domain.errors import FieldIssue
    from domain.kinds.case import CaseStart, CaseState, guard_case_open
    from domain.notices import Notice, NoticeKind
    from domain.sla import (
        apply_extension,
        check_extension,
        escalation_time,
        mark_key,
        next_sla_mark,
        start_clock,
    )
    from domain.types import SlaEvent, Status
    from workflows import search

#: Stages in which the legal clock is satisfied (the hospital has acted).
CLOCK_SATISFIED = frozenset({Status.ACTIVE, Status.NOTIFYING, Status.AWAITING_DISAGREEMENT})

#: Clock events are told to staff at the start of the site's next business morning (issue 15);
#: histories recorded before this fired them at the instant they were due.
BUSINESS_MORNING_PATCH = "sla-business-morning-v1"

SHORT: dict[str, Any] = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
    ),
)


def refuse(problems: list[FieldIssue]) -> None:
    """Reject an Update with field-level reasons (same shape as RecordRequestWorkflow's)."""
    if problems:
        raise ApplicationError(
            problems[0].message,
            *[p.model_dump() for p in problems],
            type="ActionRefused",
            non_retryable=True,
        )


def refusal(field: str, code: str, message: str) -> list[FieldIssue]:
    return [FieldIssue(field=field, code=code, message=message)]


class CaseWorkflow:
    """Base of the case workflows (not a workflow itself)."""

    state: CaseState

    if TYPE_CHECKING:
        # Every case kind's entry point (each subclass defines it under @workflow.run).
        async def run(self, start: CaseStart) -> CaseState: ...

    def _init_case(self, start: CaseStart) -> None:
        self.state = CaseState(
            start=start, clock=start_clock(start.kind, start.site, start.received_at)
        )
        self.version = 0
        self.clock_version = 0
        self.steps: dict[str, int] = {}

    # ---- query and common actions --------------------------------------------------------

    @workflow.query
    def status(self) -> CaseState:
        """The case's full current state."""
        return self.state

    @workflow.update
    async def extend(self, action: actions.Extend) -> actions.ActionResult:
        """The one extension, with written reason and new date, before the original due date."""
        original = self.state.clock.due_date
        self.state.clock = apply_extension(
            self.state.clock, action.new_due_date, action.reason, workflow.now()
        )
        self.state.legal_risk = False
        self.clock_version += 1
        await self._notify(
            NoticeKind.EXTENSION,
            original_due_date=original,
            new_due_date=action.new_due_date,
            extension_reason=action.reason,
        )
        await self._record(
            "clock.extended", action.actor, new_due_date=action.new_due_date.isoformat()
        )
        return self._result(f"Extended to {action.new_due_date.isoformat()}.")

    @extend.validator
    def _validate_extend(self, action: actions.Extend) -> None:
        refuse(guard_case_open(self.state))
        refuse(
            check_extension(self.state.clock, workflow.now(), action.new_due_date, action.reason)
        )

    @workflow.update
    async def cancel(self, action: actions.Cancel) -> actions.ActionResult:
        """The requester withdrew."""
        self.state.outcome["cancelled_because"] = action.reason
        await self._close(Status.CANCELLED, "request.cancelled", action.actor)
        return self._result("Cancelled.")

    @cancel.validator
    def _validate_cancel(self, action: actions.Cancel) -> None:
        refuse(guard_case_open(self.state))

    @workflow.update
    async def add_note(self, action: actions.AddNote) -> actions.ActionResult:
        """A note on the timeline."""
        self.state.notes += 1
        await self._record("note.added", action.actor, text=action.text)
        return self._result("Note added.")

    # ---- helpers -------------------------------------------------------------------------

    async def _begin(self) -> asyncio.Task[None]:
        """Project the received case, start its clock loop."""
        await self._record("request.received", "system")
        return asyncio.create_task(self._clock_loop())

    async def _finish(self, clock: asyncio.Task[None]) -> CaseState:
        await workflow.wait_condition(lambda: not self.state.is_open)
        await workflow.wait_condition(workflow.all_handlers_finished)
        clock.cancel()
        return self.state

    def _today(self) -> date:
        return local_date(self.state.start.site, workflow.now())

    def _step(self, name: str) -> str:
        n = self.steps.get(name, 0) + 1
        self.steps[name] = n
        return f"{self.state.request_id}-{name}-{n}"

    def _result(self, message: str) -> actions.ActionResult:
        return actions.ActionResult(
            request_id=self.state.request_id, status=self.state.status.value, message=message
        )

    async def _move(self, status: Status, action: str, actor: str, **detail: Any) -> None:
        previous = self.state.status
        self.state.status = status
        await self._record(action, actor, previous=previous, **detail)
        if previous != status:
            workflow.upsert_search_attributes([search.STATUS.value_set(status.value)])

    async def _close(self, status: Status, action: str, actor: str, **detail: Any) -> None:
        self.state.closed_at = workflow.now()
        await self._move(status, action, actor, **detail)

    async def _record(
        self, action: str, actor: str, previous: Status | None = None, **detail: Any
    ) -> None:
        self.version += 1
        event = AuditEvent(
            key=self._step(action),
            at=workflow.now(),
            actor=actor,
            action=action,
            from_status=(previous or self.state.status).value,
            to_status=self.state.status.value,
            detail=detail,
        )
        await workflow.execute_activity(
            names.PROJECT_CASE,
            CaseProjection(
                state=self.state.model_dump(mode="json"), version=self.version, event=event
            ),
            **SHORT,
        )

    def _notice(self, kind: NoticeKind, **fields: Any) -> Notice:
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

    async def _notify(self, kind: NoticeKind, **fields: Any) -> None:
        """Send a letter; one that cannot be produced is flagged to staff, never fatal."""
        key = self._step(f"notice-{kind.value}")
        try:
            await workflow.execute_activity(
                names.SEND_NOTICE,
                NoticeToSend(
                    key=key, request_id=self.state.request_id, notice=self._notice(kind, **fields)
                ),
                **SHORT,
            )
        except ActivityError as error:
            reason = getattr(error.cause, "message", "letter could not be produced")
            await self._record("notice.failed", "system", notice=kind.value, reason=reason)
            await workflow.execute_activity(
                names.NOTIFY_STAFF,
                StaffNotification(
                    key=f"{key}-failed",
                    request_id=self.state.request_id,
                    audience="assignee",
                    kind="notice_failed",
                    at=workflow.now(),
                ),
                **SHORT,
            )

    async def _clock_loop(self) -> None:
        while self.state.is_open and self.state.status not in CLOCK_SATISFIED:
            mark = next_sla_mark(self.state.clock, set(self.state.sla_fired))
            version = self.clock_version
            if mark is None:
                return
            event, at = mark
            fire_at = at
            if workflow.patched(BUSINESS_MORNING_PATCH):
                fire_at = escalation_time(self.state.clock, at)  # 08:00 local, a business day
            delay = fire_at - workflow.now()
            if delay > timedelta(0):
                try:
                    await workflow.wait_condition(
                        lambda version=version: (  # type: ignore[misc]  # lambda with a default: mypy cannot infer it
                            not self.state.is_open
                            or self.state.status in CLOCK_SATISFIED
                            or self.clock_version != version
                        ),
                        timeout=delay,
                    )
                    continue
                except TimeoutError:
                    pass
            if not self.state.is_open or self.state.status in CLOCK_SATISFIED:
                return
            await self._fire(event, mark_key(event, at))

    async def _fire(self, event: SlaEvent, key: str) -> None:
        self.state.sla_fired.append(key)
        audience = f"supervisor:{self.state.start.site.value}"
        if event == SlaEvent.REMINDER:
            audience = "assignee"
        elif event == SlaEvent.TARGET_MISSED:
            self.state.at_risk = True
        elif event == SlaEvent.LEGAL_RISK:
            self.state.legal_risk = True
        elif event == SlaEvent.BREACH:
            self.state.breached = True
        await self._record(
            f"sla.{event.value}", "system", due_date=self.state.clock.due_date.isoformat()
        )
        await workflow.execute_activity(
            names.NOTIFY_STAFF,
            StaffNotification(
                key=f"{self.state.request_id}-{key}",
                request_id=self.state.request_id,
                audience=audience,
                kind=event.value,
                at=workflow.now(),
            ),
            **SHORT,
        )
