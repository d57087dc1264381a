"""The app's own database credentials cannot rewrite the audit trail (issue 14, item 2).

The web app and the workers connect as `roi_app` (store/roles.py), not as the tables' owner:
every way around the append-only triggers (changing or removing rows, TRUNCATE, disabling or
dropping a trigger, replacing its function, `session_replication_role = replica`, taking the
owner's role, granting itself more) is refused by PostgreSQL with a permission error, and the
rows are still there afterwards. The tests' app and workers run as this role throughout, so
every other test also proves that ordinary work needs nothing more.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import errors, sql

from store.roles import APP_ROLE, AUDIT_TABLES
from tests.infra import OWNER_ROLE, owner_url_of

#: Each attempt, with {t} the audit table and {trigger} one of its append-only triggers.
BYPASSES: dict[str, str] = {
    "update": "UPDATE {t} SET id = id",
    "delete": "DELETE FROM {t}",
    "truncate": "TRUNCATE {t}",
    "truncate cascade": "TRUNCATE {t} CASCADE",
    "disable all triggers": "ALTER TABLE {t} DISABLE TRIGGER ALL",
    "disable user triggers": "ALTER TABLE {t} DISABLE TRIGGER USER",
    "disable the trigger": "ALTER TABLE {t} DISABLE TRIGGER {trigger}",
    "drop the trigger": "DROP TRIGGER {trigger} ON {t}",
    "rename the table": "ALTER TABLE {t} RENAME TO {t}_old",
    "drop the table": "DROP TABLE {t}",
    "lock out the writers": "LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE",
}

#: Attempts that do not depend on the table.
SESSION_BYPASSES: dict[str, str] = {
    "replica mode": "SET session_replication_role = replica",
    "replica mode by function": "SELECT set_config('session_replication_role', 'replica', false)",
    "replica mode for the role": f"ALTER ROLE {APP_ROLE} SET session_replication_role = replica",
    "become the owner": f"SET ROLE {OWNER_ROLE}",
    "become a superuser": f"ALTER ROLE {APP_ROLE} SUPERUSER",
    "replace the trigger function": (
        "CREATE OR REPLACE FUNCTION roi_refuse_change() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN NULL; END; $$"
    ),
    "drop the trigger function": "DROP FUNCTION roi_refuse_change() CASCADE",
    "copy from a program": "COPY security_events (action, outcome) FROM PROGRAM 'true'",
}


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _triggers(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
        (table,),
    ).fetchall()
    return sorted(r[0] for r in rows)


def _add_row(conn: psycopg.Connection, table: str) -> None:
    """One row as the app writes it (INSERT is allowed), so row-level triggers have work."""
    key, now = uuid.uuid4().hex, datetime.now(UTC)
    statements = {
        "request_events": (
            "INSERT INTO request_events (event_key, request_id, at, actor, action) "
            "VALUES (%s, 'bypass-test', %s, 'system', 'test.row')",
            (key, now),
        ),
        "disclosures": (
            "INSERT INTO disclosures (disclosure_key, request_id, disclosed_at, disclosed_by, "
            "recipient_name, description, purpose, method, category, source) VALUES "
            "(%s, 'bypass-test', %s, 'system', 'Synthetic Recipient', 'test', 'test', "
            "'email_link', 'exempt', 'engine')",
            (key, now),
        ),
        "download_access_events": (
            "INSERT INTO download_access_events (request_id, at, outcome) "
            "VALUES ('bypass-test', %s, 'invalid')",
            (now,),
        ),
        "security_events": (
            "INSERT INTO security_events (at, action, outcome) VALUES (%s, 'test.row', 'ok')",
            (now,),
        ),
        "accounting_suspensions": (
            "INSERT INTO accounting_suspensions (suspension_key, patient_key, agency_type, "
            "agency_name, form, received_on, ends_on, statement, recorded_by, recorded_at, "
            "request_id) VALUES (%s, 'pk', 'law_enforcement', 'Synthetic Agency', 'written', "
            "%s, %s, 'test', 'system', %s, 'bypass-test')",
            (key[:64], now.date(), now.date(), now),
        ),
        "request_searches": (
            "INSERT INTO request_searches (at, actor, kind, query, results, page) "
            "VALUES (%s, 'bypass-test', 'name', 'synthetic', 0, 1)",
            (now,),
        ),
    }
    query, params = statements[table]
    conn.execute(query, params)


def _count(conn: psycopg.Connection, table: str) -> int:
    """This test's rows in the table (the worker may be adding others meanwhile)."""
    where = {
        "security_events": "action = 'test.row'",
        "request_searches": "actor = 'bypass-test'",
    }.get(table, "request_id = 'bypass-test'")
    query = sql.SQL("SELECT count(*) FROM {} WHERE " + where).format(sql.Identifier(table))
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


