"""The database roles: the owner migrates, the app (`roi_app`) only reads and writes rows.

Migrations run as the role that owns the tables (ROI_MIGRATION_DATABASE_URL). The web app, the
workers and the CLI connect as `roi_app` (ROI_DATABASE_URL), which is neither the owner nor a
superuser: it cannot disable or drop a trigger, set `session_replication_role`, or TRUNCATE,
and on the audit tables it may only SELECT and INSERT. So the append-only audit trail holds
even against the app's own credentials.

A DBA creates `roi_app` (deploy/RUNBOOK.md); the demo and the tests create it themselves
(store/postgres.py `ensure_app_role`). Migration 0006 grants what it needs when the role
exists, and `grant_app_privileges` applies the same grants after every `roi migrate`, so a role
created after the first migration gets them on the next deploy.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

#: The app's login role (web app, workers, CLI).
APP_ROLE = "roi_app"

#: Append-only tables: the app may read and add rows, never change or remove them. Every table
#: with an append-only trigger must be here (tests/hostile/test_audit_bypass.py checks).
AUDIT_TABLES: tuple[str, ...] = (
    "request_events",
    "disclosures",
    "download_access_events",
    "security_events",
    "accounting_suspensions",
    "request_searches",
)

#: Tables the app reads but must never write.
READ_ONLY_TABLES: tuple[str, ...] = ("alembic_version",)


def _grants_sql(role: str) -> str:
    audit = ", ".join(f"'{t}'" for t in AUDIT_TABLES)
    read_only = ", ".join(f"'{t}'" for t in READ_ONLY_TABLES)
    return f"""
    DO $grant$
    DECLARE
        t text;
        s text := current_schema();
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
            RAISE NOTICE 'role {role} does not exist: no grants made';
            RETURN;
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO {role}', s);
        EXECUTE format(
            'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO {role}', s);
        EXECUTE format('REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA %I '
                       'FROM {role}', s);
        EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO {role}', s);
        FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = s AND c.relkind IN ('r', 'p') AND c.relname IN ({audit})
        LOOP
            EXECUTE format('REVOKE ALL ON TABLE %I.%I FROM {role}', s, t);
            EXECUTE format('GRANT SELECT, INSERT ON TABLE %I.%I TO {role}', s, t);
        END LOOP;
        FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = s AND c.relkind IN ('r', 'p') AND c.relname IN ({read_only})
        LOOP
            EXECUTE format('REVOKE ALL ON TABLE %I.%I FROM {role}', s, t);
            EXECUTE format('GRANT SELECT ON TABLE %I.%I TO {role}', s, t);
        END LOOP;
        -- Tables and sequences the owner creates later (new migrations) are usable at once;
        -- a new audit table is restricted by adding it to AUDIT_TABLES.
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                       'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}', s);
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                       'GRANT USAGE, SELECT ON SEQUENCES TO {role}', s);
    END
    $grant$;
    """


def grant_app_privileges(connection: Connection, role: str = APP_ROLE) -> None:
    """Grant the app role what it needs on every table (idempotent; nothing if it is absent).

    Runs as the owner of the tables (the migration role), in the caller's transaction.
    """
    if not role.replace("_", "").isalnum():
        raise ValueError("a role name is letters, digits and underscores")
    connection.execute(text(_grants_sql(role)))
