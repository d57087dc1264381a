"""Filling and signing the third-party authorization in tests: the form's values, the code
read from the outbox the mail path writes to (no SMTP host in tests)."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

import httpx

from tests.portal.helpers import hidden

SIGNER_EMAIL = "portia.signer@example.org"
#: Every 164.508(c) element filled in; made-up values.
THIRD_PARTY = {
    "signer": "patient",
    "patient_first_name": "Portia",
    "patient_last_name": "Testpatient",
    "patient_dob": "1979-05-14",
    "site": "minnesota",
    "records_description": "Emergency visit notes and X-ray report, March 2025",
    "date_from": "2025-03-01",
    "date_to": "2025-03-31",
    "recipient_name": "Lakeside Law Office",
    "delivery": "email_link",
    "recipient_email": "records@lakeside-law.example",
    "purpose": "At my request, for my injury claim",
    "expiration_date": "2027-12-31",
    "expiration_event": "",
    "ack_revoke": "yes",
    "ack_conditioning": "yes",
    "ack_redisclosure": "yes",
    "signer_email": SIGNER_EMAIL,
    "phone": "507-555-0112",
    "esign_consent": "yes",
    "signature_name": "Portia Testpatient",
}
PATH = "/request/third-party"


def latest_code(outbox: Path, to: str) -> str:
    """The code in the newest email to this address (the outbox's email folder)."""
    mails = sorted((outbox / "email").glob("portal-code-*.eml"), key=lambda p: p.stat().st_mtime)
    for path in reversed(mails):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == to:
            body = message.get_body(preferencelist=("plain",))
            assert body is not None
            found = re.search(r"\b(\d{6})\b", body.get_content())
            assert found, "no code in the email"
            return found.group(1)
    raise AssertionError("no code was mailed to that address")


async def ask_code(
    c: httpx.AsyncClient, lang: str, values: dict[str, str]
) -> tuple[httpx.Response, dict[str, str]]:
    """Open the form and press "Email me a code": the answer and the form's hidden fields."""
    page = await c.get(f"{PATH}?lang={lang}")
    assert page.status_code == 200
    data = {
        "csrf_token": hidden(page.text, "csrf_token"),
        "form_id": hidden(page.text, "form_id"),
        "lang": lang,
        "website": "",
        **values,
        "code_request": "yes",
    }
    answer = await c.post(f"{PATH}/code", data=data)
    return answer, data


async def sign_and_send(
    c: httpx.AsyncClient, outbox: Path, lang: str, values: dict[str, str], code: str | None = None
) -> httpx.Response:
    """Ask for a code, read it from the outbox, send the signed form with it."""
    answer, data = await ask_code(c, lang, values)
    assert answer.status_code == 200, answer.text[-2000:]
    data.pop("code_request")
    data["form_id"] = hidden(answer.text, "form_id")
    data["code"] = code or latest_code(outbox, values["signer_email"])
    return await c.post(PATH, data=data)
