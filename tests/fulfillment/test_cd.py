"""Encrypted CD: an ISO 9660 image with an AES-256 zip and a README, a disc label, and the
password sent by a separate channel; opened here with the password the requester received."""

from __future__ import annotations

import io
import re

import pycdlib
import pytest
import pyzipper
from temporalio.testing import WorkflowEnvironment

from tests import factories
from tests.fulfillment.conftest import Inbox
from tests.fulfillment.helpers import pages_text, release
from tests.harness import Harness

EMAIL = "avery.testpatient@example.org"


def read_iso(data: bytes) -> dict[str, bytes]:
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(data))
    files = {}
    for name in ("/RECORDS.ZIP;1", "/README.TXT;1"):
        out = io.BytesIO()
        iso.get_file_from_iso_fp(out, iso_path=name)
        files[name] = out.getvalue()
    iso.close()
    return files


async def test_cd_iso_opens_with_the_password_sent_by_email(
    h: Harness, registered_env: WorkflowEnvironment, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    now = await registered_env.get_current_time()
    data = factories.own_records(kind="imaging", delivery_method="cd_mail")
    data["records"] = {"description": "MRI and its report", "record_types": ["imaging"]}
    data["received_at"] = now.isoformat()
    before = len(inbox.to(EMAIL))
    handle = await h.start(data)
    state = await h.state(handle)
    await release(h, handle)  # free: no payment for a CD by mail
    assert (await handle.result()).status == "completed"

    iso = (h.outbox / "cd" / f"{state.request_id}-deliver.iso").read_bytes()
    files = read_iso(iso)
    readme = files["/README.TXT;1"].decode()
    assert "AES-256" in readme and state.tracking_number in readme

    [mail] = inbox.to(EMAIL)[before:]  # the password, by email, not with the disc
    password = re.search(r"password is: (\S+)", mail.get_content())[1]  # type: ignore[index]
    assert password not in readme
    assert password.encode() not in iso
    with pyzipper.AESZipFile(io.BytesIO(files["/RECORDS.ZIP;1"])) as archive:
        with pytest.raises(RuntimeError):
            archive.read("images/d-img-2024.dcm", pwd=b"wrong-password")
        archive.setpassword(password.encode())
        names = archive.namelist()
        assert names == ["images/d-img-2024.dcm"]  # imaging only: the request asked for it
        assert archive.read("images/d-img-2024.dcm").startswith(b"\0" * 128 + b"DICM")
        info = archive.getinfo("images/d-img-2024.dcm")
        assert info.flag_bits & 0x1  # encrypted

    label = pages_text((h.outbox / "cd" / f"{state.request_id}-deliver-label.pdf").read_bytes())
    assert state.tracking_number in label[0] and "Password sent separately" in label[0]
    assert "Avery" not in label[0]


async def test_without_email_the_password_goes_by_its_own_letter(
    h: Harness, registered_env: WorkflowEnvironment
) -> None:
    now = await registered_env.get_current_time()
    data = factories.own_records(kind="imaging", delivery_method="cd_mail")
    data["records"] = {"description": "All of 2024 and 2025"}
    data["requester"]["contact"].pop("email")
    data["received_at"] = now.isoformat()
    handle = await h.start(data)
    state = await h.state(handle)
    await release(h, handle)
    await handle.result()
    letter = h.outbox / "password-letters" / f"{state.request_id}-deliver-password.pdf"
    password = re.search(r"password is:\s+(\S+)", pages_text(letter.read_bytes())[0])[1]  # type: ignore[index]
    files = read_iso((h.outbox / "cd" / f"{state.request_id}-deliver.iso").read_bytes())
    with pyzipper.AESZipFile(io.BytesIO(files["/RECORDS.ZIP;1"])) as archive:
        archive.setpassword(password.encode())
        pages = pages_text(archive.read("records.pdf"))
        assert len(pages) == 4 and all("Avery Fulfiltest" in p for p in pages)  # no dates: all
        assert "images/d-img-2024.dcm" in archive.namelist()
