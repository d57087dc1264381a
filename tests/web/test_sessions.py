"""Issue 14: a person's own sessions at /account/sessions (when, last used, browser and OS,
the client's one-way label, which one is this one), ending one or all of the others, and an
admin ending anyone's from the accounts page. Each end is a security event; an ended session
is signed out on its next request."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select

from app.security import token_hash
from app.sessions import summarize_agent
from store.db import session_scope
from store.models import SecurityEvent
from store.web_models import StaffSession
from tests.web.conftest import Staff
from tests.web.helpers import SESSION, add_staff, client, csrf, csrf_from, sign_in

WINDOWS_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86"
)


def _id_of(database_url: str, c: httpx.AsyncClient) -> int:
    """The number of the client's session (from its cookie's hash, as the server knows it)."""
    with session_scope(database_url) as session:
        row = session.get(StaffSession, token_hash(c.cookies.get(SESSION) or ""))
        assert row is not None and row.id
        return row.id


def _ends(database_url: str, since: datetime, account: str) -> list[SecurityEvent]:
    with session_scope(database_url) as session:
        rows = list(
            session.execute(
                select(SecurityEvent)
                .where(
                    col(SecurityEvent.action) == "auth.session_end",
                    col(SecurityEvent.at) >= since,
                )
                .order_by(col(SecurityEvent.id))
            ).scalars()
        )
        session.expunge_all()
    return [e for e in rows if (e.detail or {}).get("account") == account]


async def _signed_out(c: httpx.AsyncClient) -> None:
    """The session's next request is the sign-in page (401), saying the session ended."""
    answer = await c.get("/account")
    assert answer.status_code == 401 and "session has ended" in answer.text
    assert "Sign in" in answer.text


@pytest.mark.parametrize(
    ("agent", "summary"),
    [
        (WINDOWS_EDGE, "Edge 131 on Windows"),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/120.0.6099.224 Safari/537.36",
            "Chrome 120 on Linux",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.2 Safari/605.1.15",
            "Safari 17 on macOS",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
            "Safari 17 on iOS",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", None),
        ("python-httpx/0.27.0", "Unknown browser"),
        ("<script>alert(1)</script> Chrome/<b>", "Unknown browser"),
        (None, "Unknown browser"),
    ],
)
def test_client_summary_is_a_fixed_vocabulary(agent: str | None, summary: str | None) -> None:
    assert summarize_agent(agent) == (summary or "Firefox 128 on Linux")


async def test_people_see_and_end_their_own_sessions(web_app: FastAPI, web_db: str) -> None:
    user = add_staff(web_db, "web.sessions.own")
    since = datetime.now().astimezone()
    here = await sign_in(web_app, "web.sessions.own")
    there = client(web_app, address="198.51.100.7")
    there.headers["user-agent"] = WINDOWS_EDGE
    await _sign_in_with(web_app, there, "web.sessions.own")
    third = await sign_in(web_app, "web.sessions.own")
    here_id, there_id, third_id = (_id_of(web_db, c) for c in (here, there, third))

    page = await here.get("/account/sessions")
    assert page.status_code == 200
    text = page.text
    for n in (here_id, there_id, third_id):
        assert f'id="session-{n}"' in text
    assert f'<tr id="session-{here_id}" class="current">' in text and "this session" in text
    assert "Edge 131 on Windows" in text
    assert f"/account/sessions/{here_id}/end" not in text  # this one: Sign out ends it
    # never the cookie's token or its hash (only the number labels a session)
    for c in (here, there, third):
        token = c.cookies.get(SESSION) or ""
        assert token not in text and token_hash(token) not in text
        assert token_hash(token)[:12] not in text

    # end one: it is signed out on its next request; this one and the third go on
    token = await csrf(here)
    ended = await here.post(f"/account/sessions/{there_id}/end", data={"csrf_token": token})
    assert ended.status_code == 303 and ended.headers["location"] == "/account/sessions"
    assert f"Session {there_id} ended" in (await here.get("/account/sessions")).text
    await _signed_out(there)
    assert (await here.get("/account")).status_code == 200
    assert (await third.get("/account")).status_code == 200
    # again: it had already ended (no error, no second event)
    again = await here.post(f"/account/sessions/{there_id}/end", data={"csrf_token": token})
    assert again.status_code == 303
    assert "had already ended" in (await here.get("/account/sessions")).text
    # this session itself: not from here
    own = await here.post(f"/account/sessions/{here_id}/end", data={"csrf_token": token})
    assert own.status_code == 303
    assert "use Sign out" in (await here.get("/account/sessions")).text
    assert (await here.get("/account")).status_code == 200

    # end all the others
    fourth = await sign_in(web_app, "web.sessions.own")
    fourth_id = _id_of(web_db, fourth)
    others = await here.post("/account/sessions/end-others", data={"csrf_token": token})
    assert others.status_code == 303
    assert "2 other sessions ended" in (await here.get("/account/sessions")).text
    await _signed_out(third)
    await _signed_out(fourth)
    assert (await here.get("/account")).status_code == 200

    events = _ends(web_db, since, user)
    assert [(e.actor, e.outcome, (e.detail or {}).get("session")) for e in events] == [
        (user, "ok", there_id),
        (user, "ok", third_id),
        (user, "ok", fourth_id),
    ]
    assert {(e.detail or {}).get("reason") for e in events} == {"ended_by_owner"}
    assert all(e.client and len(e.client) == 16 for e in events)  # one-way labels
    for c in (here, there, third, fourth):
        await c.aclose()


