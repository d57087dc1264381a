"""`roi users …`: staff accounts and intake API tokens from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from app.accounts import (
    AccountError,
    create_api_token,
    create_user,
    list_users,
    revoke_api_token,
    update_user,
)
from app.roles import Role
from app.security_log import cli_actor

users_app = typer.Typer(help="Staff accounts and intake API tokens.", no_args_is_help=True)


def _db() -> str:
    from runtime.postgres import resolve_database_url
    from runtime.settings import get_settings

    settings = get_settings()
    return resolve_database_url(settings.database_url, settings.data_dir)


def _fail(error: AccountError) -> None:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(1)


def _password() -> str:
    return typer.prompt("Password (12+ characters)", hide_input=True, confirmation_prompt=True)


@users_app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="Login name of the first administrator.")] = "admin",
) -> None:
    """Create an administrator (asks for the password, hidden)."""
    try:
        user_id = create_user(_db(), username, _password(), Role.ADMIN.value, "all", by=cli_actor())
    except AccountError as error:
        _fail(error)
        return
    typer.echo(f"created admin {username.lower()} ({user_id})")


@users_app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Option(help="What the account may do.")],
    site: Annotated[
        list[str] | None,
        typer.Option(help="A site the account covers (repeat), or 'all'.", show_default=False),
    ] = None,
) -> None:
    """Create a staff account (asks for the password, hidden)."""
    try:
        user_id = create_user(
            _db(), username, _password(), role.value, site or ["all"], by=cli_actor()
        )
    except AccountError as error:
        _fail(error)
        return
    typer.echo(f"created {role.value} {username.lower()} ({user_id})")


@users_app.command("list")
def list_() -> None:
    """Every account: username, role, sites, active."""
    for user in list_users(_db()):
        sites = "all sites" if user.all_sites else ",".join(user.sites)
        state = "active" if user.active else "inactive"
        typer.echo(f"{user.username:24} {user.role:28} {sites:30} {state}")


@users_app.command("deactivate")
def deactivate(username: Annotated[str, typer.Argument()]) -> None:
    """Stop an account signing in (its sessions end at once)."""
    found = [u for u in list_users(_db()) if u.username == username.strip().lower()]
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
