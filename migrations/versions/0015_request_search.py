"""request search (issue 19): indexes for the staff search box, and its append-only audit

Core PostgreSQL only (no pg_trgm, no unaccent: CI's embedded server has no contrib):

- names: GIN indexes on `roi_search_words(text)`, the words of the 'simple' configuration
  (lower-cased, no stemming) each with every one of its prefixes ("Jo Smith": j, jo, s, sm,
  smi, smit, smith), of the patient's name, and of the requester's and recipient's names.
  "smi jo" is then the exact tsquery 'smi' & 'jo', which GIN answers by skipping through the
  rarer word's entries; a prefix tsquery ('smi':* & 'jo':*) had to gather every entry under
  each prefix first (100 ms for two common prefixes among 1,000,000 requests). The
  expressions are repeated exactly in store/search.py, or they go unused;
- the requester's organisation, which the read model does not keep when the requester also
  gave a person's name: the same kind of GIN index over the submission payload;
- MRN: btree on upper(patient_mrn) (exact, case-insensitive);
- date of birth: btree on (patient_dob, received_at) (newest first among the same birthday).
  The tracking number is canonicalised in Python and uses the existing unique index.

`request_searches` records every search: who, when, which kind of query, how many results,
the ids of the requests the page showed, and the query text itself (PHI: kept inside the
app's access control like other audit rows, so the privacy officer can investigate snooping;
never logged). Rows are never changed or removed (append-only trigger; the app role may only
SELECT and INSERT).

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

PATIENT_VECTOR = "roi_search_words(patient_name)"
REQUESTER_VECTOR = "roi_search_words(requester_name || ' ' || recipient_name)"
ORGANISATION_VECTOR = "roi_search_words(coalesce(payload #>> '{requester,organization}', ''))"

#: Every word of a name with each of its prefixes, as lexemes (immutable: it may be indexed;
#: every name schema-qualified, so no search_path changes what an index holds).
SEARCH_WORDS = """
CREATE FUNCTION roi_search_words(text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT pg_catalog.array_to_tsvector(ARRAY(
    SELECT pg_catalog.left(w, n)
    FROM pg_catalog.unnest(pg_catalog.tsvector_to_array(
           pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, $1))) AS w,
         pg_catalog.generate_series(1, pg_catalog.length(w)) AS n))
$$
"""


def upgrade() -> None:
    op.execute(SEARCH_WORDS)
    op.execute(
        f"CREATE INDEX ix_requests_search_patient ON requests USING gin (({PATIENT_VECTOR}))"
    )
    op.execute(
        f"CREATE INDEX ix_requests_search_requester ON requests USING gin (({REQUESTER_VECTOR}))"
    )
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
    op.execute("DROP INDEX IF EXISTS ix_requests_search_requester")
    op.execute("DROP INDEX IF EXISTS ix_requests_search_patient")
    op.execute("DROP FUNCTION IF EXISTS roi_search_words(text)")
