"""Small helpers shared by the fulfillment tests."""

from __future__ import annotations

import io
import re

import httpx
from fastapi import FastAPI
from pypdf import PdfReader
from temporalio.client import WorkflowHandle

from domain import actions
from domain.types import Status
from tests.harness import Harness
from workflows.record_request import RecordRequestWorkflow as W

STAFF = "spec.jlee"
LINK = re.compile(r"(http://roi\.test/download/\S+)")


def pages_text(pdf: bytes) -> list[str]:
    """The text of each page of a PDF."""
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def web(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 40000)),
        base_url="http://roi.test",
    )


async def release(h: Harness, handle: WorkflowHandle, *, paid_cents: int = 0) -> None:
    """Verify, pay when needed, and complete: the usual path to a release."""
    await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await handle.execute_update(
        W.verify,
        actions.VerifyIdentity(actor=STAFF, method=actions.IdentityMethod.PORTAL_ACCOUNT),
    )
    if paid_cents:
        await h.wait_status(handle, Status.AWAITING_PAYMENT)
        await handle.execute_update(
            W.record_payment,
            actions.RecordPayment(actor=STAFF, amount_cents=paid_cents, reference="PAY-T"),
        )
    await h.wait_status(handle, Status.READY_TO_RELEASE)
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
