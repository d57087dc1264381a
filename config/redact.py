"""Secrets out of logs and traces: download tokens in paths, and query strings.

A requester's download link (`/download/<token>` on the staff app, `/imaging/<token>` and
`/records/<token>` on the portal; store/links.py) is the only
credential its holder needs: a token copied from a log line or a trace downloads the records.
Every place that records a request path runs it through `redact_path` first (the app's request
log, uvicorn's access log via `RedactSecrets`, the request spans in config/tracing.py), and
`redact_text` is a last net over every structlog event and stdlib log record.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

REDACTED = "[redacted]"

#: Path segments whose remainder is a credential: a requester's download link, the portal's
#: imaging study page (portal/routes/imaging.py, the same signed token), its records page
#: (portal/routes/records.py), and a staff member's one-time enrolment link
#: (app/routes/account.py); add a segment for any new one.
SECRET_SEGMENTS = ("download", "imaging", "records", "enrol")

_END = "?#\\s\"'<>"  # what ends a path in a URL, a log line or JSON
_SECRET_PATH = re.compile(
    # the rest of the path, unless that is only a route template's `{token}` (a span's name)
    rf"(/(?:{'|'.join(SECRET_SEGMENTS)})/)(?!\{{\w+\}}(?:$|[{_END}]))[^{_END}]+",
    re.IGNORECASE,
)
#: A download token wherever it appears (links.LinkSigner: itsdangerous' URL-safe form of a
#: JSON string): the payload starts `Ij` (base64 of `"`), or `.eJ` when itsdangerous chose to
#: zlib-compress it, then a dot and the signature.
SIGNED_TOKEN = re.compile(r"(?<![\w.-])(?:Ij|\.eJ)[\w-]{8,}\.[\w-]{16,}")


def redact_path(path: str) -> str:
    """A request path or URL as it may be recorded: no query string or fragment (a filter
    could one day carry a name), and nothing after a secret-bearing segment."""
    bare = path.split("?", 1)[0].split("#", 1)[0]
    return redact_text(bare)


def redact_text(text: str) -> str:
    """Free text with any secret path remainder or download token replaced."""
    if "/" not in text and "Ij" not in text and ".eJ" not in text:
        return text
    return SIGNED_TOKEN.sub(REDACTED, _SECRET_PATH.sub(r"\1" + REDACTED, text))


def _scrub(value: Any) -> Any:
    """A log argument made safe: a path or URL loses its query string too. Other objects
    (httpx logs a `URL`) are replaced by their redacted text only when that differs."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else str(value)
    clean = (
        redact_path(text) if text.startswith(("/", "http://", "https://")) else redact_text(text)
    )
    return value if clean == text else clean


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and arguments in place, one by one (uvicorn's access line
    passes the path with its query string as an argument, and its formatter unpacks them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: _scrub(v) for k, v in record.args.items()}
        return True


#: Loggers that write request paths themselves (filters on a logger see its records before
#: any handler, whichever handlers uvicorn's or a deployment's log config installs).
PATH_LOGGERS = ("uvicorn.access", "uvicorn.error")


def install_log_filters() -> None:
    """Put `RedactSecrets` on uvicorn's loggers (idempotent; logging.config keeps filters)."""
    for name in PATH_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


def redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the last net for a path or token in any event's string values."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = redact_text(value)
    return event
