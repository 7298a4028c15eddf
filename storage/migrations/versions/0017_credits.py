"""Packages and credits

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

- packages: N sessions of one length at one price, valid for some days; a coach's own or, with
  coach_id NULL, marketplace-wide (booking/credit_model.py).
- credit_entries: the authors' credit ledger. A GRANT is a lot (coach, length, expiry); DEBIT,
  REFUND and EXPIRY entries point at their lot. The balance is the sum, never a stored counter.
  One DEBIT and one REFUND per session at most (unique index); spending is serialised per author
  by an advisory lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite).
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=True),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("price_amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_days", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "sessions > 0 AND duration_minutes > 0 AND price_amount >= 0 AND valid_days > 0",
            name=op.f("ck_packages_ranges"),
        ),
        sa.ForeignKeyConstraint(["coach_id"], ["coaches.id"], name=op.f("fk_packages_coach_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
    )
    op.create_index("ix_packages_coach_id", "packages", ["coach_id"])
    op.create_table(
        "credit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("grant", "debit", "refund", "expiry", name="credit_entry_kind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("package_id", sa.Integer(), nullable=True),
        sa.Column("coach_id", sa.Integer(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("payment_ref", sa.String(length=255), nullable=True),
        sa.CheckConstraint(
            "(kind = 'grant' AND quantity > 0 AND lot_id IS NULL AND duration_minutes IS NOT NULL"
            " AND expires_at IS NOT NULL)"
            " OR (kind = 'refund' AND quantity = 1 AND lot_id IS NOT NULL AND session_id IS NOT NULL)"
            " OR (kind = 'debit' AND quantity = -1 AND lot_id IS NOT NULL AND session_id IS NOT NULL)"
            " OR (kind = 'expiry' AND quantity < 0 AND lot_id IS NOT NULL)",
            name=op.f("ck_credit_entries_entry_shape"),
        ),
        sa.ForeignKeyConstraint(["author_id"], ["authors.id"], name=op.f("fk_credit_entries_author_id")),
        sa.ForeignKeyConstraint(["lot_id"], ["credit_entries.id"], name=op.f("fk_credit_entries_lot_id")),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"], name=op.f("fk_credit_entries_package_id")),
        sa.ForeignKeyConstraint(["coach_id"], ["coaches.id"], name=op.f("fk_credit_entries_coach_id")),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_credit_entries_session_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_entries")),
    )
    op.create_index("ix_credit_entries_author_id", "credit_entries", ["author_id"])
    op.create_index("ix_credit_entries_lot_id", "credit_entries", ["lot_id"])
    op.create_index("uq_credit_entries_session_kind", "credit_entries", ["session_id", "kind"], unique=True)


def downgrade() -> None:
    op.drop_table("credit_entries")
    op.drop_index("ix_packages_coach_id", table_name="packages")
    op.drop_table("packages")
