"""No protected health information in logs, workflow ids or search attributes."""

from __future__ import annotations

import pytest

from domain import actions
from domain.types import Status
from tests import factories
from tests.harness import Harness
from workflows.record_request import RecordRequestWorkflow as W


async def test_a_whole_request_logs_no_phi(
    harness: Harness, capfd: pytest.CaptureFixture[str]
) -> None:
    now = await harness.env.get_current_time()  # type: ignore[union-attr]
    data = factories.third_party(
        received_at=now.isoformat(), authorization=factories.valid_authorization(purpose=None)
    )
    phi = {
        data["patient"]["first_name"],
        data["patient"]["last_name"],
        data["patient"]["date_of_birth"],
        data["patient"]["mrn"],
        "avery.testpatient@example.org",
        "507-555-0142",
        "100 Example Ave",
        "55 Main St Suite 400",
        "Harbor Law Group",
    }
    handle = await harness.start(data)
    await harness.wait_status(handle, Status.DEFICIENT)
    await handle.execute_update(
        W.correct_authorization,
        actions.CorrectAuthorization(actor="s", authorization=factories.valid_authorization()),
    )
    await handle.execute_update(
        W.verify, actions.VerifyIdentity(actor="s", method=actions.IdentityMethod.PHOTO_ID)
    )
    await harness.pay_quote(handle)  # the law firm's quote: paid before the release
    await handle.execute_update(W.complete, actions.Complete(actor="s"))
    await handle.result()

    captured = capfd.readouterr()
    output = captured.out + captured.err
    assert "request.projected" in output  # logging did happen
    leaked = [value for value in phi if value.lower() in output.lower()]
    assert leaked == []
    description = await handle.describe()
    assert not any(value in handle.id for value in phi)
    attributes = " ".join(str(v) for v in description.typed_search_attributes)
    assert not [value for value in phi if value in attributes]
