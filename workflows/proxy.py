"""ProxyAccessWorkflow: documents checked by a specialist; access granted until the minor comes
of age or the document ends (a timer), or until revoked.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain import actions
    from domain.effects import ProxyChange
    from domain.kinds.case import CaseStart, CaseState, guard_case_status
    from domain.kinds.proxy import ProxyRequest, proxy_expiry
    from domain.notices import NoticeKind
    from domain.sites import site_profile
    from domain.types import Status
    from workflows.base import SHORT, refusal, refuse
    from workflows.case_base import CaseWorkflow


@workflow.defn
class ProxyAccessWorkflow(CaseWorkflow):
    """Proxy access: checked by a specialist, granted with an expiry enforced by a timer."""

    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        super().__init__(start)
        self.request = start.submission_as(ProxyRequest)
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
            self.state.outcome.denied_because = action.reason
            await self._notify(NoticeKind.PROXY_DENIED, denial_explanation=action.reason or "")
            await self._close(Status.DENIED, "proxy.denied", action.actor)
            return self._result("Proxy access denied; the requester is told why.")
        expires = proxy_expiry(self.request)
        self.state.outcome.expires_on = expires
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
            expires_on=expires.isoformat() if expires else None,
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
        self.state.outcome.ended_because = self.end_reason
        await self._close(Status.EXPIRED, "proxy.ended", "system", reason=self.end_reason)

    @workflow.update
    async def revoke(self, action: actions.Cancel) -> actions.ActionResult:
        """End proxy access now (the document was revoked, or the patient withdrew it)."""
        self.end_reason = "revoked"
        self.state.outcome.revoked_because = action.reason
        await self._record("proxy.revoke_requested", action.actor)
        return self._result("Proxy access is being ended.")

    @revoke.validator
    def _validate_revoke(self, action: actions.Cancel) -> None:
        refuse(guard_case_status(self.state, Status.ACTIVE))
