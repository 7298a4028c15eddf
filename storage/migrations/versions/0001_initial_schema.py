"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Besides the tables, the database itself refuses two active sessions of one coach whose blocked
spans (session plus buffers) overlap: an exclusion constraint on PostgreSQL, triggers on SQLite.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


ACTIVE = "('held', 'scheduled', 'in_progress')"
SQLITE_GUARD = """
CREATE TRIGGER sessions_no_overlap_{event} BEFORE {event} ON sessions
WHEN NEW.status IN {active}
BEGIN
    SELECT RAISE(ABORT, 'coachbot: slot taken')
    WHERE EXISTS (
        SELECT 1 FROM sessions AS other
        WHERE other.coach_id = NEW.coach_id
          AND other.id IS NOT NEW.id
          AND other.status IN {active}
          AND other.blocked_from < NEW.blocked_until
          AND NEW.blocked_from < other.blocked_until
    );
END
"""


def upgrade() -> None:
    op.create_table(
        "authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("reminder_minutes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authors")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_authors_telegram_id")),
    )
    op.create_table(
        "coaches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("rate", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("specialties", sa.JSON(), nullable=False),
        sa.Column("credentials", sa.JSON(), nullable=False),
        sa.Column("years_experience", sa.Integer(), nullable=True),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("slack_user_id", sa.String(length=64), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("rating_total", sa.Integer(), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("total_sessions", sa.Integer(), nullable=False),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer(), nullable=False),
        sa.Column("durations", sa.JSON(), nullable=False),
        sa.Column("slot_step_minutes", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("rate >= 0", name=op.f("ck_coaches_rate_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coaches")),
    )
    op.create_table(
        "availability_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND end_minute > start_minute",
            name=op.f("ck_availability_rules_minutes_order"),
        ),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_availability_rules_weekday_range")),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name=op.f("fk_availability_rules_coach_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_rules")),
    )
    with op.batch_alter_table("availability_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_availability_rules_coach_id"), ["coach_id"], unique=False)

    op.create_table(
        "date_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("block", "extra", name="override_kind", native_enum=False, length=20), nullable=False
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_date_overrides_order")),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name=op.f("fk_date_overrides_coach_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_date_overrides")),
    )
    with op.batch_alter_table("date_overrides", schema=None) as batch_op:
        batch_op.create_index("ix_date_overrides_coach_span", ["coach_id", "starts_at"], unique=False)

    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "held",
                "scheduled",
                "in_progress",
                "completed",
                "cancelled",
                "no_show",
                name="session_status",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("price_amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_paid", sa.Integer(), nullable=False),
        sa.Column("amount_refunded", sa.Integer(), nullable=False),
        sa.Column("hold_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checkout_ref", sa.String(length=255), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("payment_ref", sa.String(length=255), nullable=True),
        sa.Column("meeting_url", sa.Text(), nullable=True),
        sa.Column("focus", sa.Text(), nullable=True),
        sa.Column(
            "cancelled_by",
            sa.Enum("author", "coach", "admin", "system", name="actor", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("coach_notes", sa.Text(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount_paid", name=op.f("ck_sessions_refund_bounds")
        ),
        sa.CheckConstraint(
            "blocked_from <= starts_at AND blocked_until >= ends_at", name=op.f("ck_sessions_blocked_span")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_sessions_order")),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name=op.f("ck_sessions_rating_range")),
        sa.ForeignKeyConstraint(["author_id"], ["authors.id"], name=op.f("fk_sessions_author_id")),
        sa.ForeignKeyConstraint(["coach_id"], ["coaches.id"], name=op.f("fk_sessions_coach_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("checkout_ref", name=op.f("uq_sessions_checkout_ref")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_author_id"), ["author_id"], unique=False)
        batch_op.create_index("ix_sessions_coach_span", ["coach_id", "blocked_from", "blocked_until"], unique=False)
        batch_op.create_index("ix_sessions_starts_at", ["starts_at"], unique=False)
        batch_op.create_index("ix_sessions_status_hold", ["status", "hold_expires_at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_outbox_session_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["sent_at", "due_at"], unique=False)

    op.create_table(
        "session_materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column(
            "uploaded_by",
            sa.Enum("author", "coach", "admin", "system", name="actor", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("file_ref", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_session_materials_session_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_materials")),
    )
    with op.batch_alter_table("session_materials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_materials_session_id"), ["session_id"], unique=False)

    op.create_table(
        "session_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "held",
                "scheduled",
                "in_progress",
                "completed",
                "cancelled",
                "no_show",
                name="session_status",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "held",
                "scheduled",
                "in_progress",
                "completed",
                "cancelled",
                "no_show",
                name="session_status",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "actor",
            sa.Enum("author", "coach", "admin", "system", name="actor", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_session_status_changes_session_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_status_changes")),
    )
    with op.batch_alter_table("session_status_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_status_changes_session_id"), ["session_id"], unique=False)

    _add_overlap_guard()


def _add_overlap_guard() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE sessions ADD CONSTRAINT ex_sessions_no_overlap EXCLUDE USING gist "
            "(coach_id WITH =, tstzrange(blocked_from, blocked_until, '[)') WITH &&) "
            f"WHERE (status IN {ACTIVE})"
        )
    elif bind.dialect.name == "sqlite":
        for event in ("INSERT", "UPDATE"):
            op.execute(SQLITE_GUARD.format(event=event, active=ACTIVE))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE sessions DROP CONSTRAINT IF EXISTS ex_sessions_no_overlap")
    elif bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS sessions_no_overlap_INSERT")
        op.execute("DROP TRIGGER IF EXISTS sessions_no_overlap_UPDATE")
    with op.batch_alter_table("session_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_status_changes_session_id"))

    op.drop_table("session_status_changes")
    with op.batch_alter_table("session_materials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_materials_session_id"))

    op.drop_table("session_materials")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_status_hold")
        batch_op.drop_index("ix_sessions_starts_at")
        batch_op.drop_index("ix_sessions_coach_span")
        batch_op.drop_index(batch_op.f("ix_sessions_author_id"))

    op.drop_table("sessions")
    with op.batch_alter_table("date_overrides", schema=None) as batch_op:
        batch_op.drop_index("ix_date_overrides_coach_span")

    op.drop_table("date_overrides")
    with op.batch_alter_table("availability_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_rules_coach_id"))

    op.drop_table("availability_rules")
    op.drop_table("coaches")
    op.drop_table("authors")
