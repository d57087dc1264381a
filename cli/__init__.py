"""The `roi` command line (starter.py is its entry point): one module per concern.

- requests: submit, status, list
- actions: the staff actions on access requests (verify ... note)
- ops: migrate, reconcile
- cases: actions on the other request kinds (amendment, proxy, billing, HIMS, accounting)
- disclosures: disclosures made outside the engine, accounting suspensions
- batch / release / users: sub-apps in cli/batch.py and cli/users.py, loaded
  only when invoked (see cli/app.py)

Command modules import heavy dependencies inside the commands: `roi --help` imports only typer,
rich and the light domain types the options need.
"""

from __future__ import annotations

from importlib import import_module

from cli.app import app

# Importing a module registers its commands; `roi --help` lists them in this order.
for _module in ("requests", "actions", "ops", "cases", "disclosures"):
    import_module(f"cli.{_module}")

__all__ = ["app"]
