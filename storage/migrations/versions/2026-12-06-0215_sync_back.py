"""two-way sync: ats_record, ats_record_change, webhook_delivery; webhook token and poll cursor per
connection; the stage digest opt-in per link

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 02:15:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = storage.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ats_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("ats_candidate_id", sa.String(length=128), nullable=False),
        sa.Column("ats_application_id", sa.String(length=128), nullable=True),
        sa.Column("job_id", sa.String(length=128), nullable=True),
        sa.Column("prospect", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(length=255), nullable=True),
        sa.Column("stage_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("record_url", sa.String(length=1024), nullable=True),
        sa.Column("activity_at", UTC, nullable=True),
        sa.Column("synced_at", UTC, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["ats_connection.id"],
            name=op.f("fk_ats_record_connection_id_ats_connection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["export_id"], ["export.id"], name=op.f("fk_ats_record_export_id_export"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["link_id"], ["link.id"], name=op.f("fk_ats_record_link_id_link"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ats_record")),
        sa.UniqueConstraint("export_id", name=op.f("uq_ats_record_export_id")),
    )
    with op.batch_alter_table("ats_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ats_record_team_id"), ["team_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ats_record_ats_candidate_id"), ["ats_candidate_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ats_record_connection_id_ats_record_ats_application_id"),
            ["connection_id", "ats_application_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ats_record_link_id_ats_record_stage"), ["link_id", "stage"], unique=False
        )

    op.create_table(
        "ats_record_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("from_stage", sa.String(length=255), nullable=True),
        sa.Column("to_stage", sa.String(length=255), nullable=True),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("announced", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["export.id"],
            name=op.f("fk_ats_record_change_export_id_export"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["link_id"], ["link.id"], name=op.f("fk_ats_record_change_link_id_link"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ats_record_change")),
    )
    with op.batch_alter_table("ats_record_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ats_record_change_export_id"), ["export_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ats_record_change_team_id_ats_record_change_link_id_ats_record_change_at"),
            ["team_id", "link_id", "at"],
            unique=False,
        )

    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["ats_connection.id"],
            name=op.f("fk_webhook_delivery_connection_id_ats_connection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint(
            "connection_id", "delivery_id", name=op.f("uq_webhook_delivery_connection_id_delivery_id")
        ),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_delivery_received_at"), ["received_at"], unique=False)

    with op.batch_alter_table("ats_connection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_token", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("status_cursor", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("status_polled_at", UTC, nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_ats_connection_webhook_token"), ["webhook_token"])
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stage_digest", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.drop_column("stage_digest")
    with op.batch_alter_table("ats_connection", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_ats_connection_webhook_token"), type_="unique")
        batch_op.drop_column("status_polled_at")
        batch_op.drop_column("status_cursor")
        batch_op.drop_column("webhook_token")
    op.drop_table("webhook_delivery")
    op.drop_table("ats_record_change")
    op.drop_table("ats_record")
