"""The workflow runner every worker (and test worker) uses: Temporal's sandbox, or not.

The sandbox is how determinism mistakes are caught (a clock, randomness or I/O reached from
workflow code fails the workflow task), and the tests always run under it. It also costs a
busy worker about a quarter of its CPU: it re-imports the workflow module for every workflow
and re-enters the sandbox for every payload. A production worker may turn it off
(`ROI_WORKFLOW_SANDBOX=false`) once the same code has passed the suite and the replay check
(`python -m ops.replay_check`, sandboxed) under it; the code that runs is the same either way.
"""

from __future__ import annotations

from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

#: Pure, deterministic libraries the domain uses: loaded once, shared with the sandbox.
PASSTHROUGH = ("domain", "holidays", "dateutil", "six", "pydantic", "ulid")


def workflow_runner(sandboxed: bool = True) -> WorkflowRunner:
    """Sandbox that passes the domain's pure dependencies through (or no sandbox)."""
    if not sandboxed:
        return UnsandboxedWorkflowRunner()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )
