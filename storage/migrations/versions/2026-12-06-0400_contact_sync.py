"""corrected contact details out: what the app last sent to each ATS record (ats_record.contact_sent, the
conflicts told), each push outcome (contact_event), and addresses marked wrong (candidate_email.wrong_at/by)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 04:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("ats_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_sent", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("contact_told", sa.JSON(), nullable=True))
    with op.batch_alter_table("candidate_email", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wrong_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("wrong_by", sa.String(length=64), nullable=True))
    op.create_table(
        "contact_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidate.id"],
            name=op.f("fk_contact_event_candidate_id_candidate"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["export_id"], ["export.id"], name=op.f("fk_contact_event_export_id_export"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_event")),
    )
    with op.batch_alter_table("contact_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_event_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contact_event_candidate_id"), ["candidate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contact_event_export_id"), ["export_id"], unique=False)


def downgrade() -> None:
    op.drop_table("contact_event")
    with op.batch_alter_table("candidate_email", schema=None) as batch_op:
        batch_op.drop_column("wrong_by")
        batch_op.drop_column("wrong_at")
    with op.batch_alter_table("ats_record", schema=None) as batch_op:
        batch_op.drop_column("contact_told")
        batch_op.drop_column("contact_sent")
