"""the Slack answer about each exported record, to redraw it as the candidate moves in the ATS

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 03:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ats_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slack_channel", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("slack_ts", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("slack_stale", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f("ix_ats_record_slack_stale"), ["slack_stale"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ats_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ats_record_slack_stale"))
        batch_op.drop_column("slack_stale")
        batch_op.drop_column("slack_ts")
        batch_op.drop_column("slack_channel")
