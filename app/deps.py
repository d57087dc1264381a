"""What routes are given: the request's database session and the signed-in staff member.

As in the full-stack FastAPI template (`backend/app/api/deps.py`): a route takes
`session: SessionDep` and never opens a session itself. The session is one transaction,
committed once after the route returns (before its answer is sent, so the next request sees
what it wrote) and rolled back when the route raises. FastAPI runs this sync dependency's setup
and teardown in its threadpool, never on the event loop. A route that must keep something
before it goes on (a throttled attempt counted before the secret is checked, a refusal recorded
before its 429) commits at that point; an async route commits before it waits on the workflow
service (`commit`), so no connection idles in a transaction while Temporal answers.

The signed-in staff member is looked up in a transaction of its own (app/auth.py): a lapsed
session is ended and recorded even though the request then answers 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.auth import Signed, ctx_of, half_signed, staff
from store.db import session_scope


def get_db(request: Request) -> Iterator[Session]:
    """The request's session (503 until the app has its database)."""
    with session_scope(ctx_of(request).db()) as session:
        yield session


#: The request's session; its exit runs when the route returns ("function" scope), so the
#: commit happens before the answer leaves.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
#: A signed-in staff member, both factors (401 otherwise).
CurrentStaff = Annotated[Signed, Depends(staff)]
#: A session whose password was right and whose second factor is still to come (401 otherwise).
HalfSigned = Annotated[Signed, Depends(half_signed)]


async def commit(session: Session) -> None:
    """Keep what the route wrote so far and give the connection back to the pool, before an
    async route waits on something slow (the workflow service)."""
    await run_in_threadpool(session.commit)
