"""Reading an inbound document, durably: one small workflow per document, and the mailbox poll.

The document's bytes are committed before its workflow starts (services.inbound); the workflow
(id `inbound-doc-<document id>`) runs the OCR activity, retried with backoff until it has
recorded a reading or "could not be read" (the activity decides that, not a timeout). A second
start for the same document is refused by Temporal, and the activity changes nothing on a
document already read.

The poll workflow, started by a Temporal Schedule, reads the ROI mailbox and starts one reading
workflow per document it stored, and again for any document whose reading never started.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities import names

#: The id of a document's reading workflow (the document id is opaque: no PHI).
ID_PREFIX = "inbound-doc-"

READ: workflow.ActivityConfig = dict(
    # ocrmypdf is given 10 minutes per document (activities/ocr.py); heartbeats say it is alive
    start_to_close_timeout=timedelta(minutes=15),
    heartbeat_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=10)
    ),
)

POLL: workflow.ActivityConfig = dict(
    start_to_close_timeout=timedelta(minutes=5),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=10),
        maximum_interval=timedelta(minutes=2),
        maximum_attempts=3,  # the schedule runs the next poll anyway
    ),
)


def reading_workflow_id(document_id: str) -> str:
    """The reading workflow's id for a document."""
    return f"{ID_PREFIX}{document_id}"


@workflow.defn
class InboundDocumentWorkflow:
    """Read one stored document (OCR, fields, 164.508 elements); returns its status."""

    @workflow.run
    async def run(self, document_id: str) -> str:
        status: str = await workflow.execute_activity(names.READ_DOCUMENT, document_id, **READ)
        return status


@workflow.defn
class InboundPollWorkflow:
    """One poll of the ROI mailbox; returns how many readings it started."""

    @workflow.run
    async def run(self) -> int:
        ids: list[str] = await workflow.execute_activity(names.POLL_MAILBOX, **POLL)
        started = 0
        for document_id in ids:
            try:
                await workflow.start_child_workflow(
                    InboundDocumentWorkflow.run,
                    document_id,
                    id=reading_workflow_id(document_id),
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                )
                started += 1
            except WorkflowAlreadyStartedError:
                continue  # read (or being read) already
        return started
