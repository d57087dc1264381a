"""Every kind has its own intake endpoint: a good submission is accepted with a tracking
number, a bad one gets field-level 422 errors from the domain's own rules, and outside records
are answered with where to send them instead of being queued."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from app.accounts import create_api_token
from store.db import session_scope
from store.models import IntakeSubmission, OutsideRecordsRedirect
from tests import factories
from tests.web.helpers import client

PROVIDER = factories.PROVIDER
COURT = factories.COURT


def _at() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def _without(data: dict[str, Any], *path: str) -> dict[str, Any]:
    target = data
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return data


def _set(data: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


#: kind -> (a valid submission, a broken one, the (field, code) the broken one must name)
CASES: dict[
    str, tuple[Callable[[], dict[str, Any]], Callable[[], dict[str, Any]], tuple[str, str]]
] = {
    "amendment": (
        lambda: factories.amendment(received_at=_at()),
        lambda: _without(factories.amendment(received_at=_at()), "requested_change"),
        ("requested_change", "missing"),
    ),
    "revocation": (
        lambda: factories.revocation(["ROI-AAAAA-BBBBB"], received_at=_at()),
        lambda: factories.revocation(["ROI-AAAAA-BBBBB"], received_at=_at(), signed=False),
        ("signed", "signature_missing"),
    ),
    "proxy_access": (
        lambda: factories.proxy_for_minor(received_at=_at()),
        lambda: factories.proxy_for_minor(received_at=_at(), documents=[]),
        ("documents", "missing"),
    ),
    "billing": (
        lambda: factories.billing(received_at=_at()),
        lambda: _without(factories.billing(received_at=_at()), "question"),
        ("question", "missing"),
    ),
    "deceased_notice": (
        lambda: factories.deceased_notice(received_at=_at()),
        lambda: _set(
            factories.deceased_notice(received_at=_at()), "1980-01-01", "patient", "date_of_death"
        ),
        ("patient.date_of_death", "before_birth"),
    ),
    "adoption_notice": (
        lambda: factories.adoption_notice(received_at=_at()),
        lambda: factories.adoption_notice("passport", received_at=_at()),
        ("document_type", "enum"),
    ),
    "accounting": (
        lambda: factories.accounting(received_at=_at()),
        lambda: factories.accounting(
            received_at=_at(), period_from="2024-05-01", period_to="2023-05-01"
        ),
        ("period_to", "before_start"),
    ),
    "continuity_of_care": (
        lambda: factories.own_records(
            kind="continuity_of_care",
            site="wisconsin",
            received_at=_at(),
            requester=PROVIDER,
            provider_npi="1234567893",
            delivery_method="us_mail",
        ),
        lambda: factories.own_records(
            kind="continuity_of_care",
            site="wisconsin",
            received_at=_at(),
            requester=PROVIDER,
            delivery_method="us_mail",
        ),
        ("provider_npi", "missing"),
    ),
    "ssa_disability": (
        lambda: factories.third_party(kind="ssa_disability", received_at=_at()),
        lambda: _without(
            factories.third_party(kind="ssa_disability", received_at=_at()),
            "patient",
            "date_of_birth",
        ),
        ("patient.date_of_birth", "missing"),
    ),
    "subpoena": (
        lambda: factories.third_party(kind="subpoena", received_at=_at(), legal_document=COURT),
        lambda: factories.third_party(
            kind="subpoena", received_at=_at(), legal_document=None, authorization=None
        ),
        ("legal_document", "missing"),
    ),
    "court_order": (
        lambda: factories.third_party(
            kind="court_order",
            received_at=_at(),
            authorization=None,
            legal_document={**COURT, "signed_by_judge": True},
        ),
        lambda: _set(
            factories.third_party(
                kind="court_order",
                received_at=_at(),
                authorization=None,
                legal_document={**COURT, "signed_by_judge": True},
            ),
            "2999-01-01T12:00:00+00:00",
            "received_at",
        ),
        ("received_at", "in_future"),
    ),
}


@pytest.fixture(scope="module")
def auth(web_db: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_token(web_db, 'kinds-gateway')}"}


@pytest.mark.parametrize("kind", sorted(CASES))
async def test_kind_accepts_good_and_names_each_bad_field(
    kind: str, web_app: FastAPI, web_db: str, auth: dict[str, str]
) -> None:
    good, bad, expected = CASES[kind]
    async with client(web_app) as c:
        accepted = await c.post(f"/api/v1/requests/{kind}", headers=auth, json=good())
        rejected = await c.post(f"/api/v1/requests/{kind}", headers=auth, json=bad())
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["tracking_number"].startswith("ROI-")
    assert rejected.status_code == 422
    body = rejected.json()
    assert expected in [(e["field"], e["code"]) for e in body["errors"]]
    assert all(e["message"] for e in body["errors"])
    with session_scope(web_db) as session:  # kept for staff review, with its errors
        stored = session.get(IntakeSubmission, body["submission_id"])
        assert stored is not None and stored.outcome == "rejected" and stored.errors


async def test_outside_records_are_answered_not_queued(
    web_app: FastAPI, web_db: str, auth: dict[str, str]
) -> None:
    async with client(web_app) as c:
        r = await c.post(
            "/api/v1/requests/outside_records",
            headers=auth,
            json={
                "site": "arizona",
                "channel": "fax",
                "received_at": _at(),
                "sender_name": "Valley Clinic",
            },
        )
        missing = await c.post(
            "/api/v1/requests/outside_records",
            headers=auth,
            json={"site": "arizona", "channel": "fax", "received_at": _at()},
        )
    assert r.status_code == 200 and r.json()["redirected"] is True
    assert "care team" in r.json()["message"]
    assert missing.status_code == 422
    assert ("sender_name", "missing") in [(e["field"], e["code"]) for e in missing.json()["errors"]]
    with session_scope(web_db) as session:  # stored and counted, never queued
        stored = session.get(IntakeSubmission, r.json()["submission_id"])
        assert stored is not None and stored.outcome == "redirected" and stored.request_id is None
        assert session.get(OutsideRecordsRedirect, stored.id) is not None


async def test_openapi_has_a_schema_per_kind(web_app: FastAPI) -> None:
    async with client(web_app) as c:
        spec = (await c.get("/openapi.json")).json()
    for kind in [*CASES, "access_own", "third_party", "imaging", "outside_records"]:
        body = spec["paths"][f"/api/v1/requests/{kind}"]["post"]["requestBody"]
        ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert ref in spec["components"]["schemas"]
