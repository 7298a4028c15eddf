"""Recurring series

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

- session_series: sessions booked together every week or fortnight (booking/series.py): how
  often, how many were asked for, what was done with occurrences not free, how they are paid.
- sessions.series_id: the series a session is an occurrence of (NULL: a single booking).
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column(
            "repeat",
            sa.Enum("weekly", "fortnightly", name="series_repeat", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column(
            "conflicts",
            sa.Enum("refuse", "skip", "append", name="series_conflicts", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "payment",
            sa.Enum("per_session", "per_series", name="series_payment", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("count BETWEEN 2 AND 12", name=op.f("ck_session_series_count_range")),
        sa.ForeignKeyConstraint(["coach_id"], ["coaches.id"], name=op.f("fk_session_series_coach_id")),
        sa.ForeignKeyConstraint(["author_id"], ["authors.id"], name=op.f("fk_session_series_author_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_series")),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column(
        "sessions",
        sa.Column(
            "series_id", sa.Integer(), sa.ForeignKey("session_series.id", name="fk_sessions_series_id"), nullable=True
        ),
        inline_references=sqlite,
    )
    op.create_index("ix_sessions_series_id", "sessions", ["series_id"])


def downgrade() -> None:
    op.drop_index("ix_sessions_series_id", table_name="sessions")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_sessions_series_id", "sessions", type_="foreignkey")
    op.drop_column("sessions", "series_id")
    op.drop_table("session_series")
