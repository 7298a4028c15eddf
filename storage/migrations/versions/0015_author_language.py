"""The language each author reads the bot in

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

- authors.language: "en", "de"...; NULL until chosen (the bot then follows Telegram's language code).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("authors", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    op.drop_column("authors", "language")
