"""Every workflow type the worker runs, in one list: the worker registers it and the replay
check replays histories against it (so `ops` never imports the top-level worker script)."""

from __future__ import annotations

from workflows.batch import SiteBatchWorkflow
from workflows.cases import CASE_WORKFLOWS
from workflows.inbound_document import InboundDocumentWorkflow, InboundPollWorkflow
from workflows.outside_records import OutsideRecordsReplyWorkflow
from workflows.record_request import RecordRequestWorkflow

WORKFLOWS: list[type] = [
    RecordRequestWorkflow,
    SiteBatchWorkflow,
    OutsideRecordsReplyWorkflow,
    InboundDocumentWorkflow,
    InboundPollWorkflow,
    *sorted(set(CASE_WORKFLOWS.values()), key=lambda w: w.__name__),
]
