"""The local demo's imaging archive: Orthanc under the data folder with each imaging demo
patient's synthetic studies, made once (a restart keeps them)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from activities.sources.dicomweb import DicomWebSource
from domain.imaging import check_instances
from domain.request import Patient
from ops import orthanc
from ops.imaging_demo import archive_env, demo_patients, start_demo_archive


def test_the_demo_archive_holds_each_imaging_patients_studies(tmp_path: Path) -> None:
    if problems := orthanc.missing():
        pytest.skip(f"Orthanc missing: {', '.join(problems)}")
    now = datetime.now(UTC)
    patients = demo_patients(now)
    assert len(patients) >= 2
    uids: set[str] = set()
    for run in range(2):  # the second start finds the studies already there
        server = start_demo_archive(tmp_path, now)
        try:
            env = archive_env(server)
            source = DicomWebSource(
                env["ROI_DICOMWEB_URL"],
                user=env["ROI_DICOMWEB_USER"],
                password=env["ROI_DICOMWEB_PASSWORD"],
            )
            found = {p.mrn: source.find_studies(p.mrn) for p in patients}
            assert all(
                [s.modalities for s in studies] == [["CT"], ["CR"], ["MR"]]
                for studies in found.values()
            )
            run_uids = {s.study_uid for studies in found.values() for s in studies}
            assert len(run_uids) == 3 * len(patients)
            if run:
                assert run_uids == uids
            uids = run_uids
            who = patients[0]
            request = Patient(
                first_name=who.given_name,
                last_name=who.family_name,
                date_of_birth=who.birth_date,
                mrn=who.mrn,
            )
            ct = found[who.mrn][0]
            assert check_instances(request, source.instance_headers(ct.study_uid)).clean
        finally:
            server.stop()
