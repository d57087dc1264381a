"""`roi users …` as an admin runs it, and the account rules behind it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.accounts import (
    AccountError,
    complete_enrolment,
    create_user,
    enrolment_username,
    seed_demo_accounts,
)
from app.security import verify_password
from config.settings import get_settings
from starter import app as roi
from store.db import session_scope
from store.web_models import StaffUser

runner = CliRunner()


@pytest.fixture
def cli_db(web_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("ROI_DATABASE_URL", web_db)
    get_settings.cache_clear()
    yield web_db
    get_settings.cache_clear()


_LINK = re.compile(r"https?://\S+/enrol/(\S+)")


def test_create_admin_prints_a_one_time_link_and_asks_for_no_password(cli_db: str) -> None:
    """The operator never chooses anyone's password: `create-admin`, `create` and `reset`
    print a one-time link with which the person sets their own."""
    result = runner.invoke(roi, ["users", "create-admin", "--username", "cli.admin"], input="")
    assert result.exit_code == 0, result.output
    assert "created admin cli.admin" in result.output
    token = _LINK.search(result.output)
    assert token, result.output
    assert enrolment_username(cli_db, token.group(1)) == "cli.admin"
    ok = runner.invoke(
        roi,
        [
            "users",
            "create",
            "cli.spec",
            "--role",
            "specialist",
            "--site",
            "arizona",
            "--site",
            "florida",
        ],
    )
    assert ok.exit_code == 0, ok.output
    link = _LINK.search(ok.output)
    assert link
    complete_enrolment(cli_db, link.group(1), "spec-chose-this-Phrase")
    reset = runner.invoke(roi, ["users", "reset", "cli.spec"])
    assert reset.exit_code == 0 and _LINK.search(reset.output), reset.output
    with session_scope(cli_db) as session:
        user = session.execute(
            select(StaffUser).where(StaffUser.username == "cli.spec")
        ).scalar_one()
        assert user.password_hash is None  # the old password stopped working at once
    listing = runner.invoke(roi, ["users", "list"])
    assert "cli.spec" in listing.output and "arizona,florida" in listing.output
    made = runner.invoke(roi, ["users", "create-token", "cli-portal"])
    assert made.exit_code == 0 and made.output.startswith("roi_")
    assert runner.invoke(roi, ["users", "deactivate", "cli.spec"]).exit_code == 0
    assert "inactive" in runner.invoke(roi, ["users", "list"]).output


def test_account_rules_and_demo_seed(web_db: str, cli_db: str) -> None:
    with pytest.raises(AccountError):
        create_user(web_db, "x", "specialist", "all")  # name too short
    with pytest.raises(AccountError):
        create_user(web_db, "acct.rules", "wizard", "all")
    with pytest.raises(AccountError):
        create_user(web_db, "acct.rules", "specialist", ["mars"])
    first = seed_demo_accounts(web_db)
    again = seed_demo_accounts(web_db)
    assert [(u, r) for u, r, _, _ in first] == [(u, r) for u, r, _, _ in again]
    assert {r for _, r, _, _ in first} == {
        "specialist",
        "supervisor",
        "amendment_specialist",
        "data_integrity_specialist",
        "admin",
        "privacy_officer",
    }
    with session_scope(web_db) as session:
        users = {u.username: u for u in session.execute(select(StaffUser)).scalars()}
    for username, _, password, secret in again:  # the printed ones are the ones that work
        code = runner.invoke(roi, ["users", "demo-code", username])
        assert code.exit_code == 0 and code.output.strip() == pyotp.TOTP(secret).now()
        stored = users[username].password_hash
        assert stored is not None and stored.startswith("$argon2id$")
        assert verify_password(stored, password)
