"""The whole-suite PHI scan (tests/hostile/phi_scan.py) finds what it must and only that: synthetic
patient data, live download tokens and CD passwords."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from itsdangerous import URLSafeSerializer

from activities.channels import cd
from config.redact import REDACTED
from store import links
from tests.hostile import phi_scan

ROOT = Path(__file__).resolve().parents[2]


def test_the_scan_knows_every_kind_of_synthetic_phi() -> None:
    kinds = set(phi_scan.synthetic_phi().values())
    assert {"first_name", "last_name", "date_of_birth", "mrn", "line1", "phone", "email"} <= kinds


def test_the_scan_finds_phi_in_a_log_line_and_not_opaque_ids() -> None:
    pattern = phi_scan._pattern()
    leaked = '{"event": "intake.stored", "name": "TESTPATIENT", "dob": "1984-03-09"}'
    assert {m.group(1).lower() for m in pattern.finditer(leaked)} == {"testpatient", "1984-03-09"}
    clean = (
        '{"event": "request.projected", "request_id": "01m88ysey...", '
        '"workflow_id": "roi-01m88ysey", "tracking_number": "ROI-7KQ2M-9XZ4P", "status": 422}'
    )
    assert pattern.search(clean) is None


def test_the_scan_flags_a_download_token_and_cd_password_issued_in_the_run() -> None:
    phi_scan.learn_secrets()  # on in every ROI_PHI_SCAN run; idempotent
    token = links.LinkSigner("scan-test-secret").token("01hscantestlink00000000001")
    password = cd.disc_password("scan-test-secret", "01hscantest-deliver")
    assert phi_scan.ISSUED[token] == phi_scan.TOKEN
    assert phi_scan.ISSUED[password] == phi_scan.PASSWORD

    leaked = f'{{"event": "web.request", "path": "/download/{token}", "status": 200}}'
    assert phi_scan.findings(leaked) == ["a live download link token"]
    assert phi_scan.findings(f"Its password is: {password}") == ["a live CD password"]
    # the redacted line, the link's opaque id and a password nobody issued are fine
    clean = (
        f'{{"event": "web.request", "path": "/download/{REDACTED}", "status": 200}} '
        '{"event": "download.accessed", "link_id": "01hscantestlink00000000001"} '
        "Its password is: ABCDEFGHIJKLMNOPQRST"
    )
    assert phi_scan.findings(clean) == []


def test_the_scan_recognises_a_token_nobody_registered() -> None:
    """A token signed elsewhere (another process, another key) is caught by its shape."""
    serializer = URLSafeSerializer("some-other-key", salt=links.SALT)
    for link_id in ("01hxk3v9s7q2m4n6p8r0t1w3y5", "01h" + "0" * 23):  # plain and compressed
        token = serializer.dumps(link_id)
        assert token not in phi_scan.ISSUED
        line = f'127.0.0.1:40000 - "GET /download/{token}?utm=x HTTP/1.1" 200'
        assert phi_scan.findings(line) == ["a live download link token"]


LEAKY_TESTS = """
import logging

from activities.channels import cd
from store import links


def test_logs_a_token():
    token = links.LinkSigner("inner-secret").token("01hinnertestlink0000000001")
    logging.getLogger("leaky").warning("GET /download/%s", token)


def test_prints_a_password():
    print("password:", cd.disc_password("inner-secret", "inner-deliver"))


def test_logs_only_the_redacted_path():
    links.LinkSigner("inner-secret").token("01hinnertestlink0000000002")
    logging.getLogger("careful").warning("GET /download/[redacted]")
"""


def test_a_run_whose_test_logs_a_token_fails(tmp_path: Path) -> None:
    """The scan as pytest runs it: a separate run of three passing tests, two of which leak
    a secret they never registered, must fail and name those two (never the secret)."""
    (tmp_path / "test_leaky.py").write_text(LEAKY_TESTS)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    run = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "tests.hostile.phi_scan"),
            *("-p", "no:cacheprovider", "-c", str(tmp_path / "pytest.ini"), str(tmp_path)),
        ],
        cwd=ROOT,
        env={**os.environ, "ROI_PHI_SCAN": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = run.stdout + run.stderr
    assert "3 passed" in output and run.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert "test_leaky.py::test_logs_a_token: Captured log call: a live download link token" in (
        output
    )
    assert "test_leaky.py::test_prints_a_password: Captured stdout call: a live CD password" in (
        output
    )
    assert "test_logs_only_the_redacted_path" not in output
    token = links.LinkSigner("inner-secret").token("01hinnertestlink0000000001")
    password = cd.disc_password("inner-secret", "inner-deliver")
    assert token not in output and password not in output  # the report names, never shows
