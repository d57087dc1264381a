"""OpenTelemetry traces from an API call through its workflow and activities (off by default).

`ROI_OTEL_EXPORTER` chooses where spans go: `none` (default: no provider, no interceptor, no
cost), `console` (stderr, for a look on one machine) or `otlp` (OTLP over HTTP to
`ROI_OTEL_ENDPOINT`, else the standard `OTEL_EXPORTER_OTLP_*` variables).

When tracing is on, every Temporal client this process connects carries Temporal's
`TracingInterceptor` (so do the workers built on it), and the web app is instrumented: a span
for the HTTP request is the parent of `StartWorkflow`, which the worker continues as
`RunWorkflow` and `RunActivity` spans, all in one trace. Span attributes are Temporal's own
(workflow id `roi-<ulid>`, workflow and activity type); no PHI is added to any span. Request
paths are opaque ids and tracking numbers; query strings are dropped from the spans, and a
download link's token is replaced by `[redacted]` (config/redact.py).
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from temporalio.client import Interceptor

from config.redact import redact_path, redact_text
from config.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

log = structlog.get_logger(__name__)

EXPORTERS = ("none", "console", "otlp")

_lock = threading.Lock()
_provider: TracerProvider | None = None


def _exporter(settings: Settings) -> SpanExporter:
    if settings.otel_exporter == "console":
        return ConsoleSpanExporter(out=sys.stderr)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if settings.otel_endpoint:
        return OTLPSpanExporter(endpoint=settings.otel_endpoint)
    return OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / _ENDPOINT itself


def configure(settings: Settings, service: str) -> TracerProvider | None:
    """Set this process's tracer provider from settings, once; None when tracing is off."""
    if settings.otel_exporter not in EXPORTERS:
        raise ValueError(f"ROI_OTEL_EXPORTER must be one of {', '.join(EXPORTERS)}")
    with _lock:
        if _provider is not None or settings.otel_exporter == "none":
            return _provider
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: settings.otel_service_name or service})
    )
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    trace.set_tracer_provider(provider)
    install(provider)
    log.info("tracing.configured", exporter=settings.otel_exporter, service=service)
    return provider


def install(provider: TracerProvider | None) -> None:
    """Use this provider for the clients connected and apps created from now on (tests pass
    their own in-memory one, and None to switch tracing off again)."""
    global _provider
    with _lock:
        _provider = provider


def active() -> TracerProvider | None:
    """The provider in use, or None when tracing is off."""
    return _provider


def client_interceptors() -> list[Interceptor]:
    """Temporal's tracing interceptor when tracing is on (workers inherit it from the client)."""
    provider = _provider
    if provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(provider.get_tracer("roi.temporal"))]


def instrument_app(app: FastAPI) -> bool:
    """Trace every HTTP request of the app when tracing is on; True if it was instrumented."""
    provider = _provider
    if provider is None:
        return False
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls="/metrics,/static/.*,/healthz,/readyz",
        server_request_hook=_path_only,
    )
    return True


#: Attributes holding the request's path or URL (old and new HTTP semantic conventions).
_PATH_KEYS = ("http.target", "url.path", "http.url", "url.full")


def _path_only(span: trace.Span, scope: dict[str, Any]) -> None:
    """Record the path without its query string (a filter could one day carry a name) and
    without a download token (a token in a trace downloads the records). Runs after the
    instrumentation has set every request attribute, so nothing rewrites them afterwards."""
    if span is None or not span.is_recording():
        return
    recorded = dict(getattr(span, "attributes", None) or {})
    for key, value in recorded.items():
        if key == "url.query":
            span.set_attribute(key, "")
        elif isinstance(value, str):
            clean = redact_path(value) if key in _PATH_KEYS else redact_text(value)
            if clean != value:
                span.set_attribute(key, clean)
        elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            # captured headers (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*), e.g. a Referer
            cleaned = [redact_text(v) for v in value]
            if cleaned != list(value):
                span.set_attribute(key, cleaned)
    name = getattr(span, "name", "")
    if isinstance(name, str) and redact_text(name) != name:
        span.update_name(redact_text(name))


def shutdown() -> None:
    """Flush spans still buffered (the worker calls this as it stops)."""
    provider = _provider
    if provider is not None:
        provider.shutdown()
