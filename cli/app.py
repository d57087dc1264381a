"""The `roi` typer app. Its commands are registered by the modules of this package (imported
by cli/__init__.py); the `batch`, `release` and `users` sub-apps are loaded only when one of
them is invoked (their modules import Temporal and the database), so `roi --help` stays fast."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer import _click
from typer.core import TyperGroup


def _batch() -> typer.Typer:
    from cli.batch import batch_app

    return batch_app


def _release() -> typer.Typer:
    from cli.batch import release_app

    return release_app


def _users() -> typer.Typer:
    from cli.users import users_app

    return users_app


#: name -> (the help `roi --help` lists, the sub-app). The help must be the sub-app's own
#: (tests/test_cli_lazy.py checks that it is).
LAZY_SUB_APPS: dict[str, tuple[str, Callable[[], typer.Typer]]] = {
    "batch": ("The daily mail, CD and FedEx batch of each site.", _batch),
    "release": ("Release safeguards: links and sensitive reviews.", _release),
    "users": ("Staff accounts and intake API tokens.", _users),
}


def load_sub_app(name: str) -> _click.Command:
    """The sub-app's command group exactly as `app.add_typer(sub_app, name=name)` builds it."""
    holder = typer.Typer(rich_markup_mode="rich")
    holder.add_typer(LAZY_SUB_APPS[name][1](), name=name)
    group = typer.main.get_group(holder)
    return group.commands[name]


class _LazySubApp(TyperGroup):
    """Stands for a sub-app in the listing; the real group is built once it is invoked."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: _click.Context | None = None,
        **extra: Any,
    ) -> _click.Context:
        assert self.name is not None
        return load_sub_app(self.name).make_context(info_name, args, parent=parent, **extra)


class _RootGroup(TyperGroup):
    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (help_text, _load) in LAZY_SUB_APPS.items():
            self.commands[name] = _LazySubApp(
                name=name, help=help_text, rich_markup_mode=self.rich_markup_mode
            )


app = typer.Typer(
    cls=_RootGroup,
    help="Release-of-information engine: submit, inspect and work records requests.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


@app.callback()
def _refuse_demo_settings() -> None:
    # Runs before every command: outside ROI_ENV=local/test, demo settings stop it (exit 78).
    from config.logging import configure_logging
    from config.production import Component, demo_settings_in_use, refuse_demo_settings
    from config.settings import get_settings

    settings = get_settings()
    if demo_settings_in_use(settings, Component.CLI):
        configure_logging("WARNING", "console")  # the refusal event goes to stderr
        refuse_demo_settings(settings, Component.CLI)
