"""row versions: coaches.version and authors.version, kept by the database

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

A booking may be made against a cached copy of its coach (terms, weekly rules, date overrides)
and author, on the condition that their versions are unchanged when the session is inserted.
Triggers keep the versions, so no writer (the services, the CLI, an operator's SQL) can change
what a booking depends on without the cached copies noticing:
- any UPDATE of a coach or an author row raises its version;
- any INSERT, UPDATE or DELETE of an availability rule or a date override raises its coach's.
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CALENDAR_TABLES = ("availability_rules", "date_overrides")

PG_NEXT_VERSION = """
CREATE FUNCTION coachbot_next_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END $$
"""

PG_TOUCH_COACH = """
CREATE FUNCTION coachbot_touch_coach() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE coaches SET version = version + 1 WHERE id = OLD.coach_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE coaches SET version = version + 1 WHERE id = NEW.coach_id;
    END IF;
    RETURN NULL;
END $$
"""

# SQLite cannot assign NEW in a trigger: bump with a second UPDATE, which the WHEN clause stops
# from bumping again.
SQLITE_NEXT_VERSION = """
CREATE TRIGGER {table}_version AFTER UPDATE ON {table}
WHEN NEW.version = OLD.version
BEGIN
    UPDATE {table} SET version = OLD.version + 1 WHERE id = NEW.id;
END
"""

SQLITE_TOUCH_COACH = """
CREATE TRIGGER {table}_touch_coach_{event} AFTER {event} ON {table}
BEGIN
    UPDATE coaches SET version = version + 1 WHERE id IN ({rows});
END
"""
SQLITE_ROWS = {"INSERT": "NEW.coach_id", "UPDATE": "OLD.coach_id, NEW.coach_id", "DELETE": "OLD.coach_id"}


def upgrade() -> None:
    for table in ("coaches", "authors"):
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_NEXT_VERSION)
        op.execute(PG_TOUCH_COACH)
        for table in ("coaches", "authors"):
            op.execute(
                f"CREATE TRIGGER {table}_version BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION coachbot_next_version()"
            )
        for table in CALENDAR_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_touch_coach AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION coachbot_touch_coach()"
            )
    elif dialect == "sqlite":
        for table in ("coaches", "authors"):
            op.execute(SQLITE_NEXT_VERSION.format(table=table))
        for table in CALENDAR_TABLES:
            for event, rows in SQLITE_ROWS.items():
                op.execute(SQLITE_TOUCH_COACH.format(table=table, event=event, rows=rows))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in CALENDAR_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_touch_coach ON {table}")
        for table in ("coaches", "authors"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_version ON {table}")
        op.execute("DROP FUNCTION IF EXISTS coachbot_touch_coach()")
        op.execute("DROP FUNCTION IF EXISTS coachbot_next_version()")
    elif dialect == "sqlite":
        for table in CALENDAR_TABLES:
            for event in SQLITE_ROWS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_touch_coach_{event}")
        for table in ("coaches", "authors"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_version")
    for table in ("coaches", "authors"):
        op.drop_column(table, "version")
