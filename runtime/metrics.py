"""Prometheus metrics of the engine, for a hospital's platform team (see deploy/RUNBOOK.md).

Two sources:
- counters the worker's activities increment as they act (letters rendered, deliveries sent),
  exposed on the worker's metrics port;
- gauges read from the PostgreSQL read model at scrape time (requests by stage and site, SLA
  at-risk, legal-risk and breached counts), exposed by the web app's `/metrics`, so every web
  replica reports the same numbers and a restart loses nothing.

Labels are codes only (site, stage, kind, channel, method, language): never a name, a date of
birth, an MRN, an address or any other PHI, and never a request id (unbounded cardinality).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Row, text
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from domain.types import TERMINAL_STATUSES, Site
from store.db import engine_for

log = structlog.get_logger(__name__)

disable_created_metrics()  # no `*_created` series beside each counter: less to scrape and store

LETTERS_RENDERED = Counter(
    "roi_letters_rendered",
    "Letters rendered to PDF and put in the outbox, by notice kind and language.",
    ["kind", "language"],
)
DELIVERIES = Counter(
    "roi_deliveries",
    "Records deliveries sent, by channel (email, print, ship) and delivery method.",
    ["channel", "method"],
)

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


def exposition(*registries: CollectorRegistry) -> tuple[bytes, str]:
    """The text format of the process-wide registry followed by the given ones."""
    return b"".join(generate_latest(r) for r in (REGISTRY, *registries)), CONTENT_TYPE_LATEST


_served: set[tuple[str, int]] = set()
_served_lock = threading.Lock()


def serve_process_metrics(host: str, port: int) -> None:
    """Expose this process's counters (and process metrics) on host:port, once per address."""
    with _served_lock:
        if (host, port) in _served:
            return
        start_http_server(port, addr=host)
        _served.add((host, port))
    log.info("metrics.serving", host=host, port=port)


def temporal_runtime(host: str, port: int) -> Runtime | None:
    """A Temporal runtime whose SDK metrics Prometheus scrapes at host:port (None: port 0, off).

    One per process: the worker's client is connected with it, and every worker on that client
    reports task slots, poll and schedule-to-start latencies, failures and cache figures.
    """
    if not port:
        return None
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=f"{host}:{port}",
                counters_total_suffix=True,
                durations_as_seconds=True,
            )
        )
    )
