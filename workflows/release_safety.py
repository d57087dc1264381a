"""Release safety: the second looks a held release waits for before it goes again.

A specialist's review of the sensitive information an authorization names, a second
specialist's quality check of the packet (never the approver), and staff's word that the copy
in another agreed format (164.524(c)(2)) was produced. Each is an Update; the last two send the
held release on its way.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import actions
    from domain.errors import FieldIssue
    from domain.release_safety import QualityCheck, SensitiveReview
    from domain.state import guard_complete, guard_open
    from domain.types import Status
    from workflows.base import refusal, refuse
    from workflows.request_base import RecordRequestBase


class ReleaseSafety(RecordRequestBase):
    """The Updates a held release waits for (a part of RecordRequestWorkflow)."""

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
                refusal(
                    "status",
                    "no_format_pending",
                    "This request is not waiting for a copy in another format.",
                )
            )

    @confirm_quality.validator
    def _validate_confirm_quality(self, check: QualityCheck) -> None:
        refuse(guard_complete(self.state))
        problems: list[FieldIssue] = []
        if not self.quality_pending:
            problems += refusal(
                "status",
                "no_quality_check_pending",
                "This request is not waiting for a quality check.",
            )
        elif check.actor == self.approved_by:
            problems += refusal(
                "actor",
                "same_specialist",
                "The quality check is done by a second specialist, not the approver.",
            )
        problems += [
            FieldIssue(field=name, code="not_confirmed", message="Confirm this before release.")
            for name in check.unconfirmed()
        ]
        refuse(problems)

    @review_sensitive.validator
    def _validate_review_sensitive(self, review: SensitiveReview) -> None:
        refuse(guard_open(self.state))
