"""`roi users …` as an admin runs it, and the account rules behind it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from app.accounts import AccountError, create_user, seed_demo_accounts
from app.security import verify_password
from runtime.settings import get_settings
from starter import app as roi

runner = CliRunner()


@pytest.fixture
def cli_db(web_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("ROI_DATABASE_URL", web_db)
    get_settings.cache_clear()
    yield web_db
    get_settings.cache_clear()


def test_create_admin_prompts_for_a_hidden_password(cli_db: str) -> None:
    secret = "a-long-admin-pass-1"
    result = runner.invoke(
        roi, ["users", "create-admin", "--username", "cli.admin"], input=f"{secret}\n{secret}\n"
    )
    assert result.exit_code == 0, result.output
    assert "created admin cli.admin" in result.output
    assert secret not in result.output  # never echoed
    short = runner.invoke(
        roi,
        ["users", "create", "cli.spec", "--role", "specialist", "--site", "arizona"],
        input="short\nshort\n",
    )
    assert short.exit_code == 1 and "at least 12" in short.output
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
        input="spec-password-12\nspec-password-12\n",
    )
    assert ok.exit_code == 0, ok.output
    listing = runner.invoke(roi, ["users", "list"])
    assert "cli.spec" in listing.output and "arizona,florida" in listing.output
    token = runner.invoke(roi, ["users", "create-token", "cli-portal"])
    assert token.exit_code == 0 and token.output.startswith("roi_")
    assert runner.invoke(roi, ["users", "deactivate", "cli.spec"]).exit_code == 0
    assert "inactive" in runner.invoke(roi, ["users", "list"]).output


def test_account_rules_and_demo_seed(web_db: str) -> None:
    with pytest.raises(AccountError):
        create_user(web_db, "x", "long-enough-pass", "specialist", "all")  # name too short
    with pytest.raises(AccountError):
        create_user(web_db, "acct.rules", "long-enough-pass", "wizard", "all")
    with pytest.raises(AccountError):
        create_user(web_db, "acct.rules", "long-enough-pass", "specialist", ["mars"])
    first = seed_demo_accounts(web_db)
    again = seed_demo_accounts(web_db)
    assert [(u, r) for u, r, _ in first] == [(u, r) for u, r, _ in again]
    assert {r for _, r, _ in first} == {
        "specialist",
        "supervisor",
        "amendment_specialist",
        "data_integrity_specialist",
        "admin",
    }
    from sqlalchemy import select

    from app.models import StaffUser
    from store.db import session_scope

    with session_scope(web_db) as session:
        users = {u.username: u for u in session.execute(select(StaffUser)).scalars()}
    for username, _, password in again:  # the printed passwords are the ones that work
        assert users[username].password_hash.startswith("$argon2id$")
        assert verify_password(users[username].password_hash, password)
