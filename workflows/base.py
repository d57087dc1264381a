"""What every request workflow shares, whatever its state: records copies and the other kinds.

`RequestWorkflowBase[StateT]` holds one copy of the activity settings, the refusal of an
Update, the projection of each change (a version and an audit event), letters (one that cannot
be produced is flagged to staff, never fatal), the clock loop and its firing, and the
`extend`, `cancel` and `add_note` Updates. The two families (RecordRequestBase, CaseWorkflow)
fill in the hooks where they differ; every difference that reaches a history (activity names
and arguments, search-attribute upserts, when the clock loop stops) is a hook, so workflows
started before this base replay unchanged.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain import actions
    from domain.calendar import local_date
    from domain.effects import AuditEvent, NoticeToSend, StaffNotification
    from domain.errors import FieldIssue
    from domain.notices import Notice, NoticeKind
    from domain.sla import (
        Clock,
        apply_extension,
        check_extension,
        escalation_time,
        mark_key,
        next_sla_mark,
    )
    from domain.types import Site, SlaEvent, Status

#: Clock events are told to staff at the start of the site's next business morning (issue 15);
#: histories recorded before this fired them at the instant they were due.
BUSINESS_MORNING_PATCH = "sla-business-morning-v1"

#: Every short activity (projection, letters, staff notices, lookups) of every workflow.
SHORT: workflow.ActivityConfig = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
    ),
)

#: Projection and staff notices run as local activities (issue 20): in the worker, within the
#: workflow task, without the three history events and the round trip through the server an
#: activity costs. Both are short idempotent writes to the read model. Histories recorded
#: before ran them as activities, and still do on replay.
LOCAL_WRITES_PATCH = "local-read-model-writes-v1"
#: A local write: the same timeout and retries as SHORT (after a minute of retrying in the
#: worker, the SDK backs off with a durable timer, so an outage of PostgreSQL waits).
LOCAL: workflow.LocalActivityConfig = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
    ),
)


async def write_read_model(activity: str, arg: Any) -> None:
    """Run a read-model write (projection, a staff notice): locally once patched."""
    if workflow.patched(LOCAL_WRITES_PATCH):
        await workflow.execute_local_activity(activity, arg, **LOCAL)
    else:
        await workflow.execute_activity(activity, arg, **SHORT)


def refuse(problems: list[FieldIssue]) -> None:
    """Reject an Update: the message is the first reason; details carry every field issue."""
    if problems:
        raise ApplicationError(
            problems[0].message,
            *[p.model_dump() for p in problems],
            type="ActionRefused",
            non_retryable=True,
        )


def refusal(field: str, code: str, message: str) -> list[FieldIssue]:
    """One field issue, for `refuse`."""
    return [FieldIssue(field=field, code=code, message=message)]


class WorkflowState(Protocol):
    """What the base reads and writes on a state (RequestState and CaseState both have it)."""

    status: Status
    clock: Clock
    sla_fired: list[str]
    at_risk: bool
    legal_risk: bool
    breached: bool
    notes: int
    closed_at: datetime | None

    @property
    def request_id(self) -> str: ...

    @property
    def is_open(self) -> bool: ...


StateT = TypeVar("StateT", bound=WorkflowState)


class RequestWorkflowBase(Generic[StateT]):
    """Base of every request workflow (not a workflow itself: no run method)."""

    state: StateT
    #: what `extend` and `cancel` answer staff (each family keeps its own words)
    EXTENDED: ClassVar[str] = "Extended to {date}."
    CANCELLED: ClassVar[str] = "Cancelled."
    #: with every clock event fired, wait for an extension (True) or end the loop (False)
    CLOCK_WAITS_WHEN_DONE: ClassVar[bool] = False

    def _init_base(self) -> None:
        self.version = 0
        self.clock_version = 0
        self.steps: dict[str, int] = {}

    # ---- hooks: where the families differ ------------------------------------------------

    def _site(self) -> Site:
        raise NotImplementedError

    def _projection(self, event: AuditEvent) -> tuple[str, Any]:
        """The projection activity's name and argument for this event."""
        raise NotImplementedError

    def _compose_notice(self, kind: NoticeKind, **fields: Any) -> Notice:
        raise NotImplementedError

    def _guard_open(self) -> list[FieldIssue]:
        """Why an action on the request is refused now that it is closed (or busy)."""
        raise NotImplementedError

    async def _withdraw(self, action: actions.Cancel) -> None:
        """What `cancel` does (records copies send a letter; cases do not)."""
        raise NotImplementedError

    def _upsert_search(self) -> None:
        """The search attributes after a change of stage."""
        raise NotImplementedError

    def _search_dates_changed(self) -> None:
        """The due date or the breach changed (records copies show them as search attributes;
        cases never did, and their histories have no upsert there)."""

    def _clock_running(self) -> bool:
        """Whether the clock loop looks for its next event."""
        raise NotImplementedError

    def _clock_stopped(self) -> bool:
        """Whether a waiting clock loop wakes up for good (closed, or no longer timed)."""
        raise NotImplementedError

    # ---- common actions (Updates) --------------------------------------------------------

    @workflow.update
    async def extend(self, action: actions.Extend) -> actions.ActionResult:
        """The one extension: written reason and new date, sent before the original due date."""
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
        self._search_dates_changed()
        return self._result(self.EXTENDED.format(date=action.new_due_date.isoformat()))

    @extend.validator
    def _validate_extend(self, action: actions.Extend) -> None:
        refuse(self._guard_open())
        refuse(
            check_extension(self.state.clock, workflow.now(), action.new_due_date, action.reason)
        )

    @workflow.update
    async def cancel(self, action: actions.Cancel) -> actions.ActionResult:
        """The requester withdrew the request."""
        await self._withdraw(action)
        return self._result(self.CANCELLED)

    @cancel.validator
    def _validate_cancel(self, action: actions.Cancel) -> None:
        refuse(self._guard_open())

    @workflow.update
    async def add_note(self, action: actions.AddNote) -> actions.ActionResult:
        """A free-text note on the request's timeline."""
        self.state.notes += 1
        await self._record("note.added", action.actor, text=action.text)
        return self._result("Note added.")

    # ---- helpers -------------------------------------------------------------------------

    def _today(self) -> date:
        return local_date(self._site(), workflow.now())

    def _step(self, name: str) -> str:
        """A key unique to this request and step (the n-th time the step happens)."""
        n = self.steps.get(name, 0) + 1
        self.steps[name] = n
        return f"{self.state.request_id}-{name}-{n}"

    def _result(self, message: str) -> actions.ActionResult:
        return actions.ActionResult(
            request_id=self.state.request_id, status=self.state.status.value, message=message
        )

    async def _move_to(self, status: Status, action: str, actor: str, **detail: Any) -> None:
        previous = self.state.status
        self.state.status = status
        await self._record(action, actor, previous=previous, **detail)
        if previous != status:
            self._upsert_search()

    async def _close(self, status: Status, action: str, actor: str, **detail: Any) -> None:
        self.state.closed_at = workflow.now()
        await self._move_to(status, action, actor, **detail)

    async def _record(
        self, action: str, actor: str, previous: Status | None = None, **detail: Any
    ) -> None:
        """Project the state to the read model with one audit event."""
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
        activity, projection = self._projection(event)
        await write_read_model(activity, projection)

    async def _tell_staff(self, key: str, kind: str, audience: str = "assignee") -> None:
        await write_read_model(
            names.NOTIFY_STAFF,
            StaffNotification(
                key=key,
                request_id=self.state.request_id,
                audience=audience,
                kind=kind,
                at=workflow.now(),
            ),
        )

    def _supervisors(self) -> str:
        return f"supervisor:{self._site().value}"

    async def _notify(self, kind: NoticeKind, **fields: Any) -> None:
        """Send a letter; one that cannot be produced is flagged to staff, never fatal."""
        notice = self._compose_notice(kind, **fields)
        key = self._step(f"notice-{kind.value}")
        try:
            await workflow.execute_activity(
                names.SEND_NOTICE,
                NoticeToSend(key=key, request_id=self.state.request_id, notice=notice),
                **SHORT,
            )
        except ActivityError as error:
            reason = getattr(error.cause, "message", "letter could not be produced")
            await self._record("notice.failed", "system", notice=kind.value, reason=reason)
            await self._tell_staff(f"{key}-failed", "notice_failed")

    # ---- clocks --------------------------------------------------------------------------

    def _start_clock(self) -> asyncio.Task[None]:
        return asyncio.create_task(self._clock_loop())

    async def _clock_loop(self) -> None:
        """Fire each scheduled clock event once, rescheduling when the clock is extended."""
        while self._clock_running():
            mark = next_sla_mark(self.state.clock, set(self.state.sla_fired))
            version = self.clock_version
            if mark is None:
                if not self.CLOCK_WAITS_WHEN_DONE:
                    return
                await workflow.wait_condition(
                    lambda version=version: self._clock_stopped() or self.clock_version != version  # type: ignore[misc]  # lambda with a default: mypy cannot infer it
                )
                continue
            event, at = mark
            fire_at = at
            if workflow.patched(BUSINESS_MORNING_PATCH):
                fire_at = escalation_time(self.state.clock, at)  # 08:00 local, a business day
            delay = fire_at - workflow.now()
            if delay > timedelta(0):
                try:
                    await workflow.wait_condition(
                        lambda version=version: (  # type: ignore[misc]  # lambda with a default: mypy cannot infer it
                            self._clock_stopped() or self.clock_version != version
                        ),
                        timeout=delay,
                    )
                    continue  # closed or extended: look again
                except TimeoutError:
                    pass
            if self._clock_stopped():
                return
            await self._fire(event, mark_key(event, at))

    async def _fire(self, event: SlaEvent, key: str) -> None:
        self.state.sla_fired.append(key)
        audience = self._supervisors()
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
        await self._tell_staff(f"{self.state.request_id}-{key}", event.value, audience)
        if event == SlaEvent.BREACH:
            self._search_dates_changed()
