"""Staff forms speak plainly: every field message is a sentence a person understands, never a
validator's own text ("Input should be a valid date"); app/plain.py maps each pydantic error
type in one place."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field, ValidationError

from app import plain
from tests import factories
from tests.harness import Harness
from tests.web.conftest import Staff
from tests.web.helpers import sign_in
from tests.web.test_request_page import _act, _start, field_errors, received_now


class _Probe(BaseModel):
    model_config = {"extra": "forbid"}
    day: date
    count: int = Field(ge=1, le=5)
    name: str = Field(min_length=1, max_length=3)
    flag: bool


def test_every_pydantic_error_becomes_a_plain_sentence() -> None:
    with pytest.raises(ValidationError) as caught:
        _Probe.model_validate(
            {"day": "31/12/2026", "count": 9, "name": "abcd", "flag": "maybe", "x": 1}
        )
    found = {i.field: i.message for i in plain.from_validation_error(caught.value)}
    assert found == {
        "day": "Use a date like 2026-12-31.",
        "count": "Give a number of at most 5.",
        "name": "This is too long: at most 3 characters.",
        "flag": "Answer yes or no.",
        "x": "This is not part of the form; remove it.",
    }
    assert all("Input should" not in m for m in found.values())
    assert plain.field_label("requester.contact.address.line1") == (
        "Requester › contact › address › line1"
    )


@pytest.fixture
async def spec(web_app: FastAPI, staff: Staff) -> httpx.AsyncClient:
    c = await sign_in(web_app, staff.names["specialist"])
    yield c
    await c.aclose()


async def test_staff_forms_never_show_validator_text(
    spec: httpx.AsyncClient, web_worker: Harness
) -> None:
    rid = await _start(web_worker, factories.imaging_fedex(received_at=received_now()))
    r = await _act(spec, rid, "verify", method="")
    assert r.status_code == 422
    assert field_errors(r.text, "verify", "method") == ["Choose one of the listed options."]
    r = await _act(spec, rid, "record_payment", amount="45.00", reference="")
    assert field_errors(r.text, "record_payment", "reference") == ["This is required."]
    r = await _act(spec, rid, "choose_delivery", method="pigeon")
    assert field_errors(r.text, "choose_delivery", "method") == [
        "Choose one of the listed options."
    ]
    r = await _act(spec, rid, "add_note", text="x" * 4001)
    assert field_errors(r.text, "add_note", "text") == [
        "This is too long: at most 4000 characters."
    ]
    for response in (r,):
        assert "Input should" not in response.text and "String should" not in response.text
