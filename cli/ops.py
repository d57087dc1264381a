"""Operations: `roi migrate` (the database schema) and `roi reconcile` (workflows that never
started)."""

from __future__ import annotations

from cli.app import app
from cli.common import console, db_url, quiet_logging, run, temporal_client


@app.command()
def migrate() -> None:
    """Apply database migrations (Alembic) as the tables' owner (ROI_MIGRATION_DATABASE_URL,
    else ROI_DATABASE_URL) and grant the app's role (roi_app) its privileges."""
    from config.settings import get_settings
    from store.migrate import upgrade
    from store.postgres import resolve_migration_url

    quiet_logging()
    settings = get_settings()
    upgrade(resolve_migration_url(settings.migration_url, settings.data_dir))
    console.print("[green]Database is up to date.[/]")


@app.command()
def reconcile() -> None:
    """Start the workflow of any stored submission that never got one (after a crash)."""
    from config.settings import get_settings
    from services import intake

    async def go() -> list[str]:
        return await intake.reconcile(db_url(), await temporal_client(), get_settings().task_queue)

    console.print(f"Started {len(run(go()))} workflow(s).")
