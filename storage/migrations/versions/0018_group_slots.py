"""Group slots with seats

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

- group_slots: a coach's slot with a seat count and a price per seat (booking/groups.py).
- sessions.group_slot_id, sessions.seat: a seat is a session of its own carrying its slot and its
  seat number.

The guards, on both engines:
- seats are never sold past the count: a unique index on (group_slot_id, seat) over the seats
  not cancelled, and a trigger that keeps an active seat's number in 1..seats of an open slot of
  its own coach;
- seats of one slot overlap each other by design, so they leave the per-coach no-overlap guard
  of 0001 (recreated for sessions without a slot); instead an open slot keeps the coach's 1:1
  sessions and other open slots off its blocked span: an exclusion constraint between slots and
  triggers between the two tables on PostgreSQL (which take the coach's advisory lock, as every
  writer of a calendar does, so the check across two tables cannot race), triggers on SQLite
  (serialised by BEGIN IMMEDIATE).
Plain ADD COLUMN and CREATE INDEX on `sessions`: never batch_alter_table, which on SQLite rebuilds
the table and drops its triggers.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ACTIVE = "('held', 'scheduled', 'in_progress')"
COACH_LOCK_NAMESPACE = 7301  # storage.repositories.COACH_LOCK_NAMESPACE, as of this revision
SEAT_TAKEN = "group_slot_id IS NOT NULL AND status != 'cancelled'"  # as storage/tables.py renders it

# ---- PostgreSQL -----------------------------------------------------------------------------------

PG_SESSIONS_NO_OVERLAP = (
    "ALTER TABLE sessions ADD CONSTRAINT ex_sessions_no_overlap EXCLUDE USING gist "
    "(coach_id WITH =, tstzrange(blocked_from, blocked_until, '[)') WITH &&) "
    f"WHERE (status IN {ACTIVE}{{extra}})"
)

PG_GROUP_SLOTS_NO_OVERLAP = (
    "ALTER TABLE group_slots ADD CONSTRAINT ex_group_slots_no_overlap EXCLUDE USING gist "
    "(coach_id WITH =, tstzrange(blocked_from, blocked_until, '[)') WITH &&) WHERE (status = 'open')"
)

PG_SESSION_GUARD = f"""
CREATE FUNCTION coachbot_session_group_guard() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF NEW.status NOT IN {ACTIVE} THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status IN {ACTIVE} AND OLD.coach_id = NEW.coach_id
       AND OLD.blocked_from = NEW.blocked_from AND OLD.blocked_until = NEW.blocked_until
       AND OLD.group_slot_id IS NOT DISTINCT FROM NEW.group_slot_id AND OLD.seat IS NOT DISTINCT FROM NEW.seat THEN
        RETURN NEW;  -- nothing the guard looks at changed (a status step, a payment, a link)
    END IF;
    PERFORM pg_advisory_xact_lock({COACH_LOCK_NAMESPACE}, NEW.coach_id);
    IF NEW.group_slot_id IS NULL THEN
        IF NEW.seat IS NOT NULL THEN
            RAISE EXCEPTION 'coachbot: a seat without a group slot' USING ERRCODE = '23514';
        END IF;
        IF EXISTS (
            SELECT 1 FROM group_slots AS g
            WHERE g.coach_id = NEW.coach_id AND g.status = 'open'
              AND g.blocked_from < NEW.blocked_until AND NEW.blocked_from < g.blocked_until
        ) THEN
            RAISE EXCEPTION 'coachbot: slot taken' USING ERRCODE = '23P01';
        END IF;
    ELSIF NOT EXISTS (
        SELECT 1 FROM group_slots AS g
        WHERE g.id = NEW.group_slot_id AND g.status = 'open' AND g.coach_id = NEW.coach_id
          AND NEW.seat BETWEEN 1 AND g.seats
          AND g.blocked_from = NEW.blocked_from AND g.blocked_until = NEW.blocked_until
    ) THEN
        RAISE EXCEPTION 'coachbot: no such seat' USING ERRCODE = '23P01';
    END IF;
    RETURN NEW;
END $$
"""

PG_GROUP_GUARD = f"""
CREATE FUNCTION coachbot_group_slot_guard() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF NEW.status <> 'open' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'open' AND OLD.coach_id = NEW.coach_id AND OLD.seats = NEW.seats
       AND OLD.blocked_from = NEW.blocked_from AND OLD.blocked_until = NEW.blocked_until THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock({COACH_LOCK_NAMESPACE}, NEW.coach_id);
    IF EXISTS (
        SELECT 1 FROM sessions AS s
        WHERE s.coach_id = NEW.coach_id AND s.status IN {ACTIVE} AND s.group_slot_id IS NULL
          AND s.blocked_from < NEW.blocked_until AND NEW.blocked_from < s.blocked_until
    ) THEN
        RAISE EXCEPTION 'coachbot: slot taken' USING ERRCODE = '23P01';
    END IF;
    IF TG_OP = 'UPDATE' AND EXISTS (
        SELECT 1 FROM sessions AS s WHERE s.group_slot_id = NEW.id AND s.status <> 'cancelled' AND s.seat > NEW.seats
    ) THEN
        RAISE EXCEPTION 'coachbot: no such seat' USING ERRCODE = '23P01';
    END IF;
    RETURN NEW;
END $$
"""

# ---- SQLite ---------------------------------------------------------------------------------------

# 0001's guard, for sessions without a group slot only when `solo` is set.
SQLITE_NO_OVERLAP = """
CREATE TRIGGER sessions_no_overlap_{event} BEFORE {event} ON sessions
WHEN NEW.status IN {active}{solo_new}
BEGIN
    SELECT RAISE(ABORT, 'coachbot: slot taken')
    WHERE EXISTS (
        SELECT 1 FROM sessions AS other
        WHERE other.coach_id = NEW.coach_id
          AND other.id IS NOT NEW.id
          AND other.status IN {active}{solo_other}
          AND other.blocked_from < NEW.blocked_until
          AND NEW.blocked_from < other.blocked_until
    );
END
"""

SQLITE_SESSION_GUARD = f"""
CREATE TRIGGER sessions_group_guard_{{event}} BEFORE {{event}} ON sessions
WHEN NEW.status IN {ACTIVE}
BEGIN
    SELECT RAISE(ABORT, 'coachbot: a seat without a group slot')
    WHERE NEW.group_slot_id IS NULL AND NEW.seat IS NOT NULL;
    SELECT RAISE(ABORT, 'coachbot: slot taken')
    WHERE NEW.group_slot_id IS NULL AND EXISTS (
        SELECT 1 FROM group_slots AS g
        WHERE g.coach_id = NEW.coach_id AND g.status = 'open'
          AND g.blocked_from < NEW.blocked_until AND NEW.blocked_from < g.blocked_until
    );
    SELECT RAISE(ABORT, 'coachbot: no such seat')
    WHERE NEW.group_slot_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM group_slots AS g
        WHERE g.id = NEW.group_slot_id AND g.status = 'open' AND g.coach_id = NEW.coach_id
          AND NEW.seat BETWEEN 1 AND g.seats
          AND g.blocked_from = NEW.blocked_from AND g.blocked_until = NEW.blocked_until
    );
END
"""

SQLITE_GROUP_GUARD = f"""
CREATE TRIGGER group_slots_guard_{{event}} BEFORE {{event}} ON group_slots
WHEN NEW.status = 'open'
BEGIN
    SELECT RAISE(ABORT, 'coachbot: slot taken')
    WHERE EXISTS (
        SELECT 1 FROM group_slots AS other
        WHERE other.coach_id = NEW.coach_id AND other.id IS NOT NEW.id AND other.status = 'open'
          AND other.blocked_from < NEW.blocked_until AND NEW.blocked_from < other.blocked_until
    ) OR EXISTS (
        SELECT 1 FROM sessions AS s
        WHERE s.coach_id = NEW.coach_id AND s.status IN {ACTIVE} AND s.group_slot_id IS NULL
          AND s.blocked_from < NEW.blocked_until AND NEW.blocked_from < s.blocked_until
    );
    SELECT RAISE(ABORT, 'coachbot: no such seat')
    WHERE EXISTS (
        SELECT 1 FROM sessions AS s
        WHERE s.group_slot_id = NEW.id AND s.status <> 'cancelled' AND s.seat > NEW.seats
    );
