"""payments: processed webhook events, refunds owed

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Never use batch_alter_table on `sessions`: on SQLite it rebuilds the table and drops the overlap
triggers. Plain ADD/DROP COLUMN work natively (SQLite >= 3.35).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
    )
    op.add_column("sessions", sa.Column("refund_due", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("sessions", "refund_due")
    op.drop_table("payment_events")
