"""A denial of access, and its review by another licensed professional (164.524(a)(4)).

A denial on a reviewable ground waits for the patient's request for review (within the site's
window); the reviewer (never the one who denied) is assigned; the decision is carried out at
once: the denial stands (a letter says so, with the complaint routes) or the records go.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import actions
    from domain.denial import DenialReview, ReviewDecision, denial_ground, review_due
    from domain.notices import NoticeKind
    from domain.state import (
        guard_assign_reviewer,
        guard_complete,
        guard_decide_review,
        guard_deny,
        guard_request_review,
        waiting_status,
    )
    from domain.types import Status
    from workflows.base import refuse
    from workflows.request_base import RecordRequestBase

#: A denial on a reviewable ground waits for the patient's request for review by another
#: licensed professional, and carries the reviewer's decision out (issue 15).
DENIAL_REVIEW_PATCH = "denial-review-v1"


class DenialReviewFlow(RecordRequestBase):
    """Deny, and the review of a denial (a part of RecordRequestWorkflow)."""

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
            overdue = f"{self.state.request_id}-denial-review-overdue"
            await self._tell_staff(overdue, "denial_review_overdue", self._supervisors())
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
