"""The `roi` CLI as a specialist uses it: submit, status, actions, refusals, bad input."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from app.accounts import update_user
from config.settings import get_settings
from domain import actions
from domain.calendar import local_date
from domain.types import Site, Status
from services import intake, staff
from starter import app
from store.db import session_scope
from store.models import Disclosure, IntakeSubmission
from tests import factories
from tests.harness import Harness, running_worker
from tests.infra import time_skipping_server
from tests.web.helpers import add_staff

runner = CliRunner()
PASSWORD = "correct-horse-battery-9"


@dataclass(frozen=True)
class Staff:
    """A real staff account: what is typed after --actor, and what the trail records."""

    username: str
    id: str


def account(database_url: str, role: str, sites: list[str] | str = "all") -> Staff:
    """A fresh active account (a unique username: the test database is shared)."""
    username = f"cli.{role[:12]}.{uuid.uuid4().hex[:8]}"
    return Staff(username, add_staff(database_url, username, PASSWORD, role, sites))


@pytest.fixture(scope="module")
async def cli_time() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of this module's own: what `roi status` says about clocks
    (days left, completed N days late) is judged against a clock other tests never skipped."""
    async with time_skipping_server() as env:
        yield env


@pytest.fixture
async def harness(
    cli_time: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> AsyncIterator[Harness]:
    async with running_worker(cli_time.client, database_url, tmp_path / "outbox", cli_time) as h:
        yield h


@pytest.fixture
def cli_env(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    target = harness.client.service_client.config.target_host
    monkeypatch.setenv("ROI_DATABASE_URL", harness.database_url)
    monkeypatch.setenv("ROI_TEMPORAL_ADDRESS", target)
    monkeypatch.setenv("ROI_TASK_QUEUE", harness.task_queue)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield harness
    get_settings.cache_clear()


async def roi(*args: str) -> tuple[int, str]:
    """Run the CLI in a thread so the test's worker keeps running on this event loop."""
    result = await asyncio.to_thread(runner.invoke, app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def write(tmp_path: Path, name: str, data: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


async def test_bad_input_lists_every_field_and_exits_non_zero(
    cli_env: Harness, tmp_path: Path
) -> None:
    data = factories.own_records(delivery_method="pigeon")
    data["patient"]["date_of_birth"] = "not a date"
    code, out = await roi("submit", write(tmp_path, "bad.json", data))
    assert code == 1
    assert "patient.date_of_birth" in out and "delivery_method" in out
    assert "kept for staff review" in out


async def test_submit_status_verify_complete(cli_env: Harness, tmp_path: Path) -> None:
    spec = account(cli_env.database_url, "specialist")
    now = datetime.now(UTC)  # the CLI stamps with the wall clock
    code, out = await roi(
        "submit", write(tmp_path, "ok.json", factories.own_records(received_at=now.isoformat()))
    )
    assert code == 0, out
    tracking = next(w for w in out.split() if w.startswith("ROI-"))
    request_id = out.split("Request id: ")[1].split()[0]
    cli_env.started.append(f"roi-{request_id}")
    handle = cli_env.client.get_workflow_handle(f"roi-{request_id}")
    await cli_env.wait_status(handle, Status.AWAITING_VERIFICATION)

    code, out = await roi("status", tracking)
    assert code == 0 and "awaiting_verification" in out and "Legal due" in out

    code, out = await roi("complete", tracking, "--actor", spec.username)
    assert code == 1 and "not_verified" in out  # refused, with the reason and the field

    code, out = await roi("verify", tracking, "--actor", spec.username, "--method", "photo_id")
    assert code == 0 and "Identity verified" in out
    # the username as typed by a person: other case, stray spaces; the same account
    code, out = await roi("complete", tracking.lower(), "--actor", f"  {spec.username.upper()} ")
    assert code == 0, out
    assert (await handle.result())["status"] == "completed"
    # finished work has no days left: `roi status` gives the completion date, in time
    code, out = await roi("status", tracking)
    today = local_date(Site.MINNESOTA, datetime.now(UTC)).isoformat()
    assert code == 0 and "business days left" not in out, out
    assert "Completed" in out and f"{today} (completed in time)" in out, out

    # the audit trail and the disclosure name the account (its opaque id, as the web app
    # records it), never what was typed
    staff_rows = {e.action: e.actor for e in cli_env.events(request_id) if e.actor != "system"}
    assert staff_rows["identity.verified"] == spec.id
    assert staff_rows["release.approved"] == spec.id
    assert set(staff_rows.values()) == {spec.id}, staff_rows
    [disclosure] = cli_env.disclosures(request_id)
    assert disclosure.disclosed_by == spec.id

    code, out = await roi(
        "extend", tracking, "--actor", spec.username, "--reason", "r", "--new-due", "2027-02-30"
    )
    assert code == 1 and "YYYY-MM-DD" in out


async def test_unknown_reference(cli_env: Harness) -> None:
    code, out = await roi("status", "ROI-NOPE0-NOPE0")
    assert code == 2 and "No request" in out


async def test_submission_is_stored_when_temporal_is_down(
    cli_env: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)  # the CLI stamps with the wall clock
    monkeypatch.setenv("ROI_TEMPORAL_ADDRESS", "127.0.0.1:1")
    get_settings.cache_clear()
    code, out = await roi(
        "submit", write(tmp_path, "ok.json", factories.own_records(received_at=now.isoformat()))
    )
    assert code == 0 and "unreachable" in out, out
    request_id = out.split("Request id: ")[1].split()[0]
    with session_scope(cli_env.database_url) as session:
        stored = session.execute(
            select(IntakeSubmission).where(IntakeSubmission.request_id == request_id)
        ).scalar_one()
        assert stored.outcome == "accepted"
    # Temporal is back: reconcile (also run at worker start) starts it.
    started = await intake.reconcile(cli_env.database_url, cli_env.client, cli_env.task_queue)
    cli_env.started.extend(started)
    assert f"roi-{request_id}" in started
    await cli_env.wait_status(
        cli_env.client.get_workflow_handle(f"roi-{request_id}"), Status.AWAITING_VERIFICATION
    )


async def test_amendment_through_the_cli(cli_env: Harness, tmp_path: Path) -> None:
    amend = account(cli_env.database_url, "amendment_specialist")
    data = factories.amendment(received_at=datetime.now(UTC).isoformat())
    code, out = await roi("submit", write(tmp_path, "amend.json", data))
    assert code == 0, out
    request_id = out.split("Request id: ")[1].split()[0]
    cli_env.started.append(f"roi-{request_id}")
    handle = cli_env.client.get_workflow_handle(f"roi-{request_id}")
    await cli_env.wait_case(handle, Status.UNDER_REVIEW)
    code, out = await roi(
        "amend-deny",
        request_id,
        "--actor",
        amend.username,
        "--basis",
        "too_busy",
        "--explanation",
        "x",
    )
    assert code != 0 and "too_busy" in out  # not one of the four bases
    code, out = await roi(
        "amend-accept", request_id, "--actor", amend.username, "--text", "Allergy removed."
    )
    assert code == 0, out
    assert (await handle.result())["status"] == "completed"
    code, out = await roi("status", request_id)
    assert code == 0 and "completed" in out and "amendment" in out
    assert "business days left" not in out and "Completed" in out and "in time" in out, out
    accepted = [e for e in cli_env.events(request_id) if e.action == "amendment.accepted"]
    assert [e.actor for e in accepted] == [amend.id]


async def test_a_denied_amendment_waiting_on_the_patient_is_parked(
    cli_env: Harness, tmp_path: Path
) -> None:
    """Waiting for the patient's statement of disagreement, the hospital has acted: `roi
    status` shows no business days left and no breach, and says why the clock is met."""
    amend = account(cli_env.database_url, "amendment_specialist")
    data = factories.amendment(received_at=datetime.now(UTC).isoformat())
    code, out = await roi("submit", write(tmp_path, "amend.json", data))
    assert code == 0, out
    request_id = out.split("Request id: ")[1].split()[0]
    cli_env.started.append(f"roi-{request_id}")
    handle = cli_env.client.get_workflow_handle(f"roi-{request_id}")
    await cli_env.wait_case(handle, Status.UNDER_REVIEW)
    code, out = await roi("status", request_id)
    assert code == 0 and "business days left" in out  # open work: days left
    code, out = await roi(
        "amend-deny",
        request_id,
        "--actor",
        amend.username,
        "--basis",
        "accurate_and_complete",
        "--explanation",
        "The entry is accurate.",
    )
    assert code == 0, out
    await cli_env.wait_case(handle, Status.AWAITING_DISAGREEMENT)
    code, out = await roi("status", request_id)
    assert code == 0 and "awaiting_disagreement" in out, out
    assert "business days left" not in out and "BREACHED" not in out
    assert "statement of disagreement" in out and "no days left" in out


# ---- the CLI acts as a real account -------------------------------------------------------


async def awaiting_verification(h: Harness, **overrides: object) -> tuple[str, str]:
    """A request waiting for identity verification: (request id, tracking number)."""
    now = await h.env.get_current_time()  # type: ignore[union-attr]
    handle = await h.start(factories.own_records(received_at=now.isoformat(), **overrides))
    state = await h.wait_status(handle, Status.AWAITING_VERIFICATION)
    return state.request_id, state.tracking_number


async def refused_and_nothing_sent(h: Harness, tracking: str, *actor: str) -> str:
    """Run a valid `verify` (were it sent, the workflow would accept it) and return its output,
    after checking it was refused with exit 1 and the request did not move."""
    rid = staff.resolve_request_id(h.database_url, tracking)
    before = [e.id for e in h.events(rid)]
    code, out = await roi("verify", tracking, *actor, "--method", "photo_id")
    assert code == 1 and "Identity verified" not in out, out
    state = await staff.current_state(h.client, rid)
    assert state.status == Status.AWAITING_VERIFICATION and not state.verified
    assert [e.id for e in h.events(rid)] == before  # not a row in the audit trail
    return out


async def test_unknown_actor_is_refused(cli_env: Harness) -> None:
    _, tracking = await awaiting_verification(cli_env)
    out = await refused_and_nothing_sent(cli_env, tracking, "--actor", "Dr Nobody Testpatient")
    assert "Refused" in out and "no account has that username" in " ".join(out.split())
    assert "Nobody" not in out  # what was typed is not repeated (it could be anything)


async def test_missing_actor_is_refused(cli_env: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    _, tracking = await awaiting_verification(cli_env)
    monkeypatch.setenv("ROI_ACTOR", "   ")
    out = await refused_and_nothing_sent(cli_env, tracking)
    assert "Invalid input" in out and "actor" in out


async def test_deactivated_account_is_refused(cli_env: Harness) -> None:
    _, tracking = await awaiting_verification(cli_env)
    former = account(cli_env.database_url, "specialist")
    update_user(cli_env.database_url, former.id, active=False)
    out = await refused_and_nothing_sent(cli_env, tracking, "--actor", former.username)
    assert "Refused" in out and "deactivated" in out


async def test_a_role_that_may_not_act_is_refused(cli_env: Harness) -> None:
    _, tracking = await awaiting_verification(cli_env)  # an ROI request in Minnesota
    admin = account(cli_env.database_url, "admin")
    out = await refused_and_nothing_sent(cli_env, tracking, "--actor", admin.username)
    assert "Refused: Administrator accounts cannot work requests" in " ".join(out.split())
    amend = account(cli_env.database_url, "amendment_specialist")  # another team's work
    out = await refused_and_nothing_sent(cli_env, tracking, "--actor", amend.username)
    assert "the ROI team's work" in " ".join(out.split())
    integrity = account(cli_env.database_url, "data_integrity_specialist")
    out = await refused_and_nothing_sent(cli_env, tracking, "--actor", integrity.username)
    assert "the ROI team's work" in " ".join(out.split())
    arizona = account(cli_env.database_url, "specialist", ["arizona"])  # another site
    out = await refused_and_nothing_sent(cli_env, tracking, "--actor", arizona.username)
    assert "does not cover this request's site" in " ".join(out.split())


async def test_roi_actor_names_the_account_and_it_is_recorded(
    cli_env: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid, tracking = await awaiting_verification(cli_env, site="arizona")
    supervisor = account(cli_env.database_url, "supervisor", ["arizona"])
    monkeypatch.setenv("ROI_ACTOR", supervisor.username)
    code, out = await roi("verify", tracking, "--method", "photo_id")
    assert code == 0 and "Identity verified" in out, out
    [verified] = [e for e in cli_env.events(rid) if e.action == "identity.verified"]
    assert verified.actor == supervisor.id
    assert (await staff.current_state(cli_env.client, rid)).verified_by == supervisor.id
    from workflows.record_request import RecordRequestWorkflow as W

    handle = cli_env.client.get_workflow_handle(f"roi-{rid}")
    await handle.execute_update(W.cancel, actions.Cancel(actor=supervisor.id, reason="test over"))


async def test_disclosure_record_acts_as_an_roi_account(cli_env: Harness, tmp_path: Path) -> None:
    item = {
        "patient_first_name": "Avery",
        "patient_last_name": "Testpatient",
        "patient_date_of_birth": "1984-03-09",
        "disclosed_at": "2026-01-05T15:00:00+00:00",
        "recipient_name": "Olmsted County Public Health",
        "description": "Immunization record",
        "purpose": "Public health reporting",
        "category": "public_health",
    }
    path = write(tmp_path, "disclosure.json", item)
    amend = account(cli_env.database_url, "amendment_specialist")
    code, out = await roi("disclosure-record", "--actor", amend.username, path)
    assert code == 1 and "Refused" in out
    spec = account(cli_env.database_url, "specialist")
    code, out = await roi("disclosure-record", "--actor", spec.username, path)
    assert code == 0, out
    key = out.split("(")[1].split(")")[0]
    with session_scope(cli_env.database_url) as session:
        row = session.execute(
            select(Disclosure).where(Disclosure.disclosure_key == key)
        ).scalar_one()
        assert row.disclosed_by == spec.id and row.source == "staff"


async def test_release_safeguard_commands_act_as_a_real_account(cli_env: Harness) -> None:
    rid, _ = await awaiting_verification(cli_env)
    admin = account(cli_env.database_url, "admin")
    code, out = await roi("release", "revoke-links", rid, "--actor", admin.username)
    assert code == 1 and "Refused" in out and "link(s) revoked" not in out
    code, out = await roi("release", "review-sensitive", rid, "--actor", "nobody.here")
    assert code == 1 and "no account has that username" in " ".join(out.split())
    spec = account(cli_env.database_url, "specialist")
    code, out = await roi("release", "revoke-links", rid, "--actor", spec.username)
    assert code == 0 and "0 link(s) revoked" in out, out


async def test_status_of_a_request_completed_late_says_how_late(cli_env: Harness) -> None:
    """A breach is permanent history: after the late completion, `roi status` still shows it."""
    from workflows.record_request import RecordRequestWorkflow as W

    spec = account(cli_env.database_url, "specialist")
    now = await cli_env.env.get_current_time()  # type: ignore[union-attr]
    handle = await cli_env.start(
        factories.own_records(received_at=(now - timedelta(days=35)).isoformat())
    )
    state = await cli_env.wait_status(handle, Status.AWAITING_VERIFICATION)
    verify = actions.VerifyIdentity(actor=spec.id, method=actions.IdentityMethod.PHOTO_ID)
    await handle.execute_update(W.verify, verify)
    await handle.execute_update(W.complete, actions.Complete(actor=spec.id))
    assert (await handle.result()).status == "completed"
    row = cli_env.row(state.request_id)
    assert row.closed_at is not None
    closed_on = local_date(Site.MINNESOTA, row.closed_at)
    late = (closed_on - row.due_date).days
    assert late >= 4
    code, out = await roi("status", state.tracking_number)
    assert code == 0, out
    assert f"{closed_on} (completed {late} days late)" in out, out
    assert "BREACHED" in out and "business days left" not in out


async def test_review_of_a_denial_through_the_cli(cli_env: Harness, tmp_path: Path) -> None:
    """Rule hole 6 (issue 15): a reviewable denial is reviewed by someone else, from the CLI."""
    spec = account(cli_env.database_url, "specialist")
    now = datetime.now(UTC)
    code, out = await roi(
        "submit", write(tmp_path, "rv.json", factories.own_records(received_at=now.isoformat()))
    )
    tracking = next(w for w in out.split() if w.startswith("ROI-"))
    request_id = out.split("Request id: ")[1].split()[0]
    cli_env.started.append(f"roi-{request_id}")
    handle = cli_env.client.get_workflow_handle(f"roi-{request_id}")
    await cli_env.wait_status(handle, Status.AWAITING_VERIFICATION)
    me = ("--actor", spec.username)
    code, out = await roi(
        "deny", tracking, *me, "--basis", "endangerment", "--explanation", "Judged by Dr. R.",
        "--professional", "Dr. Robin Rivera",
    )  # fmt: skip
    assert code == 0, out
    code, out = await roi("status", tracking)
    assert code == 0 and "may be requested by the patient" in out, out
    code, out = await roi("review-request", tracking, *me)
    assert code == 0 and "denial_review" in out, out
    code, out = await roi(
        "review-assign", tracking, *me, "--reviewer", "dr robin rivera", "--licensed"
    )
    assert code == 1 and "reviewer_took_part" in out, out
    code, out = await roi("review-assign", tracking, *me, "--reviewer", "Dr. Chen", "--licensed")
    assert code == 0, out
    code, out = await roi("status", tracking)
    assert "reviewer assigned, decision due" in out, out
    code, out = await roi(
        "review-decide", tracking, *me, "--decision", "uphold", "--explanation", "Agreed."
    )
    assert code == 0, out
    assert (await handle.result())["status"] == "denied"


async def test_an_oral_accounting_suspension_is_capped_and_recorded(
    cli_env: Harness, tmp_path: Path
) -> None:
    """roi accounting-suspend: an oral request over 30 days, or without the official's identity,
    is refused field by field; a documented 30-day one is stored (164.528(a)(2))."""
    from store.models import AccountingSuspension

    today = datetime.now(UTC).date()
    item = {
        "patient_first_name": "Avery",
        "patient_last_name": "Testpatient",
        "patient_date_of_birth": "1984-03-09",
        "agency_type": "law_enforcement",
        "agency_name": "City Police Department",
        "form": "oral",
        "received_on": today.isoformat(),
        "ends_on": (today + timedelta(days=31)).isoformat(),
        "statement": "Detective said an accounting would alert a suspect.",
    }
    spec = account(cli_env.database_url, "specialist")
    path = write(tmp_path, "suspension.json", item)
    code, out = await roi("accounting-suspend", "--actor", spec.username, path)
    flat = " ".join(out.split())
    assert code == 1 and "at most 30 days" in flat and "official" in flat, out
    item |= {
        "ends_on": (today + timedelta(days=30)).isoformat(),
        "official_name": "Det. Sam Example",
        "official_identity": "Badge 4411",
    }
    path = write(tmp_path, "suspension.json", item)
    code, out = await roi("accounting-suspend", "--actor", spec.username, path)
    assert code == 0 and "Accounting suspended" in out, out
    key = out.split("(")[1].split(")")[0]
    with session_scope(cli_env.database_url) as session:
        row = session.execute(
            select(AccountingSuspension).where(AccountingSuspension.suspension_key == key)
        ).scalar_one()
        assert (row.form, row.recorded_by, row.official_identity) == ("oral", spec.id, "Badge 4411")
