"""PHI scan over a whole test run: no synthetic patient's name, date of birth, MRN, address,
phone or email may appear in anything a test run captured (stdout, stderr and log records of
every test, passed or failed, setup and teardown included: the engine's structlog events, the
web app's request lines, uvicorn's access lines, the Temporal SDK's warnings).

Nor may a secret that releases records: a download link token (recognised by its signed
shape, `config.redact.SIGNED_TOKEN`, whoever made it and with whatever key) or any token or CD
password issued during the run (the scan wraps `LinkSigner.token` and `cd.disc_password` at
start-up and remembers every value they return, so no test has to register what it received).

On with `ROI_PHI_SCAN=1`, which `scripts/test` (so CI) sets; a plain `pytest` leaves it off,
because while you debug a failing test its own assertion message may print the test's input.
Registered from tests/conftest.py.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

#: Keys whose values in tests/factories.py are protected health information.
PHI_KEYS = {
    "first_name",
    "middle_name",
    "last_name",
    "date_of_birth",
    "date_of_death",
    "mrn",
    "line1",
    "phone",
    "email",
}
FOUND: list[tuple[str, str, str]] = []  # (test id, section, what was found, never the value)
#: Secrets issued in this process during the run: value -> what it is.
ISSUED: dict[str, str] = {}
TOKEN = "download link token"
PASSWORD = "CD password"


def enabled() -> bool:
    return os.environ.get("ROI_PHI_SCAN", "") not in ("", "0", "false")


def _walk(value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, child in value.items():
            if key in PHI_KEYS and isinstance(child, str):
                yield key, child
            else:
                yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def synthetic_phi() -> dict[str, str]:
    """value -> the kind of PHI it is, from every factory of synthetic requests."""
    from tests import factories

    bodies = [
        factories.own_records(),
        factories.third_party(),
        factories.imaging_fedex(),
        factories.amendment(),
        factories.accounting(),
        factories.billing(),
        factories.proxy_for_minor(),
        factories.deceased_notice(),
        factories.adoption_notice(),
    ]
    # Short values ("Q") would match everywhere; dates are matched only in full.
    return {value: key for body in bodies for key, value in _walk(body) if len(value) >= 4}


_PATTERN: re.Pattern[str] | None = None
_KINDS: dict[str, str] = {}


def _pattern() -> re.Pattern[str]:
    global _PATTERN
    if _PATTERN is None:
        _KINDS.update({v.lower(): k for v, k in synthetic_phi().items()})
        words = sorted(_KINDS, key=len, reverse=True)
        _PATTERN = re.compile(
            r"(?<![\w-])(" + "|".join(re.escape(w) for w in words) + r")(?![\w-])",
            re.IGNORECASE,
        )
    return _PATTERN


def _remember(kind: str, make: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(make)
    def issue(*args: Any, **kwargs: Any) -> str:
        value = make(*args, **kwargs)
        ISSUED[value] = kind
        return value

    issue.__dict__["_phi_scan"] = True
    return issue


def learn_secrets() -> None:
    """From now on, every download token and CD password this process issues is remembered
    (idempotent). Only the scan calls this: the engine itself keeps no such list."""
    from activities.channels import cd
    from store import links

    if not getattr(links.LinkSigner.token, "_phi_scan", False):
        links.LinkSigner.token = _remember(TOKEN, links.LinkSigner.token)  # type: ignore[method-assign]
    if not getattr(cd.disc_password, "_phi_scan", False):
        cd.disc_password = _remember(PASSWORD, cd.disc_password)


def secrets_in(content: str) -> set[str]:
    """What kinds of live secret `content` shows: a signed token of any origin, or a value
    issued during the run."""
    from config.redact import SIGNED_TOKEN

    found = {TOKEN} if SIGNED_TOKEN.search(content) else set()
    found.update(kind for value, kind in list(ISSUED.items()) if value in content)
    return found


def findings(content: str) -> list[str]:
    """What a captured section shows, described without the value itself."""
    phi = [
        f"a synthetic patient's {_KINDS[m.group(1).lower()]}" for m in _pattern().finditer(content)
    ]
    return phi + [f"a live {kind}" for kind in sorted(secrets_in(content))]


def pytest_configure(config: pytest.Config) -> None:
    if enabled():
        learn_secrets()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Scan what this test phase captured."""
    if not enabled():
        return
    for title, content in report.sections:
        for what in findings(content):
            FOUND.append((report.nodeid, title, what))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int) -> None:
    if not enabled():
        return
    if FOUND:
        terminalreporter.section("PHI or secrets found in captured output", red=True)
        for nodeid, title, what in sorted(set(FOUND)):
            terminalreporter.write_line(f"{nodeid}: {title}: {what}")
    else:
        terminalreporter.write_line(
            "PHI scan: no synthetic patient data, download token or CD password in any "
            "captured output"
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if enabled() and FOUND and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
