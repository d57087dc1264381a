"""Gauges read from the PostgreSQL read model at scrape time, for the web app's `/metrics`.

Every web replica reports the same numbers and a restart loses nothing. Labels are codes only
(site, stage): never PHI, never a request id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import structlog
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Row, text

from domain.types import TERMINAL_STATUSES, Site
from store.db import engine_for

log = structlog.get_logger(__name__)

#: Open requests only: a closed request is neither at risk nor a live breach.
_TERMINAL = tuple(sorted(s.value for s in TERMINAL_STATUSES))
_SQL = text(
    """
    SELECT site, status,
           count(*) AS requests,
           count(*) FILTER (WHERE at_risk AND status <> ALL(:terminal)) AS at_risk,
           count(*) FILTER (WHERE legal_risk AND status <> ALL(:terminal)) AS legal_risk,
           count(*) FILTER (WHERE breached AND status <> ALL(:terminal)) AS breached_open,
           count(*) FILTER (WHERE breached) AS breached_all
    FROM requests
    GROUP BY site, status
    """
)


class ReadModelCollector(Collector):
    """Gauges computed from the `requests` table each time Prometheus scrapes.

    One grouped query per scrape (bounded by a 5 s statement timeout); if the database cannot be
    read, `roi_read_model_up` is 0 and the other gauges are left out rather than reported as 0.
    """

    def __init__(self, database_url: Callable[[], str | None]) -> None:
        self._database_url = database_url

    def describe(self) -> Iterable[Metric]:
        """Nothing at registration time: collecting needs the database, which may be down."""
        return []

    def collect(self) -> Iterable[Metric]:
        """Read the counts and yield one family per gauge."""
        up = GaugeMetricFamily(
            "roi_read_model_up", "1 if the read model could be read for this scrape, else 0."
        )
        url = self._database_url()
        try:
            if url is None:
                raise RuntimeError("database not resolved yet")
            with engine_for(url).connect() as conn:
                conn.execute(text("SET LOCAL statement_timeout = '5s'"))
                rows = conn.execute(_SQL, {"terminal": list(_TERMINAL)}).all()
        except Exception as error:  # a scrape must answer even when the database does not
            log.warning("metrics.read_model_unavailable", error=type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _families(rows)


def _families(rows: Iterable[Row[Any]]) -> Iterable[Metric]:
    """One gauge family per figure; every site appears in the per-site ones, even at 0."""
    by_stage = GaugeMetricFamily(
        "roi_requests", "Requests in the read model by site and stage.", labels=["site", "stage"]
    )
    per_site = {
        "at_risk": GaugeMetricFamily(
            "roi_sla_at_risk_requests",
            "Open requests past the site's 14-day target (supervisor escalated).",
            labels=["site"],
        ),
        "legal_risk": GaugeMetricFamily(
            "roi_sla_legal_risk_requests",
            "Open requests within 3 business days of the legal due date.",
            labels=["site"],
        ),
        "breached_open": GaugeMetricFamily(
            "roi_sla_breached_open_requests",
            "Open requests whose legal due date has passed (a recorded HIPAA breach).",
            labels=["site"],
        ),
        "breached_all": GaugeMetricFamily(
            "roi_sla_breached_requests",
            "Requests ever recorded as breached, open or closed.",
            labels=["site"],
        ),
    }
    totals: dict[str, dict[str, int]] = {k: {s.value: 0 for s in Site} for k in per_site}
    for row in rows:
        by_stage.add_metric([row.site, row.status], row.requests)
        for key in per_site:
            totals[key][row.site] = totals[key].get(row.site, 0) + row._mapping[key]
    yield by_stage
    for key, family in per_site.items():
        for site, count in sorted(totals[key].items()):
            family.add_metric([site], count)
        yield family


def read_model_registry(database_url: Callable[[], str | None]) -> CollectorRegistry:
    """A registry of its own for one app instance's read-model gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReadModelCollector(database_url))
    return registry
