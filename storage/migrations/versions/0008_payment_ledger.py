"""payments: the ledger of payments per session, each refunded at most what it holds

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

A session paid twice (a remade checkout link paid as well) used to be refunded against its last
payment only. Each payment is now a row, refunds go to a payment, and the database refuses a
refund beyond what a payment holds (CHECK on both engines). Existing paid sessions get one row
each, with what they have had refunded so far.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("refunded", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint("refunded >= 0 AND refunded <= amount", name=op.f("ck_payments_refund_bounds")),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_payments_session_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("session_id", "ref", name=op.f("uq_payments_session_id")),
    )
    op.execute(
        "INSERT INTO payments (session_id, ref, amount, refunded, created_at) "
        "SELECT id, COALESCE(payment_ref, 'session-' || CAST(id AS VARCHAR)), amount_paid, "
        "CASE WHEN amount_refunded > amount_paid THEN amount_paid ELSE amount_refunded END, updated_at "
        "FROM sessions WHERE amount_paid > 0"
    )


def downgrade() -> None:
    op.drop_table("payments")
