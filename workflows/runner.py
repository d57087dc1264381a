"""The workflow sandbox configuration every worker (and test worker) uses."""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

#: Pure, deterministic libraries the domain uses: loaded once, shared with the sandbox.
PASSTHROUGH = ("domain", "holidays", "dateutil", "six", "pydantic", "ulid")


def workflow_runner() -> SandboxedWorkflowRunner:
    """Sandbox that passes the domain's pure dependencies through."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )
