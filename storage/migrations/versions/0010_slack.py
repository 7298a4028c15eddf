"""Slack: a coach's Slack user unique, one-time link codes, each session's parent message

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

- coaches.slack_user_id becomes unique (one Slack user acts for one coach). A Slack user that was
  set on several coaches before stays on the first of them (lowest id) and is cleared on the rest.
- coaches.slack_invite_hash / slack_invite_expires_at: the sha256 of the one-time code that
  `coachbot coach invite` prints and `/coach link CODE` redeems (the code itself is never stored).
- slack_threads: the channel and ts of each session's parent message in the coach's DM.

ADD COLUMN and CREATE INDEX on both engines; `sessions` is untouched.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE coaches SET slack_user_id = NULL WHERE slack_user_id IS NOT NULL AND id NOT IN "
        "(SELECT MIN(id) FROM coaches WHERE slack_user_id IS NOT NULL GROUP BY slack_user_id)"
    )
    op.add_column("coaches", sa.Column("slack_invite_hash", sa.String(length=64), nullable=True))
    op.add_column("coaches", sa.Column("slack_invite_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ux_coaches_slack_user_id", "coaches", ["slack_user_id"], unique=True)
    op.create_index("ux_coaches_slack_invite_hash", "coaches", ["slack_invite_hash"], unique=True)
    op.create_table(
        "slack_threads",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_slack_threads_session_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_slack_threads")),
    )


def downgrade() -> None:
    op.drop_table("slack_threads")
    op.drop_index("ux_coaches_slack_invite_hash", table_name="coaches")
    op.drop_index("ux_coaches_slack_user_id", table_name="coaches")
    # Plain DROP COLUMN (SQLite 3.35+): batch mode would rebuild `coaches`, which sessions reference.
    op.drop_column("coaches", "slack_invite_expires_at")
    op.drop_column("coaches", "slack_invite_hash")
