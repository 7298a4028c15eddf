"""refund_attempt: a refund that failed at the provider is retried under a new idempotency key

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

Plain ADD/DROP COLUMN: batch_alter_table on `sessions` would drop the SQLite overlap triggers.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("refund_attempt", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("sessions", "refund_attempt")
