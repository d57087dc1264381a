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


async def release(h: Harness, handle: WorkflowHandle, *, paid_cents: int | None = None) -> None:
    """Verify, pay the quote when one is due (as staff record it), and complete: the usual path
    to a release. `paid_cents`, when given, is the amount the test expects to be due."""
    await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    await handle.execute_update(
        W.verify,
        actions.VerifyIdentity(actor=STAFF, method=actions.IdentityMethod.PORTAL_ACCOUNT),
    )
    paid = await h.pay_if_quoted(handle)
    if paid_cents is not None:
        assert paid == paid_cents, paid
    await h.wait_status(handle, Status.READY_TO_RELEASE)
    await handle.execute_update(W.complete, actions.Complete(actor=STAFF))
