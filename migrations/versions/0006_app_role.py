"""least privilege: the app's role (roi_app) may only read and add rows to the audit tables

The app connects as `roi_app` (created by a DBA, the demo or the tests; deploy/RUNBOOK.md), not
as the owner of the tables: it cannot disable or drop triggers, set session_replication_role or
TRUNCATE. On the audit tables it may SELECT and INSERT only. download_access_events also
refuses TRUNCATE now (its row trigger never fired for one), like the other audit tables.

Revision ID: 0006_app_role
Revises: 0005_security_events
Create Date: 2026-12-01 12:00:00
"""

from alembic import op


revision = '0006_app_role'
down_revision = '0005_security_events'
branch_labels = None
depends_on = None

# Frozen copy of store/roles.py at this revision (a migration never follows later code).
GRANTS = """
DO $grant$
DECLARE
    t text;
    s text := current_schema();
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roi_app') THEN
        RAISE NOTICE 'role roi_app does not exist: no grants made';
        RETURN;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO roi_app', s);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO roi_app', s);
    EXECUTE format('REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA %I FROM roi_app', s);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO roi_app', s);
    FOREACH t IN ARRAY ARRAY['request_events', 'disclosures', 'download_access_events',
                             'security_events']
    LOOP
        EXECUTE format('REVOKE ALL ON TABLE %I.%I FROM roi_app', s, t);
        EXECUTE format('GRANT SELECT, INSERT ON TABLE %I.%I TO roi_app', s, t);
    END LOOP;
    EXECUTE format('REVOKE ALL ON TABLE %I.alembic_version FROM roi_app', s);
    EXECUTE format('GRANT SELECT ON TABLE %I.alembic_version TO roi_app', s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                   'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO roi_app', s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                   'GRANT USAGE, SELECT ON SEQUENCES TO roi_app', s);
END
$grant$;
"""

REVOKES = """
DO $revoke$
DECLARE
    s text := current_schema();
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roi_app') THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                   'REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM roi_app', s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
                   'REVOKE USAGE, SELECT ON SEQUENCES FROM roi_app', s);
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM roi_app', s);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM roi_app', s);
END
$revoke$;
"""


def upgrade() -> None:
    op.execute(
        "CREATE TRIGGER download_access_no_truncate BEFORE TRUNCATE ON download_access_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION roi_refuse_change()"
    )
    op.execute(GRANTS)


def downgrade() -> None:
    op.execute(REVOKES)
    op.execute("DROP TRIGGER IF EXISTS download_access_no_truncate ON download_access_events")
