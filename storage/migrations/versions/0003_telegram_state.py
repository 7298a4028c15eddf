"""telegram_state: the Telegram front end's persisted conversation state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

A new table only; `sessions` is untouched (never batch_alter_table it: on SQLite that rebuilds
the table and drops the overlap triggers).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_state",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('user', 'chat', 'bot', 'conversation', 'callback')", name=op.f("ck_telegram_state_kind")
        ),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_telegram_state")),
    )


def downgrade() -> None:
    op.drop_table("telegram_state")
