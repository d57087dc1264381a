"""PHI scan over a whole test run: no synthetic patient's name, date of birth, MRN, address,
phone or email may appear in anything a test run captured (stdout, stderr and log records of
every test, passed or failed, setup and teardown included: the engine's structlog events, the
web app's request lines, the Temporal SDK's warnings).

On with `ROI_PHI_SCAN=1`, which `scripts/test` (so CI) sets; a plain `pytest` leaves it off,
because while you debug a failing test its own assertion message may print the test's input.
Registered from tests/conftest.py.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
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
FOUND: list[tuple[str, str, str]] = []  # (test id, section, kind of value)


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


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Scan what this test phase captured."""
    if not enabled():
        return
    for title, content in report.sections:
        for match in _pattern().finditer(content):
            FOUND.append((report.nodeid, title, _KINDS[match.group(1).lower()]))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int) -> None:
    if not enabled():
        return
    if FOUND:
        terminalreporter.section("PHI found in captured output", red=True)
        for nodeid, title, kind in sorted(set(FOUND)):
            terminalreporter.write_line(f"{nodeid}: {title}: a synthetic patient's {kind}")
    else:
        terminalreporter.write_line("PHI scan: no synthetic patient data in any captured output")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if enabled() and FOUND and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
