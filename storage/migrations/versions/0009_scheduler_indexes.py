"""partial indexes for the scheduler's queries and the slot calendar

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Every scheduler tick asks for work that is due (expired holds, sessions to start or complete,
refunds owed, checkouts to watch, meeting links missing, outbox messages due) and every month
view asks for one coach's busy spans. Without these indexes those queries read history that only
grows (completed and cancelled sessions, sent messages). Each index below holds only the rows its
query can return, so the queries stay flat as history grows:

- ix_sessions_active_span: the busy spans of one coach (the slot calendar, the booking check,
  SQLite's overlap trigger), active sessions only;
- ix_sessions_held: holds by expiry (replaces ix_sessions_status_hold, a full index);
- ix_sessions_scheduled_start, ix_sessions_in_progress_end: sessions due to start / to complete;
- ix_sessions_meeting_missing: scheduled sessions still without a meeting link;
- ix_sessions_refund_owed: sessions that still owe a refund;
- ix_sessions_checkout_left_open: unpaid cancelled sessions whose checkout was never closed;
- ix_outbox_due: now unsent messages only, by recipient and due time (was every message).

The predicates are written with their constants in the SQL, exactly as storage/tables.py declares
them and the repositories query them (a partial index is only used when the query's WHERE implies
the index's). Plain CREATE/DROP INDEX on both engines: never batch_alter_table on `sessions`, which
on SQLite rebuilds the table and drops the overlap triggers. On PostgreSQL each CREATE INDEX takes
a write lock on its table for as long as it scans it (well under a second at 200k sessions).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ACTIVE = "status IN ('held', 'scheduled', 'in_progress')"

# name: (table, columns, predicate)
INDEXES = {
    "ix_sessions_active_span": ("sessions", ["coach_id", "blocked_from", "blocked_until"], ACTIVE),
    "ix_sessions_held": ("sessions", ["hold_expires_at"], "status = 'held'"),
    "ix_sessions_scheduled_start": ("sessions", ["starts_at"], "status = 'scheduled'"),
    "ix_sessions_in_progress_end": ("sessions", ["ends_at"], "status = 'in_progress'"),
    "ix_sessions_meeting_missing": ("sessions", ["starts_at"], "status = 'scheduled' AND meeting_url IS NULL"),
    "ix_sessions_refund_owed": ("sessions", ["id"], "refund_due > 0"),
    "ix_sessions_checkout_left_open": (
        "sessions",
        ["cancelled_at"],
        "status = 'cancelled' AND checkout_url IS NOT NULL AND amount_paid = 0",
    ),
    "ix_outbox_due": ("outbox", ["recipient", "due_at"], "sent_at IS NULL"),
}


def upgrade() -> None:
    op.drop_index("ix_sessions_status_hold", table_name="sessions")
    op.drop_index("ix_outbox_due", table_name="outbox")
    for name, (table, columns, where) in INDEXES.items():
        op.create_index(name, table, columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def downgrade() -> None:
    for name, (table, _columns, _where) in reversed(INDEXES.items()):
        op.drop_index(name, table_name=table)
    op.create_index("ix_outbox_due", "outbox", ["sent_at", "recipient", "due_at"])
    op.create_index("ix_sessions_status_hold", "sessions", ["status", "hold_expires_at"])
