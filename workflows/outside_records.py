"""The redirect answer to a sender of outside records, retried until it is sent.

Intake stores the submission and answers the API call first; this small workflow (one per
submission, id `outside-reply-<submission id>`) then sends the reply by the sender's channel.
A send that fails (mail server or database down) is retried by Temporal with backoff for as
long as it takes; the activity is idempotent on the reply key, so it never sends twice.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain.kinds.outside_records import OutsideRecordsReply

REPLY: workflow.ActivityConfig = dict(
    # longer than the send's record may wait out a database outage (persist_after_send, 300 s):
    # an attempt that sent must not be timed out and sent again; heartbeats tell it is alive
    start_to_close_timeout=timedelta(minutes=10),
    heartbeat_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=5),
        maximum_interval=timedelta(hours=1),
        non_retryable_error_types=["LetterError", "NoContact"],
    ),
)


@workflow.defn
class OutsideRecordsReplyWorkflow:
    """Send the `outside_records_redirect` reply to the sender, once."""

    @workflow.run
    async def run(self, reply: OutsideRecordsReply) -> str:
        sent: str = await workflow.execute_activity(names.SEND_OUTSIDE_REPLY, reply, **REPLY)
        return sent
