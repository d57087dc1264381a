"""The web app's /metrics: what Prometheus scrapes to see SLA risk per site, without PHI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from app.config import WebSettings
from app.main import create_app
from config.settings import Settings
from tests.web.helpers import client, insert_request

#: The only labels our metrics carry: codes, never PHI.
CODE_LABELS = {"site", "stage", "kind", "channel", "method", "language"}
#: prometheus_client's own process, platform and garbage-collector series.
PROCESS_LABELS = {"version", "implementation", "major", "minor", "patchlevel", "generation"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def app_for(database_url: str, **settings: object) -> FastAPI:
    return create_app(
        Settings(**settings),  # type: ignore[arg-type]
        database_url=database_url,
        web=WebSettings(cookie_secure=True),
    )


async def test_metrics_show_sla_gauges_per_site_without_phi(deploy_db: str) -> None:
    old = datetime.now(UTC) - timedelta(days=20)
    insert_request(deploy_db, site="arizona", status="awaiting_verification", at_risk=True)
    insert_request(deploy_db, site="arizona", status="awaiting_verification", at_risk=True)
    insert_request(
        deploy_db,
        site="arizona",
        status="ready_to_release",
        received_at=old,
        at_risk=True,
        legal_risk=True,
        breached=True,
        patient_name="Zebulon Phiname",
    )
    insert_request(deploy_db, site="florida", status="completed", breached=True)
    insert_request(deploy_db, site="florida", status="deficient")

    async with client(app_for(deploy_db)) as c:
        response = await c.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    got = samples(response.text)

    assert got[("roi_read_model_up", ())] == 1
    assert got[("roi_sla_at_risk_requests", (("site", "arizona"),))] == 3
    assert got[("roi_sla_legal_risk_requests", (("site", "arizona"),))] == 1
    assert got[("roi_sla_breached_open_requests", (("site", "arizona"),))] == 1
    # a breached request that was completed afterwards is no longer an open breach
    assert got[("roi_sla_breached_open_requests", (("site", "florida"),))] == 0
    assert got[("roi_sla_breached_requests", (("site", "florida"),))] == 1
    # every site is reported, even one with nothing at risk
    assert got[("roi_sla_at_risk_requests", (("site", "wisconsin"),))] == 0
    stage = (("site", "arizona"), ("stage", "awaiting_verification"))
    assert got[("roi_requests", stage)] == 2
    assert got[("roi_requests", (("site", "florida"), ("stage", "deficient")))] == 1

    labels = {k for (_, pairs) in got for k, _ in pairs}
    assert labels <= CODE_LABELS | PROCESS_LABELS
    assert "Phiname" not in response.text and "Testpatient" not in response.text
    assert "ROI-" not in response.text  # no tracking numbers either


async def test_metrics_are_not_behind_sign_in_but_can_require_a_token(deploy_db: str) -> None:
    async with client(app_for(deploy_db)) as c:
        open_scrape = await c.get("/metrics")
        home = await c.get("/")
    assert open_scrape.status_code == 200  # Prometheus cannot sign in
    assert home.status_code == 401 and "/metrics" not in home.text  # not linked from the UI

    async with client(app_for(deploy_db, metrics_token="s3cret-scrape")) as c:
        refused = await c.get("/metrics")
        wrong = await c.get("/metrics", headers={"Authorization": "Bearer nope"})
        allowed = await c.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert refused.status_code == 401 and wrong.status_code == 401
    assert "roi_sla_at_risk_requests" not in refused.text
    assert allowed.status_code == 200 and "roi_sla_at_risk_requests" in allowed.text

    async with client(app_for(deploy_db, web_metrics=False)) as c:
        assert (await c.get("/metrics")).status_code == 404


async def test_probes_report_the_database(deploy_db: str) -> None:
    async with client(app_for(deploy_db)) as c:
        live = await c.get("/healthz")
        ready = await c.get("/readyz")
    assert live.status_code == 200
    assert ready.status_code == 200 and ready.json()["database"] is True

    unreachable = "postgresql://nobody@127.0.0.1:1/none"
    async with client(app_for(unreachable)) as c:
        ready = await c.get("/readyz")
        scrape = await c.get("/metrics")
    assert ready.status_code == 503 and ready.json()["database"] is False
    # the scrape still answers, saying the read model is down rather than reporting zeros
    got = samples(scrape.text)
    assert got[("roi_read_model_up", ())] == 0
    assert ("roi_sla_at_risk_requests", (("site", "arizona"),)) not in got
