"""Identity and the authorization: the checks a specialist makes before a release.

Identity verified (with a representative's legal authority, and the document that proves it
when they signed the authorization), the authority confirmed later, an authorization marked
deficient for reasons the rules cannot see, and a corrected authorization judged again.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import actions
    from domain.authorization import AuthorityDocument
    from domain.notices import NoticeKind
    from domain.release_basis import release_basis_issues
    from domain.request import Relationship
    from domain.state import (
        authority_role_for,
        guard_authority,
        guard_correct_authorization,
        guard_open,
        guard_verify,
        representative_role,
        waiting_status,
    )
    from domain.types import Status
    from workflows.base import refusal, refuse
    from workflows.request_base import RecordRequestBase


class Verification(RecordRequestBase):
    """Identity and authorization Updates (a part of RecordRequestWorkflow)."""

    @workflow.update
    async def verify(self, action: actions.VerifyIdentity) -> actions.ActionResult:
        """A specialist verified identity (and a representative's authority)."""
        self.state.verified = True
        self.state.verified_by = action.actor
        detail: dict[str, Any] = {}
        if action.authority_document is not None:
            self._confirm_authority(action.authority_document)
            detail["authority_document"] = action.authority_document.value
        await self._move_to(
            waiting_status(self.state),
            "identity.verified",
            action.actor,
            method=action.method.value,
            authority_confirmed=action.authority_confirmed,
            **detail,
        )
        return self._result("Identity verified.")

    @verify.validator
    def _validate_verify(self, action: actions.VerifyIdentity) -> None:
        refuse(guard_verify(self.state))
        sub = self.state.submission
        representative = sub.requester.relationship != Relationship.SELF
        if sub.under_right_of_access and representative and not action.authority_confirmed:
            refuse(
                refusal(
                    "authority_confirmed",
                    "authority_not_confirmed",
                    "A personal representative's legal authority must be checked.",
                )
            )
        # an authorization signed by a representative: the document type, against the list
        refuse(
            guard_authority(
                self.state, action.authority_document, required=not sub.under_right_of_access
            )
        )

    def _confirm_authority(self, document: AuthorityDocument) -> None:
        self.state.authority_document = document
        self.state.authority_role = authority_role_for(self.state.submission, document)

    @workflow.update
    async def confirm_authority(self, action: actions.ConfirmAuthority) -> actions.ActionResult:
        """Staff confirmed the representative's authority document (e.g. after a corrected
        authorization changed who signed)."""
        self._confirm_authority(action.authority_document)
        await self._move_to(
            waiting_status(self.state),
            "authority.confirmed",
            action.actor,
            authority_document=action.authority_document.value,
        )
        return self._result("The representative's authority is confirmed.")

    @confirm_authority.validator
    def _validate_confirm_authority(self, action: actions.ConfirmAuthority) -> None:
        refuse(guard_open(self.state))
        if representative_role(self.state.submission) is None:
            refuse(
                refusal(
                    "authority_document",
                    "no_representative",
                    "The patient acts for themselves; there is no authority to check.",
                )
            )
        refuse(guard_authority(self.state, action.authority_document, required=True))

    @workflow.update
    async def mark_deficient(self, action: actions.MarkDeficient) -> actions.ActionResult:
        """A specialist found the authorization deficient for reasons the rules cannot see."""
        self.state.authorization_valid = False
        self.state.deficiencies = action.deficiencies
        await self._notify(NoticeKind.DEFICIENCY, deficiencies=self.state.deficiencies)
        await self._move_to(
            Status.DEFICIENT,
            "authorization.marked_deficient",
            action.actor,
            codes=[d.code for d in action.deficiencies],
        )
        return self._result("Marked deficient; the requester is sent a deficiency notice.")

    @mark_deficient.validator
    def _validate_mark_deficient(self, action: actions.MarkDeficient) -> None:
        refuse(guard_correct_authorization(self.state))

    @workflow.update
    async def correct_authorization(
        self, action: actions.CorrectAuthorization
    ) -> actions.ActionResult:
        """A corrected authorization arrived; validate it again."""
        self.state.submission = self.state.submission.model_copy(
            update={"authorization": action.authorization}
        )
        await self._check_authorization(action.actor)
        await self._move_to(waiting_status(self.state), "authorization.corrected", action.actor)
        if self.state.authorization_valid:
            return self._result("The corrected authorization is valid.")
        return self._result(
            "The corrected authorization is still deficient; a new notice was sent."
        )

    @correct_authorization.validator
    def _validate_correct_authorization(self, action: actions.CorrectAuthorization) -> None:
        refuse(guard_correct_authorization(self.state))

    async def _check_authorization(self, actor: str) -> None:
        problems = release_basis_issues(self.state.submission, self._today(), self.deceased_on)
        self.state.deficiencies = problems
        self.state.authorization_valid = not problems
        await self._report_authorization(actor)
