"""where each record went (job, stage, kind) and which runs were undone, by whom

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 01:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("export", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ats_job_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("ats_stage_id", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column(
                "exported_as",
                sa.Enum("prospect", "applicant", name="exportas", native_enum=False, length=32),
                nullable=True,
            )
        )
    with op.batch_alter_table("export_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("undone_at", storage.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("undone_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("export_run", schema=None) as batch_op:
        batch_op.drop_column("undone_by")
        batch_op.drop_column("undone_at")
    with op.batch_alter_table("export", schema=None) as batch_op:
        batch_op.drop_column("exported_as")
        batch_op.drop_column("ats_stage_id")
        batch_op.drop_column("ats_job_id")