async def _sign_in_with(app: FastAPI, c: httpx.AsyncClient, username: str) -> None:
    from tests.web.helpers import PASSWORD, second_factor

    page = await c.get("/login")
    r = await c.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert r.status_code == 303
    await second_factor(app, c, username, r.headers["location"])


async def test_nobody_ends_another_persons_session_from_their_own_page(
    web_app: FastAPI, web_db: str, staff: Staff
) -> None:
    add_staff(web_db, "web.sessions.victim")
    since = datetime.now().astimezone()
    victim = await sign_in(web_app, "web.sessions.victim")
    victim_id = _id_of(web_db, victim)
    for role in ("specialist", "supervisor", "privacy", "admin"):
        other = await sign_in(web_app, staff.names[role])
        answer = await other.post(
            f"/account/sessions/{victim_id}/end", data={"csrf_token": await csrf(other)}
        )
        assert answer.status_code == 403, role
        assert "only your own sessions" in answer.text
        page = (await other.get("/account/sessions")).text
        assert f"session-{victim_id}" not in page  # nor is it listed to anyone else
        await other.aclose()
    assert (await victim.get("/account")).status_code == 200  # still signed in
    with session_scope(web_db) as session:
        refusals = list(
            session.execute(
                select(SecurityEvent).where(
                    col(SecurityEvent.action) == "access.forbidden",
                    col(SecurityEvent.at) >= since,
                )
            ).scalars()
        )
        reasons = [(r.detail or {}).get("reason") for r in refusals]
    assert reasons.count("session_of_another") == 4
    # without the form's token: 403 too, and nothing ends
    anon_form = await victim.post(f"/account/sessions/{victim_id}/end")
    assert anon_form.status_code == 403
    await victim.aclose()


async def test_an_admin_ends_anyones_sessions(web_app: FastAPI, web_db: str, staff: Staff) -> None:
    target = add_staff(web_db, "web.sessions.target")
    since = datetime.now().astimezone()
    a = await sign_in(web_app, "web.sessions.target")
    b = await sign_in(web_app, "web.sessions.target")
    ids = sorted(_id_of(web_db, c) for c in (a, b))
    admin = await sign_in(web_app, staff.names["admin"])
    page = await admin.get("/admin/users")
    assert 'id="sessions-web.sessions.target">2 sessions' in page.text
    done = await admin.post(
        f"/admin/users/{target}/sessions/end", data={"csrf_token": csrf_from(page.text)}
    )
    assert done.status_code == 303 and done.headers["location"] == "/admin/users"
    after = (await admin.get("/admin/users")).text
    assert "2 sessions of web.sessions.target ended" in after
    assert 'id="sessions-web.sessions.target">0 sessions' in after
    await _signed_out(a)
    await _signed_out(b)
    events = _ends(web_db, since, target)
    assert [(e.actor, (e.detail or {}).get("session")) for e in events] == [
        (staff.ids["admin"], ids[0]),
        (staff.ids["admin"], ids[1]),
    ]
    assert {(e.detail or {}).get("reason") for e in events} == {"ended_by_admin"}
    # an admin's own: every session but the one doing it
    second = await sign_in(web_app, staff.names["admin"])
    own = await admin.post(
        f"/admin/users/{staff.ids['admin']}/sessions/end", data={"csrf_token": await csrf(admin)}
    )
    assert own.status_code == 303
    assert (await admin.get("/admin/users")).status_code == 200
    await _signed_out(second)
    # no such account: 404
    missing = await admin.post(
        "/admin/users/0000000000000000000000zzzz/sessions/end",
        data={"csrf_token": await csrf(admin)},
    )
    assert missing.status_code == 404
    # not an admin: 403, and the sessions stay
    c = await sign_in(web_app, "web.sessions.target")
    spec = await sign_in(web_app, staff.names["supervisor"])
    refused = await spec.post(
        f"/admin/users/{target}/sessions/end", data={"csrf_token": await csrf(spec)}
    )
    assert refused.status_code == 403
    assert (await c.get("/account")).status_code == 200
    for x in (a, b, admin, second, c, spec):
        await x.aclose()
