"""Calendar sources remember when they started failing, for imports and for pushes

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

- calendar_sources.error_at: since when the import has been failing (with `error`, the why).
- calendar_sources.push_error, push_error_at: the same for writing sessions to a CalDAV calendar.
Both are cleared by the next success; the coach is told once when either starts failing and once
when it recovers (booking/calendar_health.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_sources") as batch:
        batch.add_column(sa.Column("error_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("push_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("push_error_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calendar_sources") as batch:
        batch.drop_column("push_error_at")
        batch.drop_column("push_error")
        batch.drop_column("error_at")
