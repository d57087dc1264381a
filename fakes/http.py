"""A tiny threaded HTTP server on loopback for the fakes (stdlib only, started in a thread)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: (status, content type, body) a handler returns
Reply = tuple[int, str, bytes]
Handler = Callable[[str, str, dict[str, list[str]], dict[str, str], bytes], Reply]


def json_reply(status: int, body: Any) -> Reply:
    return status, "application/json", json.dumps(body).encode()


class LoopbackServer:
    """Serve `handler(method, path, query, headers, body)` on loopback (or `host`, for a
    container that other containers call) in a daemon thread."""

    def __init__(self, handler: Handler, port: int = 0, host: str = "127.0.0.1") -> None:
        outer = handler

        class _Handler(BaseHTTPRequestHandler):
            def _dispatch(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, ctype, payload = outer(
                    self.command, parts.path, parse_qs(parts.query), headers, body
                )
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _dispatch

            def log_message(self, format: str, *args: Any) -> None:  # quiet: no PHI in logs
                return

        self.server = ThreadingHTTPServer((host, port), _Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_until_interrupted(server: LoopbackServer, banner: str) -> None:
    """For `python -m fakes.…`: announce the server, then serve until Ctrl-C."""
    print(banner, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
