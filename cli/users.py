"""`roi users …`: staff accounts and intake API tokens from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from app.accounts import (
    AccountError,
    Enrolment,
    create_api_token,
    create_user,
    list_users,
    reset_credentials,
    revoke_api_token,
    update_user,
)
from app.roles import Role
from app.security_log import cli_actor
from store.db import session_scope
from store.web_models import StaffUser

users_app = typer.Typer(help="Staff accounts and intake API tokens.", no_args_is_help=True)


def _db() -> str:
    from config.settings import get_settings
    from store.postgres import resolve_database_url

    settings = get_settings()
    return resolve_database_url(settings.database_url, settings.data_dir)


def _users() -> list[StaffUser]:
    """Every account, by username."""
    with session_scope(_db()) as session:
        return list_users(session)


def _fail(error: AccountError) -> None:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(1)


def _hours() -> int:
    from app.config import WebSettings

    return WebSettings().enrolment_hours


def _print_link(enrolment: Enrolment) -> None:
    """The one-time enrolment link, printed once (only its hash is stored)."""
    from config.settings import get_settings

    typer.echo(
        f"one-time link for {enrolment.username} to set their own password and second factor "
        f"(works once, until {enrolment.expires_at:%Y-%m-%d %H:%M} UTC; shown only now):"
    )
    typer.echo(enrolment.link(get_settings().base_url))


@users_app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="Login name of the first administrator.")] = "admin",
) -> None:
    """Create an administrator; prints the one-time link with which they set their password."""
    try:
        enrolment = create_user(
            _db(), username, Role.ADMIN.value, "all", by=cli_actor(), hours=_hours()
        )
    except AccountError as error:
        _fail(error)
        return
    typer.echo(f"created admin {enrolment.username} ({enrolment.user_id})")
    _print_link(enrolment)


@users_app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Option(help="What the account may do.")],
    site: Annotated[
        list[str] | None,
        typer.Option(help="A site the account covers (repeat), or 'all'.", show_default=False),
    ] = None,
) -> None:
    """Create a staff account; prints the one-time link with which its owner sets their
    password (nobody else ever knows it)."""
    try:
        enrolment = create_user(
            _db(), username, role.value, site or ["all"], by=cli_actor(), hours=_hours()
        )
    except AccountError as error:
        _fail(error)
        return
    typer.echo(f"created {role.value} {enrolment.username} ({enrolment.user_id})")
    _print_link(enrolment)


@users_app.command("reset")
def reset(username: Annotated[str, typer.Argument()]) -> None:
    """Reset an account's password and second factor (its sessions end); prints a new
    one-time link for its owner."""
    found = [u for u in _users() if u.username == username.strip().lower()]
    if not found:
        _fail(AccountError("No such account."))
        return
    enrolment = reset_credentials(_db(), found[0].id, by=cli_actor(), hours=_hours())
    typer.echo(f"reset {enrolment.username}: its password no longer works")
    _print_link(enrolment)


@users_app.command("demo-code")
def demo_code(username: Annotated[str, typer.Argument()]) -> None:
    """ROI_ENV=local only: the current sign-in code of a demo account (the demo enrolled
    its second factor itself; a real account's secret never leaves the server)."""
    import pyotp

    from app import mfa
    from config.settings import Environment, get_settings

    settings = get_settings()
    name = username.strip().lower()
    if settings.env not in (Environment.LOCAL, Environment.TEST) or not name.startswith("demo."):
        _fail(AccountError("Only the local demo's accounts (demo.*) have codes printed."))
        return
    found = [u for u in _users() if u.username == name]
    if not found:
        _fail(AccountError("No such account."))
        return
    with session_scope(_db()) as session:
        row = mfa.state(session, found[0].id)
        sealed = row.sealed_secret if row and row.confirmed_at else None
    if sealed is None:
        _fail(AccountError("That account has no second factor yet."))
        return
    typer.echo(pyotp.TOTP(mfa.unseal(sealed, found[0].id, settings.payload_keys)).now())


@users_app.command("list")
def list_() -> None:
    """Every account: username, role, sites, active."""
    for user in _users():
        sites = "all sites" if user.all_sites else ",".join(user.sites)
        state = "active" if user.active else "inactive"
        typer.echo(f"{user.username:24} {user.role:28} {sites:30} {state}")


@users_app.command("deactivate")
def deactivate(username: Annotated[str, typer.Argument()]) -> None:
    """Stop an account signing in (its sessions end at once)."""
    found = [u for u in _users() if u.username == username.strip().lower()]
    if not found:
        _fail(AccountError("No such account."))
        return
    update_user(_db(), found[0].id, active=False, by=cli_actor())
    typer.echo(f"deactivated {found[0].username}")


@users_app.command("create-token")
def create_token(
    name: Annotated[str, typer.Argument(help="Which system uses it, e.g. patient-portal.")],
) -> None:
    """A bearer token for a system that submits requests to the intake API (shown once)."""
    try:
        token = create_api_token(_db(), name, by=cli_actor())
    except AccountError as error:
        _fail(error)
        return
    typer.echo(token)


@users_app.command("revoke-token")
def revoke_token(name: Annotated[str, typer.Argument()]) -> None:
    """Revoke an intake client's token."""
    try:
        revoke_api_token(_db(), name, by=cli_actor())
    except AccountError as error:
        _fail(error)
        return
    typer.echo(f"revoked {name}")
