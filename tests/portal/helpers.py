"""Filling the portal's forms in tests."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

LANGUAGES = ("en", "es", "ar", "so", "hmn")
PAGES = ("/", "/request/own-records", "/request/imaging", "/status")

#: A synthetic patient of the test records (tests/records.py) is not needed: intake accepts
#: any well-formed own-records request; these values are made up.
OWN_RECORDS = {
    "relationship": "self",
    "patient_first_name": "Portia",
    "patient_last_name": "Testpatient",
    "patient_dob": "1979-05-14",
    "patient_mrn": "",
    "site": "minnesota",
    "records_description": "Visit notes and lab results",
    "date_from": "2024-01-01",
    "date_to": "2025-06-30",
    "delivery": "email_link",
    "format": "pdf",
    "email": "portia.testpatient@example.org",
    "phone": "507-555-0111",
    "address_line1": "12 Example Street",
    "address_city": "Rochester",
    "address_state": "MN",
    "address_postal_code": "55901",
    "consent": "yes",
}


def hidden(html: str, name: str) -> str:
    """A hidden field's value in a page."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)


def client(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """An HTTP client talking to the app in this event loop, over https as a browser would
    (the portal's cookies are Secure), from this client address."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)),
        base_url="https://testserver",
        follow_redirects=False,
    )


async def fill(
    c: httpx.AsyncClient, path: str, lang: str, values: dict[str, str]
) -> httpx.Response:
    """Open the form (cookies, CSRF token, form id) and send it with these values."""
    page = await c.get(f"{path}?lang={lang}")
    assert page.status_code == 200
    data = {
        "csrf_token": hidden(page.text, "csrf_token"),
        "form_id": hidden(page.text, "form_id"),
        "lang": lang,
        "website": "",
        **values,
    }
    return await c.post(path, data=data)


def tracking_number(html: str) -> str:
    found = re.search(r'id="tracking-number"[^>]*>(ROI-[0-9A-Z]{5}-[0-9A-Z]{5})<', html)
    assert found, "no tracking number on the page"
    return found.group(1)