@pytest.fixture(scope="module")
def app_conn(web_db: str) -> Iterator[psycopg.Connection]:
    """The web app's own credentials (web_db is the URL the test app and worker are given)."""
    with psycopg.connect(_plain(web_db), autocommit=True) as conn:
        yield conn


def test_the_app_and_workers_connect_as_the_least_privilege_role(
    app_conn: psycopg.Connection,
) -> None:
    row = app_conn.execute(
        "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication,"
        " pg_has_role(current_user, %s, 'MEMBER') FROM pg_roles WHERE rolname = current_user",
        (OWNER_ROLE,),
    ).fetchone()
    assert row == (APP_ROLE, False, False, False, False, False, False)
    owned = app_conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
        "WHERE r.rolname = current_user"
    ).fetchone()
    assert owned == (0,), "the app's role owns nothing it could alter"


def test_every_append_only_table_is_read_and_append_only_for_the_app(
    app_conn: psycopg.Connection,
) -> None:
    """A new audit table (a table with an append-only trigger) must be in AUDIT_TABLES: the
    app role may only SELECT and INSERT there."""
    guarded = {
        r[0]
        for r in app_conn.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal AND p.proname IN "
            "('roi_refuse_change', 'roi_download_access_append_only')"
        ).fetchall()
    }
    assert guarded == set(AUDIT_TABLES)
    for table in AUDIT_TABLES:
        rights = {
            p: app_conn.execute("SELECT has_table_privilege(%s, %s)", (table, p)).fetchone()
            for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")
        }
        assert rights == {
            "SELECT": (True,),
            "INSERT": (True,),
            "UPDATE": (False,),
            "DELETE": (False,),
            "TRUNCATE": (False,),
            "TRIGGER": (False,),
            "REFERENCES": (False,),
        }, table
    # Every audit table refuses TRUNCATE by trigger too (download_access_events did not).
    for table in AUDIT_TABLES:
        events = app_conn.execute(
            "SELECT bool_or((t.tgtype & 32) <> 0) FROM pg_trigger t "
            "WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal",
            (table,),
        ).fetchone()
        assert events == (True,), f"{table} has no TRUNCATE trigger"


@pytest.mark.parametrize("table", AUDIT_TABLES)
@pytest.mark.parametrize("attack", list(BYPASSES))
def test_the_app_role_cannot_get_around_an_audit_tables_triggers(
    app_conn: psycopg.Connection, web_db: str, table: str, attack: str
) -> None:
    _add_row(app_conn, table)
    with psycopg.connect(_plain(owner_url_of(web_db)), autocommit=True) as owner:
        triggers = _triggers(owner, table)
        before = _count(owner, table)
        statement = BYPASSES[attack].format(t=table, trigger=triggers[0])
        with pytest.raises(errors.InsufficientPrivilege), app_conn.transaction():
            app_conn.execute(statement)
        assert _triggers(owner, table) == triggers
        enabled = owner.execute(
            "SELECT bool_and(tgenabled = 'O') FROM pg_trigger "
            "WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            (table,),
        ).fetchone()
        assert enabled == (True,)
        assert _count(owner, table) == before


@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_the_app_role_cannot_grant_itself_more(app_conn: psycopg.Connection, table: str) -> None:
    """PostgreSQL answers a GRANT without grant options with a warning; nothing is granted."""
    app_conn.execute(
        sql.SQL("GRANT UPDATE, DELETE, TRUNCATE, TRIGGER ON {} TO {}").format(
            sql.Identifier(table), sql.Identifier(APP_ROLE)
        )
    )
    for privilege in ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER"):
        granted = app_conn.execute(
            "SELECT has_table_privilege(%s, %s)", (table, privilege)
        ).fetchone()
        assert granted == (False,), (table, privilege)


@pytest.mark.parametrize("attack", list(SESSION_BYPASSES))
def test_the_app_role_cannot_switch_the_triggers_off_for_its_session(
    app_conn: psycopg.Connection, attack: str
) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        app_conn.execute(SESSION_BYPASSES[attack])
    replication = app_conn.execute("SHOW session_replication_role").fetchone()
    assert replication == ("origin",)
    assert app_conn.execute("SELECT current_user").fetchone() == (APP_ROLE,)
    # and the triggers still fire for it
    with pytest.raises(errors.InsufficientPrivilege):
        app_conn.execute("DELETE FROM security_events")


def test_the_owner_is_still_refused_by_the_triggers(web_db: str) -> None:
    """Defense in depth: even the migrations' role cannot change an audit row by accident."""
    with psycopg.connect(_plain(owner_url_of(web_db)), autocommit=True) as owner:
        for table in AUDIT_TABLES:
            _add_row(owner, table)
            for statement in ("UPDATE {t} SET id = id", "DELETE FROM {t}", "TRUNCATE {t}"):
                with pytest.raises(psycopg.Error, match="append-only"):
                    owner.execute(statement.format(t=table))
