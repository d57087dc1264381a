"""What the parts of RecordRequestWorkflow share: its state, its hooks into the base, and the
steps more than one part takes (the authorization's report, a stop for revocation, the quote).

RecordRequestWorkflow (record_request.py) is put together from parts, each a class on this
one: fulfilment (the release), release safety (the second looks a held release waits for),
verification (identity and the authorization) and the review of a denial.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain import actions
    from domain.correspondence import compose_notice
    from domain.effects import AuditEvent, BatchFulfilled, Projection, ReleaseHold, StartRequest
    from domain.errors import FieldIssue
    from domain.fees import LEGACY_FEE_SCHEDULE, quote_fee
    from domain.notices import Notice, NoticeKind
    from domain.release_basis import release_basis_issues
    from domain.sla import start_clock
    from domain.state import RequestState, guard_open
    from domain.types import Site, Status
    from workflows import search
    from workflows.base import RequestWorkflowBase


class RecordRequestBase(RequestWorkflowBase[RequestState]):
    """The records-copy family's base (not a workflow itself)."""

    EXTENDED = "Extended to {date}; the requester is told why."
    CANCELLED = "Cancelled at the requester's request."
    # a request's clock outlives its last event: an extension schedules new ones
    CLOCK_WAITS_WHEN_DONE = True

    def _init_request(self, start: StartRequest) -> None:
        """The state, then the authorization judged and the fee quoted before any Update can
        be validated."""
        sub = start.submission
        self.state = RequestState(
            request_id=start.request_id,
            tracking_number=start.tracking_number,
            submission=sub,
            clock=start_clock(sub.kind, sub.site, sub.received_at),
        )
        self._init_base()
        self.disclosures = 0
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

    @workflow.query
    def status(self) -> RequestState:
        """The full current state (stage, clocks, deficiencies, fee, flags)."""
        return self.state

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

    def _upsert_search(self) -> None:
        workflow.upsert_search_attributes(
            [
                search.STATUS.value_set(self.state.status.value),
                search.LEGAL_DUE.value_set(self.state.clock.due_at),
                search.BREACHED.value_set(self.state.breached),
            ]
        )

    def _search_dates_changed(self) -> None:
        self._upsert_search()

    def _clock_running(self) -> bool:
        return self.state.is_open and self.state.review is None

    def _clock_stopped(self) -> bool:
        return not self.state.is_open

    # ---- steps more than one part takes --------------------------------------------------

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

    async def _report_authorization(self, actor: str) -> None:
        problems = self.state.deficiencies
        await self._record(
            "authorization.checked", actor, valid=not problems, codes=[p.code for p in problems]
        )
        if problems:
            await self._notify(NoticeKind.DEFICIENCY, deficiencies=problems)

    async def _stop_for_revocation(self) -> None:
        self.state.outcome_note = "authorization_revoked"
        self.state.closed_at = workflow.now()
        await self._notify(NoticeKind.RELEASE_STOPPED)
        await self._move_to(
            Status.CANCELLED, "release.stopped_revoked", "system", revocation=self.revoked_by
        )
