"""friends and family (issue 17): the patient's agreement to share with named people

`friends_family_authorizations`: a 164.510(b) agreement sent on the portal, stored as received
(PHI, like intake_submissions.payload) before it is checked, then marked accepted or rejected;
an accepted one carries the patient's opaque key (domain/patients.py), its site and end date so
the staff request page and the family call check find it. Never deleted by the app.

Revision ID: 0022_friends_family
Revises: 0021_portal_uploads
Create Date: 2026-12-01 18:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022_friends_family"
down_revision = "0021_portal_uploads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "friends_family_authorizations",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True, unique=True),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("errors", postgresql.JSONB(), nullable=True),
        sa.Column("patient_key", sa.String(length=64), nullable=True),
        sa.Column("site", sa.String(length=16), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_friends_family_authorizations_patient_key",
        "friends_family_authorizations",
        ["patient_key"],
    )
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roi_app') THEN "
        "GRANT SELECT, INSERT, UPDATE ON friends_family_authorizations TO roi_app; "
        "END IF; END $$;"
    )


def downgrade() -> None:
    op.drop_index(
        "ix_friends_family_authorizations_patient_key", table_name="friends_family_authorizations"
    )
    op.drop_table("friends_family_authorizations")