END
"""

EVENTS = ("INSERT", "UPDATE")


def _sqlite_no_overlap(*, solo: bool) -> None:
    for event in EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS sessions_no_overlap_{event}")
        op.execute(
            SQLITE_NO_OVERLAP.format(
                event=event,
                active=ACTIVE,
                solo_new=" AND NEW.group_slot_id IS NULL" if solo else "",
                solo_other=" AND other.group_slot_id IS NULL" if solo else "",
            )
        )


def upgrade() -> None:
    op.create_table(
        "group_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("price_amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "cancelled", name="group_status", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("meeting_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_group_slots_order")),
        sa.CheckConstraint(
            "blocked_from <= starts_at AND blocked_until >= ends_at", name=op.f("ck_group_slots_blocked_span")
        ),
        sa.CheckConstraint("seats > 0 AND price_amount >= 0", name=op.f("ck_group_slots_ranges")),
        sa.ForeignKeyConstraint(["coach_id"], ["coaches.id"], name=op.f("fk_group_slots_coach_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_slots")),
    )
    op.create_index("ix_group_slots_coach_span", "group_slots", ["coach_id", "blocked_from", "blocked_until"])
    dialect = op.get_bind().dialect.name
    op.add_column(
        "sessions",
        sa.Column(
            "group_slot_id",
            sa.Integer(),
            sa.ForeignKey("group_slots.id", name="fk_sessions_group_slot_id"),
            nullable=True,
        ),
        inline_references=dialect == "sqlite",
    )
    op.add_column("sessions", sa.Column("seat", sa.Integer(), nullable=True))
    op.create_index("ix_sessions_group_slot_id", "sessions", ["group_slot_id"])
    op.create_index(
        "ux_sessions_group_seat",
        "sessions",
        ["group_slot_id", "seat"],
        unique=True,
        postgresql_where=sa.text(SEAT_TAKEN),
        sqlite_where=sa.text(SEAT_TAKEN),
    )
    if dialect == "postgresql":
        op.execute("ALTER TABLE sessions DROP CONSTRAINT ex_sessions_no_overlap")
        op.execute(PG_SESSIONS_NO_OVERLAP.format(extra=" AND group_slot_id IS NULL"))
        op.execute(PG_GROUP_SLOTS_NO_OVERLAP)
        op.execute(PG_SESSION_GUARD)
        op.execute(PG_GROUP_GUARD)
        op.execute(
            "CREATE TRIGGER sessions_group_guard BEFORE INSERT OR UPDATE ON sessions "
            "FOR EACH ROW EXECUTE FUNCTION coachbot_session_group_guard()"
        )
        op.execute(
            "CREATE TRIGGER group_slots_guard BEFORE INSERT OR UPDATE ON group_slots "
            "FOR EACH ROW EXECUTE FUNCTION coachbot_group_slot_guard()"
        )
    elif dialect == "sqlite":
        _sqlite_no_overlap(solo=True)
        for event in EVENTS:
            op.execute(SQLITE_SESSION_GUARD.format(event=event))
            op.execute(SQLITE_GROUP_GUARD.format(event=event))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    live = op.get_bind().execute(
        sa.text(f"SELECT count(*) FROM sessions WHERE group_slot_id IS NOT NULL AND status IN {ACTIVE}")
    )
    if live.scalar_one():
        # Seats overlap each other by design: 0017's no-overlap guard would refuse them (or, on
        # SQLite, refuse every later change of them), so going back would break the schedule.
        raise RuntimeError("cannot downgrade past 0018: group sessions have live seats; cancel them first")
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS group_slots_guard ON group_slots")
        op.execute("DROP TRIGGER IF EXISTS sessions_group_guard ON sessions")
        op.execute("DROP FUNCTION IF EXISTS coachbot_group_slot_guard()")
        op.execute("DROP FUNCTION IF EXISTS coachbot_session_group_guard()")
        op.execute("ALTER TABLE sessions DROP CONSTRAINT ex_sessions_no_overlap")
        op.execute(PG_SESSIONS_NO_OVERLAP.format(extra=""))
    elif dialect == "sqlite":
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS group_slots_guard_{event}")
            op.execute(f"DROP TRIGGER IF EXISTS sessions_group_guard_{event}")
        _sqlite_no_overlap(solo=False)
    op.drop_index("ux_sessions_group_seat", table_name="sessions")
    op.drop_index("ix_sessions_group_slot_id", table_name="sessions")
    if dialect == "postgresql":
        op.drop_constraint("fk_sessions_group_slot_id", "sessions", type_="foreignkey")
    op.drop_column("sessions", "seat")
    op.drop_column("sessions", "group_slot_id")
    op.drop_index("ix_group_slots_coach_span", table_name="group_slots")
    op.drop_table("group_slots")
