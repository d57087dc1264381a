"""The whole-suite PHI scan (tests/hostile/phi_scan.py) finds what it must and only that."""

from __future__ import annotations

from tests.hostile import phi_scan


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
