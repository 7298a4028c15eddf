"""The coaches' own calendars and the subscription feeds

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

- calendar_sources: an ICS address or a CalDAV calendar of a coach (its password encrypted).
- calendar_busy: the busy intervals of each source's last good import, read with the slot
  engine's calendar by (coach_id, starts_at).
- calendar_feeds: the secret token of each coach's and author's subscription feed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("ics", "caldav", name="calendar_source_kind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("sealed_password", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tried_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name=op.f("fk_calendar_sources_coach_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_sources")),
    )
    op.create_index(op.f("ix_calendar_sources_coach_id"), "calendar_sources", ["coach_id"])
    op.create_table(
        "calendar_busy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_calendar_busy_order")),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name=op.f("fk_calendar_busy_coach_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["calendar_sources.id"], name=op.f("fk_calendar_busy_source_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_busy")),
    )
    op.create_index(op.f("ix_calendar_busy_source_id"), "calendar_busy", ["source_id"])
    op.create_index("ix_calendar_busy_coach_span", "calendar_busy", ["coach_id", "starts_at"])
    op.create_table(
        "calendar_feeds",
        sa.Column("owner", sa.String(length=10), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("owner", "owner_id", name=op.f("pk_calendar_feeds")),
    )
    op.create_index("ux_calendar_feeds_token", "calendar_feeds", ["token"], unique=True)


def downgrade() -> None:
    op.drop_table("calendar_feeds")
    op.drop_table("calendar_busy")
    op.drop_table("calendar_sources")
