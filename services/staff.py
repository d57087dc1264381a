"""Staff actions and reads shared by the CLI and the web app.

Actions go to the request's workflow as Temporal Updates; a refusal comes back as
`ActionRefused` carrying the same field issues the workflow's validator produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from domain import actions
from domain.errors import FieldIssue
from domain.ids import workflow_id_for
from domain.kinds.case import AnyState, CaseState
from domain.state import RequestState
from store import requests
from store.db import session_scope
from workflows.record_request import RecordRequestWorkflow

#: An Update, named by the workflow's update method (a string name still works, for callers
#: that have only the name).
UpdateMethod = UpdateMethodMultiParam[[Any, Any], actions.ActionResult]

#: The records workflow's Update for each action type.
UPDATES: dict[type[Any], UpdateMethod] = {
    actions.VerifyIdentity: RecordRequestWorkflow.verify,
    actions.MarkDeficient: RecordRequestWorkflow.mark_deficient,
    actions.CorrectAuthorization: RecordRequestWorkflow.correct_authorization,
    actions.RecordPayment: RecordRequestWorkflow.record_payment,
    actions.ChooseDelivery: RecordRequestWorkflow.choose_delivery,
    actions.Deny: RecordRequestWorkflow.deny,
    actions.Cancel: RecordRequestWorkflow.cancel,
    actions.Extend: RecordRequestWorkflow.extend,
    actions.Complete: RecordRequestWorkflow.complete,
    actions.AddNote: RecordRequestWorkflow.add_note,
    actions.RequestDenialReview: RecordRequestWorkflow.request_review,
    actions.AssignReviewer: RecordRequestWorkflow.assign_reviewer,
    actions.DecideReview: RecordRequestWorkflow.decide_review,
    actions.ConfirmAuthority: RecordRequestWorkflow.confirm_authority,
    actions.ConfirmFormat: RecordRequestWorkflow.confirm_format,
}


@dataclass
class ActionRefused(Exception):
    """The workflow refused the action; `issues` say which field and why."""

    message: str
    issues: list[FieldIssue]

    def __str__(self) -> str:
        return self.message


class RequestNotFound(LookupError):
    """No request with that id or tracking number."""


def resolve_request_id(database_url: str, reference: str) -> str:
    """A request id from either its id or its tracking number (case-insensitive)."""
    with session_scope(database_url) as session:
        found = requests.id_for_reference(session, reference.strip())
    if found is None:
        raise RequestNotFound("No request with that reference.")
    return found


async def perform(
    client: Client, request_id: str, action: Any, *, update: UpdateMethod | str | None = None
) -> actions.ActionResult:
    """Send a staff action to the request's workflow and wait for its answer.

    The update is the records workflow's for the action's type, unless `update` gives one
    (case workflows: AmendmentWorkflow.accept, ProxyAccessWorkflow.decide, ...).
    """
    handle = client.get_workflow_handle(workflow_id_for(request_id))
    # a method or (from callers that have only the name) a string; both take a result_type
    target: Any = update or UPDATES[type(action)]
    try:
        return cast(
            actions.ActionResult,
            await handle.execute_update(target, action, result_type=actions.ActionResult),
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type == "ActionRefused":
            issues = [FieldIssue.model_validate(d) for d in cause.details]
            raise ActionRefused(cause.message, issues) from None
        raise
    except RPCError as error:
        if error.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            message = "The request is closed; no further action is possible."
            raise ActionRefused(
                message, [FieldIssue(field="status", code="request_closed", message=message)]
            ) from None
        raise


async def perform_on_case(
    client: Client, request_id: str, update: UpdateMethod | str, action: Any
) -> actions.ActionResult:
    """Send a staff action to a case workflow (amendment, proxy, ...) by its update method."""
    return await perform(client, request_id, action, update=update)


async def current_state(client: Client, request_id: str) -> RequestState:
    """The workflow's own view of the request (source of truth)."""
    handle = client.get_workflow_handle(workflow_id_for(request_id))
    # a query method's result type comes from its definition (result_type is for names only)
    return await handle.query(RecordRequestWorkflow.status)


async def any_state(client: Client, request_id: str) -> RequestState | CaseState:
    """The state of a request of any kind (records copy, or a case)."""
    handle = client.get_workflow_handle(workflow_id_for(request_id))
    # typed: the one of the two states that validates (a query by name: either workflow's)
    answer: AnyState = await handle.query("status", result_type=AnyState)
    return answer.root
