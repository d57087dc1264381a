"""A download link's token is the only credential its holder needs, so a real download through
the app must leave no token (and no query string) in our request log, uvicorn's access log or
the request's trace spans: only `/download/[redacted]`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import structlog
import uvicorn
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from ulid import ULID

from app.main import create_app
from config import tracing
from config.redact import REDACTED, SIGNED_TOKEN, redact_path, redact_text
from config.settings import Settings
from store import links

SECRET = "redaction-test-link-secret-0123456789"
PDF = b"%PDF-1.4 synthetic released records\n%%EOF\n"
#: A query string a mail client might add to the link; it must not reach a log either.
QUERY = "utm_source=mailclient"


@pytest.fixture
def token(database_url: str, tmp_path: Path) -> str:
    """A live link to a released PDF, as the requester's email carries it."""
    package = tmp_path / "records.pdf"
    package.write_bytes(PDF)
    request_id = str(ULID()).lower()
    link = links.create_link(
        database_url,
        delivery_key=f"{request_id}-deliver",
        request_id=request_id,
        patient_key=None,
        package_path=str(package),
        content_type="application/pdf",
        now=datetime.now(UTC),
        ttl=timedelta(days=1),
    )
    return links.LinkSigner(SECRET).token(link.id)


def _app(database_url: str) -> FastAPI:
    return create_app(Settings(link_secret=SECRET), database_url=database_url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def _served(app: FastAPI, access: logging.Handler) -> AsyncIterator[str]:
    """The app behind a real uvicorn with its default log config and access log on, and one
    more handler on the access logger (added after uvicorn's log config replaced them)."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", lifespan="off")
    )
    logging.getLogger("uvicorn.access").addHandler(access)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
        logging.getLogger("uvicorn.access").removeHandler(access)


class _Records(logging.Handler):
    """Every record a logger hands its handlers (as a JSON log shipper would get them)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_download_leaves_no_token_in_the_request_or_access_log(
    database_url: str,
    token: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    access_records = _Records()
    async with (
        _served(_app(database_url), access_records) as base,
        httpx.AsyncClient(base_url=base) as browser,
    ):
        response = await browser.get(f"/download/{token}?{QUERY}")
    assert response.status_code == 200 and response.content == PDF  # a real, served download

    out, err = capsys.readouterr()
    logged = out + err + caplog.text
    assert token not in logged and token.split(".")[1] not in logged
    assert QUERY not in logged
    # uvicorn's access line, as its own formatter printed it
    assert f'"GET /download/{REDACTED} HTTP/1.1" 200' in out
    # our request line (structlog JSON on stderr)
    assert '"event": "web.request"' in err and f'"path": "/download/{REDACTED}"' in err
    # what any other handler on uvicorn's access logger receives
    [access] = [r for r in access_records.records if "download" in r.getMessage()]
    assert access.args and f"/download/{REDACTED}" in access.args
    assert token not in access.getMessage()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, into memory, for this test only."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    yield exporter
    tracing.install(None)
    provider.shutdown()


async def test_a_download_span_carries_no_token_or_query(
    database_url: str, token: str, spans: InMemorySpanExporter
) -> None:
    app = _app(database_url)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://roi.test") as browser:
        response = await browser.get(f"/download/{token}?{QUERY}")
    assert response.status_code == 200 and response.content == PDF

    finished = spans.get_finished_spans()
    [server] = [s for s in finished if s.kind == SpanKind.SERVER]
    attributes = dict(server.attributes or {})
    assert attributes["http.target"] == f"/download/{REDACTED}"
    assert attributes["http.url"] == f"http://roi.test/download/{REDACTED}"
    assert attributes["http.route"] == "/download/{token}"  # the template, never the value
    everything = repr([(s.name, dict(s.attributes or {}), s.events) for s in finished])
    assert token not in everything and token.split(".")[1] not in everything
    assert QUERY not in everything


def test_the_span_hook_redacts_new_semantic_convention_keys_and_names() -> None:
    """url.path / url.query / url.full (OTEL_SEMCONV_STABILITY_OPT_IN=http) and a span named
    after a raw path (no route matched) are redacted too."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    secret = "IjAxaGV4YW1wbGVsaW5rMDAwMDAwMDAwMDAwMCIi.c2lnbmF0dXJlc2lnbmF0dXJlc2ln"
    with provider.get_tracer("test").start_as_current_span(f"GET /download/{secret}") as span:
        span.set_attribute("url.path", f"/download/{secret}")
        span.set_attribute("url.query", QUERY)
        span.set_attribute("url.full", f"https://roi.test/download/{secret}?{QUERY}")
        span.set_attribute("http.request.header.referer", [f"https://roi.test/download/{secret}"])
        span.set_attribute("http.request.method", "GET")
        tracing._path_only(span, {"path": f"/download/{secret}"})
    [done] = exporter.get_finished_spans()
    provider.shutdown()
    assert done.name == f"GET /download/{REDACTED}"
    assert dict(done.attributes or {}) == {
        "url.path": f"/download/{REDACTED}",
        "url.query": "",
        "url.full": f"https://roi.test/download/{REDACTED}",
        "http.request.header.referer": (f"https://roi.test/download/{REDACTED}",),
        "http.request.method": "GET",
    }


def test_redaction_keeps_opaque_ids_and_drops_queries() -> None:
    assert redact_path("/requests/01hx9abc/audit?page=2") == "/requests/01hx9abc/audit"
    assert redact_path("/download/abc.def/extra?x=1#y") == f"/download/{REDACTED}"
    assert redact_path("/DOWNLOAD/abc") == f"/DOWNLOAD/{REDACTED}"
    assert redact_path("/status/ROI-7KQ2M-9XZ4P") == "/status/ROI-7KQ2M-9XZ4P"
    assert redact_text("GET /download/{token}") == "GET /download/{token}"  # a route template


def test_the_token_shape_matches_tokens_the_signer_makes() -> None:
    """SIGNED_TOKEN is how logs and the PHI scan recognise a token anywhere: it must keep
    matching what links.LinkSigner issues (a change of format fails here first)."""
    signer = links.LinkSigner("any-secret")
    plain = signer.token(str(ULID()).lower())  # what create_link's ids give
    packed = signer.token("01h" + "0" * 23)  # itsdangerous zlib-compresses repetitive ids
    assert plain.startswith("Ij") and packed.startswith(".eJ")
    for made in (plain, packed):
        assert SIGNED_TOKEN.fullmatch(made) and redact_path(f"/x?t={made}") == "/x"
        assert REDACTED in redact_text(f"token={made}") and made not in redact_text(made)


def test_any_log_line_with_a_token_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    """The last net (config/logging.py, set up for every test): a token that reaches a
    structlog event or a stdlib record, even inside an httpx URL object, is replaced."""
    token = links.LinkSigner(SECRET).token(str(ULID()).lower())
    structlog.get_logger("careless").info("mail.link", url=f"https://roi.test/download/{token}")
    url = httpx.URL(f"https://roi.test/download/{token}?{QUERY}")
    logging.getLogger("careless.stdlib").warning("fetched %s (%s)", url, f"token={token}")
    err = capsys.readouterr().err
    assert token not in err and QUERY not in err
    assert f'"url": "https://roi.test/download/{REDACTED}"' in err
    assert f"fetched https://roi.test/download/{REDACTED} (token={REDACTED})" in err
