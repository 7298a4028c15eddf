"""slack_threads.user_id: whose DM a session's card is in

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

A coach who is linked to another Slack user gets a new card on that user's DM instead of updates
on the old one. Rows from before hold NULL: the card counts as the coach's current one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("slack_threads", sa.Column("user_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("slack_threads", "user_id")
