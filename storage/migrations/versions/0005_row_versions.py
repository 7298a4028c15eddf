"""row versions: coaches.version and authors.version, kept by the database

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

A booking may be made against a cached copy of its coach (terms, weekly rules, date overrides)
and author, on the condition that their versions are unchanged when the session is inserted.
Triggers keep the versions, so no writer (the services, the CLI, an operator's SQL) can change
what a booking depends on without the cached copies noticing:
- inserting a coach or an author, and any UPDATE of one, gives the row a new version;
- any INSERT, UPDATE or DELETE of an availability rule or a date override gives its coach one.
Every new version comes from one counter that only grows (a sequence on PostgreSQL, the
one-row table row_versions on SQLite), so a row deleted and re-created under the same id never
meets a version a copy of the old row could hold.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

VERSIONED = ("coaches", "authors")
CALENDAR_TABLES = ("availability_rules", "date_overrides")

# SET search_path FROM CURRENT: the functions find the tables and the sequence of the schema they
# were made in, whatever the caller's search_path.
PG_NEXT_VERSION = """
CREATE FUNCTION coachbot_next_version() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    NEW.version := nextval('coachbot_row_versions');
    RETURN NEW;
END $$
"""

PG_TOUCH_COACH = """
CREATE FUNCTION coachbot_touch_coach() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE coaches SET version = version WHERE id = OLD.coach_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE coaches SET version = version WHERE id = NEW.coach_id;
    END IF;
    RETURN NULL;
END $$
"""

# SQLite cannot assign NEW in a trigger: a second UPDATE sets the version, and the WHEN clause
# keeps that UPDATE (which raises the version) from firing the trigger again.
SQLITE_NEW_VERSION = """
    UPDATE row_versions SET last = last + 1;
    UPDATE {table} SET version = (SELECT last FROM row_versions) WHERE id IN ({rows});
"""
SQLITE_VERSION_ON = {
    "INSERT": "CREATE TRIGGER {table}_version_new AFTER INSERT ON {table} BEGIN {body} END",
    "UPDATE": "CREATE TRIGGER {table}_version AFTER UPDATE ON {table} WHEN NEW.version <= OLD.version BEGIN {body} END",
}
SQLITE_TOUCH_COACH = "CREATE TRIGGER {table}_touch_coach_{event} AFTER {event} ON {table} BEGIN {body} END"
SQLITE_ROWS = {"INSERT": "NEW.coach_id", "UPDATE": "OLD.coach_id, NEW.coach_id", "DELETE": "OLD.coach_id"}


def upgrade() -> None:
    for table in VERSIONED:
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE SEQUENCE coachbot_row_versions START 2")
        op.execute(PG_NEXT_VERSION)
        op.execute(PG_TOUCH_COACH)
        for table in VERSIONED:
            op.execute(
                f"CREATE TRIGGER {table}_version BEFORE INSERT OR UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION coachbot_next_version()"
            )
        for table in CALENDAR_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_touch_coach AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION coachbot_touch_coach()"
            )
    elif dialect == "sqlite":
        op.execute("CREATE TABLE row_versions (last INTEGER NOT NULL)")
        op.execute("INSERT INTO row_versions (last) VALUES (1)")
        for table in VERSIONED:
            for _event, trigger in SQLITE_VERSION_ON.items():
                op.execute(trigger.format(table=table, body=SQLITE_NEW_VERSION.format(table=table, rows="NEW.id")))
        for table in CALENDAR_TABLES:
            for event, rows in SQLITE_ROWS.items():
                body = SQLITE_NEW_VERSION.format(table="coaches", rows=rows)
                op.execute(SQLITE_TOUCH_COACH.format(table=table, event=event, body=body))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in CALENDAR_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_touch_coach ON {table}")
        for table in VERSIONED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_version ON {table}")
        op.execute("DROP FUNCTION IF EXISTS coachbot_touch_coach()")
        op.execute("DROP FUNCTION IF EXISTS coachbot_next_version()")
        op.execute("DROP SEQUENCE IF EXISTS coachbot_row_versions")
    elif dialect == "sqlite":
        for table in CALENDAR_TABLES:
            for event in SQLITE_ROWS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_touch_coach_{event}")
        for table in VERSIONED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_version")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_version_new")
        op.execute("DROP TABLE IF EXISTS row_versions")
    for table in VERSIONED:
        op.drop_column(table, "version")
