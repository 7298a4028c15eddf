"""Waiting lists

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

- waitlist_entries: an author waiting for a coach's full slot, day or week (booking/waitlist.py):
  the window of starts wanted, the length, the zone it was read in, and the entry's status with
  the held session of its offer. Line order is the id. One open entry per author and want
  (partial unique index), and a held session is the offer of one entry at most.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

OPEN = "status IN ('offered', 'waiting')"


def upgrade() -> None:
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("slot", "day", "week", name="waitlist_kind", native_enum=False, length=20), nullable=False
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "offered",
                "booked",
                "passed",
                "left",
                "expired",
                name="waitlist_status",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("ends_at > starts_at AND duration_minutes > 0", name=op.f("ck_waitlist_entries_window")),
        sa.CheckConstraint(
            "status <> 'offered' OR session_id IS NOT NULL", name=op.f("ck_waitlist_entries_offer_has_session")
        ),
        sa.ForeignKeyConstraint(["coach_id"], ["coaches.id"], name=op.f("fk_waitlist_entries_coach_id")),
        sa.ForeignKeyConstraint(["author_id"], ["authors.id"], name=op.f("fk_waitlist_entries_author_id")),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_waitlist_entries_session_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    op.create_index(
        "ix_waitlist_entries_open",
        "waitlist_entries",
        ["coach_id", "id"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_index(
        "uq_waitlist_entries_open_want",
        "waitlist_entries",
        ["coach_id", "author_id", "kind", "starts_at", "duration_minutes"],
        unique=True,
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_index("uq_waitlist_entries_session_id", "waitlist_entries", ["session_id"], unique=True)
    op.create_index("ix_waitlist_entries_author_id", "waitlist_entries", ["author_id"])


def downgrade() -> None:
    op.drop_table("waitlist_entries")
