"""request search (issue 19): indexes for the staff search box, and its append-only audit

Core PostgreSQL only (no pg_trgm, no unaccent: CI's embedded server has no contrib):

- names: one GIN index on a weighted tsvector ('simple' configuration: lower-cased words, no
  stemming) of the patient's name (weight A) and the requester's and recipient's names
  (weight B); a prefix tsquery (`smi:* & jo:*`, restricted to A or B) is answered from it.
  The expression is repeated exactly in store/search.py (NAMES_VECTOR), or the index is unused;
- the requester's organisation, which the read model does not keep when the requester also
  gave a person's name: a GIN index on the same kind of tsvector over the submission payload;
- MRN: btree on upper(patient_mrn) (exact, case-insensitive);
- date of birth: btree on (patient_dob, received_at) (newest first among the same birthday).
  The tracking number is canonicalised in Python and uses the existing unique index.

`request_searches` records every search: who, when, which kind of query, how many results,
the ids of the requests the page showed, and the query text itself (PHI: kept inside the
app's access control like other audit rows, so the privacy officer can investigate snooping;
never logged). Rows are never changed or
removed (append-only trigger; the app role may only SELECT and INSERT).

Revision ID: 0015_request_search
Revises: 0014_staff_session_clients
Create Date: 2026-12-10 12:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015_request_search"
down_revision = "0014_staff_session_clients"
branch_labels = None
depends_on = None

NAMES_VECTOR = (
    "(setweight(to_tsvector('simple'::regconfig, coalesce(patient_name, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, "
    "coalesce(requester_name, '') || ' ' || coalesce(recipient_name, '')), 'B'))"
)
ORGANISATION_VECTOR = (
    "(to_tsvector('simple'::regconfig, coalesce(payload #>> '{requester,organization}', '')))"
)


def upgrade() -> None:
    op.execute(f"CREATE INDEX ix_requests_search_names ON requests USING gin ({NAMES_VECTOR})")
    op.execute("CREATE INDEX ix_requests_search_mrn ON requests (upper(patient_mrn))")
    op.execute("CREATE INDEX ix_requests_search_dob ON requests (patient_dob, received_at)")
    op.execute(
        "CREATE INDEX ix_intake_submissions_search_organisation ON intake_submissions "
        f"USING gin ({ORGANISATION_VECTOR}) WHERE request_id IS NOT NULL"
    )
    op.create_table(
        "request_searches",
        sa.Column("id", sa.BigInteger(), autoincrement=True, primary_key=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("request_ids", postgresql.JSONB(), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_request_searches_actor_at", "request_searches", ["actor", "at"])
    op.create_index("ix_request_searches_at", "request_searches", ["at"])
    op.execute(
        "CREATE TRIGGER request_searches_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
        "ON request_searches FOR EACH STATEMENT EXECUTE FUNCTION roi_refuse_change()"
    )
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roi_app') THEN "
        "REVOKE ALL ON request_searches FROM roi_app; "
        "GRANT SELECT, INSERT ON request_searches TO roi_app; "
        "GRANT USAGE ON SEQUENCE request_searches_id_seq TO roi_app; END IF; END $$;"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS request_searches_append_only ON request_searches")
    op.drop_index("ix_request_searches_at", table_name="request_searches")
    op.drop_index("ix_request_searches_actor_at", table_name="request_searches")
    op.drop_table("request_searches")
    op.execute("DROP INDEX IF EXISTS ix_intake_submissions_search_organisation")
    op.execute("DROP INDEX IF EXISTS ix_requests_search_dob")
    op.execute("DROP INDEX IF EXISTS ix_requests_search_mrn")
    op.execute("DROP INDEX IF EXISTS ix_requests_search_names")
