"""SiteBatchWorkflow: one site's daily mail, CD and FedEx run, started by its Temporal Schedule
(or by staff with `roi batch run`).

It plans the run, builds each method's output (activities; each delivery sent at most once),
then tells every request's workflow what was sent (or why it was held). A run that stopped
half-way is run again: already-sent requests are only announced again, and their workflows
ignore the repeat.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities import names
    from domain.batch import (
        BATCH_METHODS,
        BatchBuild,
        BatchOutcome,
        BatchPlan,
        BatchResult,
        BatchRunInput,
        BatchStart,
        BatchSummary,
        runs_on,
    )
    from domain.effects import BatchFulfilled, ReleaseHold
    from domain.types import DeliveryMethod
    from workflows.base import SHORT
    from workflows.record_request import RecordRequestWorkflow

#: The batch's own steps (start, finish, mark signalled): the short settings, with a minute.
STEP: workflow.ActivityConfig = {**SHORT, "start_to_close_timeout": timedelta(seconds=60)}
BUILD: workflow.ActivityConfig = dict(
    start_to_close_timeout=timedelta(hours=2),
    heartbeat_timeout=timedelta(minutes=2),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        maximum_interval=timedelta(minutes=2),
        maximum_attempts=10,
    ),
)


@workflow.defn
class SiteBatchWorkflow:
    """Build and send one site's batch, then hand each request back to its workflow."""

    def __init__(self) -> None:
        self.progress: dict[str, int] = {}

    @workflow.query
    def status(self) -> dict[str, int]:
        """Counts so far (sent, held per method)."""
        return self.progress

    @workflow.run
    async def run(self, request: BatchRunInput) -> BatchResult:
        site = request.site
        batch_id = request.batch_id or workflow.info().workflow_id
        skipped = request.trigger == "schedule" and not runs_on(site, workflow.now())
        plan: BatchPlan = await workflow.execute_activity(
            names.BATCH_START,
            BatchStart(
                batch_id=batch_id, site=site.value, trigger=request.trigger, skipped=skipped
            ),
            result_type=BatchPlan,
            **STEP,
        )
        if skipped:
            return BatchResult(batch_id=batch_id, site=site.value, skipped=True)
        # sent by an earlier run that stopped before telling the requests: tell them now
        announced = await self._announce(batch_id, plan.unsignalled)
        outcomes: list[BatchOutcome] = []
        artifacts: list[str] = []
        for method in BATCH_METHODS:
            if not plan.queued.get(method.value):
                continue
            try:
                built: list[BatchOutcome] = await workflow.execute_activity(
                    names.BATCH_BUILD,
                    BatchBuild(
                        batch_id=batch_id, site=site.value, method=method, at=workflow.now()
                    ),
                    result_type=list[BatchOutcome],
                    **BUILD,
                )
            except ActivityError:
                # what was sent stays sent (and is announced by the next run); record and stop
                await workflow.execute_activity(
                    names.BATCH_FINISH,
                    BatchSummary(batch_id=batch_id, counts=self.progress, status="failed"),
                    **STEP,
                )
                raise
            self.progress[f"{method.value}_sent"] = sum(o.sent for o in built)
            self.progress[f"{method.value}_held"] = sum(not o.sent for o in built)
            if method == DeliveryMethod.US_MAIL and any(o.sent for o in built):
                artifacts.append(f"batch-{batch_id}.pdf")
            outcomes.extend(built)
            await self._announce(batch_id, built)
        sent = sum(o.sent for o in outcomes)
        held = len(outcomes) - sent
        await workflow.execute_activity(
            names.BATCH_FINISH,
            BatchSummary(
                batch_id=batch_id,
                counts={**self.progress, "sent": sent, "held": held, "announced": announced},
                artifacts=artifacts,
            ),
            **STEP,
        )
        return BatchResult(
            batch_id=batch_id, site=site.value, sent=sent, held=held, announced_again=announced
        )

    async def _announce(self, batch_id: str, outcomes: list[BatchOutcome]) -> int:
        """Signal each request's workflow (sent or held), then remember they were told."""
        for outcome in outcomes:
            handle = workflow.get_external_workflow_handle(outcome.workflow_id)
            try:
                if outcome.sent:
                    await handle.signal(
                        RecordRequestWorkflow.batch_fulfilled,
                        BatchFulfilled(
                            batch_id=batch_id,
                            request_id=outcome.request_id,
                            method=DeliveryMethod(outcome.method),
                            reference=outcome.reference or batch_id,
                            sent_at=workflow.now(),
                            carrier_tracking_number=outcome.carrier_tracking_number,
                            pages=outcome.pages,
                        ),
                    )
                else:
                    await handle.signal(
                        RecordRequestWorkflow.release_held,
                        ReleaseHold(
                            request_id=outcome.request_id, batch_id=batch_id, codes=outcome.codes
                        ),
                    )
            except Exception:  # the request's workflow is gone (terminated): nothing to tell
                workflow.logger.warning("batch.signal_failed")
        if outcomes:
            await workflow.execute_activity(
                names.BATCH_MARK_SIGNALLED, [o.request_id for o in outcomes], **STEP
            )
        return len(outcomes)
