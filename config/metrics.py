"""Prometheus metrics of the engine, for a hospital's platform team (see deploy/RUNBOOK.md).

Two sources:
- counters the worker's activities increment as they act (letters rendered, deliveries sent),
  exposed on the worker's metrics port;
- gauges read from the PostgreSQL read model at scrape time (requests by stage and site, SLA
  at-risk, legal-risk and breached counts; store/gauges.py), exposed by the web app's
  `/metrics`, so every web replica reports the same numbers and a restart loses nothing.

Labels are codes only (site, stage, kind, channel, method, language): never a name, a date of
birth, an MRN, an address or any other PHI, and never a request id (unbounded cardinality).
"""

from __future__ import annotations

import threading

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
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

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
