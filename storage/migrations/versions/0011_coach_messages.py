"""outbox: messages about a coach (not a session), queued once by a unique key

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

- outbox.coach_id: the coach a message is about when it is about no session (the daily agenda,
  booking/agenda.py); NULL for every existing row, which are all about a session.
- outbox.dedupe_key with a unique index: a message that must be queued exactly once however many
  instances queue it, and across restarts ("daily_agenda:<coach id>:<local date>"). NULL for every
  existing row (NULLs never collide, on both engines).

ADD COLUMN and CREATE INDEX on both engines (on SQLite the reference is written inline in the
column, which ADD COLUMN allows and DROP COLUMN drops with it); `outbox` is not rebuilt.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column(
        "outbox",
        sa.Column("coach_id", sa.Integer(), sa.ForeignKey("coaches.id", name="fk_outbox_coach_id"), nullable=True),
        inline_references=sqlite,
    )
    op.add_column("outbox", sa.Column("dedupe_key", sa.String(length=100), nullable=True))
    op.create_index("ux_outbox_dedupe_key", "outbox", ["dedupe_key"], unique=True)


def downgrade() -> None:
    # Messages about a coach (sent or not) mean nothing to the code before 0011: they go.
    op.execute("DELETE FROM outbox WHERE session_id IS NULL AND coach_id IS NOT NULL")
    op.drop_index("ux_outbox_dedupe_key", table_name="outbox")
    op.drop_column("outbox", "dedupe_key")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_outbox_coach_id", "outbox", type_="foreignkey")
    op.drop_column("outbox", "coach_id")
