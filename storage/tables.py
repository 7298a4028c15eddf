"""The schema as SQLAlchemy Core tables, mapped imperatively onto the domain dataclasses so
booking/ stays free of SQLAlchemy. Alembic migrations create it; tests check they agree."""

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.orm import registry
from sqlalchemy.sql.elements import ColumnElement

from booking.calendar_model import CalendarSource, SourceKind
from booking.credit_model import CreditEntry, EntryKind, Package
from booking.group_model import GroupSlot, GroupStatus
from booking.ledger import Payment
from booking.material_model import Material
from booking.model import (
    ACTIVE_STATUSES,
    Actor,
    Author,
    AvailabilityRule,
    Coach,
    DateOverride,
    OutboxMessage,
    OverrideKind,
    Session,
    SessionStatus,
    StatusChange,
)
from booking.series_model import Conflicts, Repeat, Series, SeriesPayment
from booking.waitlist_model import OPEN_STATUSES, EntryStatus, WaitlistEntry, WantKind
from storage.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _enum(cls, name):
    return Enum(cls, name=name, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


coaches = Table(
    "coaches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("rate", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("bio", Text),
    Column("specialties", JSON, nullable=False),
    Column("credentials", JSON, nullable=False),
    Column("years_experience", Integer),
    Column("avatar_url", Text),
    Column("email", String(255)),
    Column("slack_user_id", String(64)),
    Column("slack_team_id", String(32)),
    Column("slack_invite_hash", String(64)),
    Column("slack_invite_expires_at", UTCDateTime),
    Column("is_active", Boolean, nullable=False),
    Column("rating_total", Integer, nullable=False),
    Column("rating_count", Integer, nullable=False),
    Column("total_sessions", Integer, nullable=False),
    Column("min_notice_minutes", Integer, nullable=False),
    Column("horizon_days", Integer, nullable=False),
    Column("buffer_before_minutes", Integer, nullable=False),
    Column("buffer_after_minutes", Integer, nullable=False),
    Column("durations", JSON, nullable=False),
    Column("slot_step_minutes", Integer),
    Column("created_at", UTCDateTime),
    CheckConstraint("rate >= 0", name="rate_not_negative"),
    Index("ux_coaches_slack_user_id", "slack_user_id", unique=True),
    Index("ux_coaches_slack_invite_hash", "slack_invite_hash", unique=True),
)

authors = Table(
    "authors",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("telegram_id", BigInteger, unique=True),
    Column("email", String(255)),
    Column("reminder_minutes", JSON, nullable=False),
    Column("language", String(8)),
    Column("created_at", UTCDateTime),
)

availability_rules = Table(
    "availability_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("coach_id", Integer, ForeignKey("coaches.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("weekday", Integer, nullable=False),
    Column("start_minute", Integer, nullable=False),
    Column("end_minute", Integer, nullable=False),
    CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
    CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND end_minute > start_minute", name="minutes_order"),
)

date_overrides = Table(
    "date_overrides",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("coach_id", Integer, ForeignKey("coaches.id", ondelete="CASCADE"), nullable=False),
    Column("kind", _enum(OverrideKind, "override_kind"), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("reason", String(500)),
    CheckConstraint("ends_at > starts_at", name="order"),
    Index("ix_date_overrides_coach_span", "coach_id", "starts_at"),
)

# Sessions booked together every week or fortnight (booking/series.py). Made by 0016.
session_series = Table(
    "session_series",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("coach_id", Integer, ForeignKey("coaches.id"), nullable=False),
    Column("author_id", Integer, ForeignKey("authors.id"), nullable=False),
    Column("repeat", _enum(Repeat, "series_repeat"), nullable=False),
    Column("count", Integer, nullable=False),
    Column("conflicts", _enum(Conflicts, "series_conflicts"), nullable=False),
    Column("payment", _enum(SeriesPayment, "series_payment"), nullable=False),
    Column("created_at", UTCDateTime),
    CheckConstraint("count BETWEEN 2 AND 12", name="count_range"),
)

# Group slots with seats (booking/groups.py); each seat is a session carrying group_slot_id and its
# seat number. Made by 0018, with the guards: open slots of one coach never overlap each other nor
# a 1:1 session (an exclusion constraint and triggers on PostgreSQL, triggers on SQLite), and a
# seat's number is unique among the slot's seats not cancelled and lies in 1..seats.
group_slots = Table(
    "group_slots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("coach_id", Integer, ForeignKey("coaches.id"), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("blocked_from", UTCDateTime, nullable=False),
    Column("blocked_until", UTCDateTime, nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("seats", Integer, nullable=False),
    Column("price_amount", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", _enum(GroupStatus, "group_status"), nullable=False),
    Column("meeting_url", Text),
    Column("created_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    CheckConstraint("ends_at > starts_at", name="order"),
    CheckConstraint("blocked_from <= starts_at AND blocked_until >= ends_at", name="blocked_span"),
    CheckConstraint("seats > 0 AND price_amount >= 0", name="ranges"),
    Index("ix_group_slots_coach_span", "coach_id", "blocked_from", "blocked_until"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("coach_id", Integer, ForeignKey("coaches.id"), nullable=False),
    Column("author_id", Integer, ForeignKey("authors.id"), nullable=False, index=True),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("blocked_from", UTCDateTime, nullable=False),
    Column("blocked_until", UTCDateTime, nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("status", _enum(SessionStatus, "session_status"), nullable=False),
    Column("price_amount", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_paid", Integer, nullable=False),
    Column("amount_refunded", Integer, nullable=False),
    Column("refund_due", Integer, nullable=False, server_default="0"),
    Column("refund_attempt", Integer, nullable=False, server_default="0"),
    Column("hold_expires_at", UTCDateTime),
    Column("checkout_ref", String(255), unique=True),
    Column("checkout_url", Text),
    Column("payment_ref", String(255)),
    Column("meeting_url", Text),
    Column("focus", Text),
    Column("series_id", Integer, ForeignKey("session_series.id"), index=True),
    Column("group_slot_id", Integer, ForeignKey("group_slots.id")),
    Column("seat", Integer),
    Column("cancelled_by", _enum(Actor, "actor")),
    Column("cancelled_at", UTCDateTime),
    Column("cancel_reason", String(500)),
    Column("coach_notes", Text),
    Column("rating", Integer),
    Column("feedback", Text),
    Column("rated_at", UTCDateTime),
    Column("created_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    CheckConstraint("ends_at > starts_at", name="order"),
    CheckConstraint("blocked_from <= starts_at AND blocked_until >= ends_at", name="blocked_span"),
    CheckConstraint("amount_refunded >= 0 AND amount_refunded <= amount_paid", name="refund_bounds"),
    CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
    Index("ix_sessions_coach_span", "coach_id", "blocked_from", "blocked_until"),
    Index("ix_sessions_starts_at", "starts_at"),
)


# ---- partial indexes: what the scheduler and the slot calendar read --------------------------
# Each holds only the rows its query can return (live work, never history), so those queries stay
# as fast with years of completed sessions as on the first day. Made by migration 0009.
# The predicates are shared with the queries in storage/repositories.py, and their constants are
# written into the SQL: a partial index is used only when the query's WHERE implies the index's,
# which SQLite cannot see through a bound `IN (?, ?, ?)` (nor PostgreSQL through a generic plan).


def const(value: str | int) -> ColumnElement[Any]:
    """A constant written into the SQL text (no bound parameter)."""
    return literal_column(f"'{value}'" if isinstance(value, str) else str(int(value)))


def status_is(*statuses: SessionStatus) -> ColumnElement[bool]:
    column = sessions.c.status
    if len(statuses) == 1:
        return column == const(statuses[0].value)
    return column.in_([const(s.value) for s in statuses])


_ACTIVE = (SessionStatus.HELD, SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)  # the order of 0001's guard
assert frozenset(_ACTIVE) == ACTIVE_STATUSES

_s = sessions.c
SESSION_ACTIVE = status_is(*_ACTIVE)
SESSION_HELD = status_is(SessionStatus.HELD)
SESSION_SCHEDULED = status_is(SessionStatus.SCHEDULED)
SESSION_IN_PROGRESS = status_is(SessionStatus.IN_PROGRESS)
MEETING_MISSING = SESSION_SCHEDULED & _s.meeting_url.is_(None)
REFUND_OWED = _s.refund_due > const(0)
# An unpaid cancelled session whose checkout was not closed: it may still be paid (reconcile).
CHECKOUT_LEFT_OPEN = status_is(SessionStatus.CANCELLED) & _s.checkout_url.is_not(None) & (_s.amount_paid == const(0))


def _partial(name: str, *columns: Column, where: ColumnElement[bool]) -> Index:
    return Index(name, *columns, postgresql_where=where, sqlite_where=where)


SESSION_PARTIAL_INDEXES = (
    # the slot calendar and the booking check (busy spans of one coach), and SQLite's overlap guard
    _partial("ix_sessions_active_span", _s.coach_id, _s.blocked_from, _s.blocked_until, where=SESSION_ACTIVE),
    # reconcile / expire_holds: holds past their expiry
    _partial("ix_sessions_held", _s.hold_expires_at, where=SESSION_HELD),
    # advance_statuses: scheduled sessions whose start has come ...
    _partial("ix_sessions_scheduled_start", _s.starts_at, where=SESSION_SCHEDULED),
    # ... and sessions in progress whose end (plus the grace period) has passed
    _partial("ix_sessions_in_progress_end", _s.ends_at, where=SESSION_IN_PROGRESS),
    # attach_missing_meetings
    _partial("ix_sessions_meeting_missing", _s.starts_at, where=MEETING_MISSING),
    # settle_refunds
    _partial("ix_sessions_refund_owed", _s.id, where=REFUND_OWED),
    # reconcile: released checkouts still watched
    _partial("ix_sessions_checkout_left_open", _s.cancelled_at, where=CHECKOUT_LEFT_OPEN),
)

# A group slot's seats (0018): every seat by slot, and one number per seat not cancelled.
SEAT_TAKEN = _s.group_slot_id.is_not(None) & (_s.status != const(SessionStatus.CANCELLED.value))
Index("ix_sessions_group_slot_id", _s.group_slot_id)
Index(
    "ux_sessions_group_seat",
    _s.group_slot_id,
    _s.seat,
    unique=True,
    postgresql_where=SEAT_TAKEN,
    sqlite_where=SEAT_TAKEN,
)

session_status_changes = Table(
    "session_status_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, ForeignKey("sessions.id"), nullable=False, index=True),
    Column("from_status", _enum(SessionStatus, "session_status")),
    Column("to_status", _enum(SessionStatus, "session_status"), nullable=False),
    Column("actor", _enum(Actor, "actor"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("reason", String(500)),
)

session_materials = Table(
    "session_materials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, ForeignKey("sessions.id"), nullable=False, index=True),
    Column("uploaded_by", _enum(Actor, "actor"), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("title", String(255), nullable=False),
    Column("content", Text),
    Column("file_ref", Text),
    Column("created_at", UTCDateTime),
)

# One row per payment a session received; refunds go to a payment and never beyond it.
payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, ForeignKey("sessions.id"), nullable=False),
    Column("ref", String(255), nullable=False),
    Column("amount", Integer, nullable=False),
    Column("refunded", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("refunded >= 0 AND refunded <= amount", name="refund_bounds"),
    UniqueConstraint("session_id", "ref"),
)

# Packages of sessions and the credit ledger (booking/credit_model.py). Made by 0017.
packages = Table(
    "packages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("coach_id", Integer, ForeignKey("coaches.id"), index=True),  # NULL: marketplace-wide
    Column("sessions", Integer, nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("price_amount", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("valid_days", Integer, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", UTCDateTime),
    CheckConstraint("sessions > 0 AND duration_minutes > 0 AND price_amount >= 0 AND valid_days > 0", name="ranges"),
)

credit_entries = Table(
    "credit_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("author_id", Integer, ForeignKey("authors.id"), nullable=False),
    Column("kind", _enum(EntryKind, "credit_entry_kind"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("lot_id", Integer, ForeignKey("credit_entries.id")),  # the GRANT this entry changes
    Column("package_id", Integer, ForeignKey("packages.id")),
    Column("coach_id", Integer, ForeignKey("coaches.id")),
    Column("duration_minutes", Integer),
    Column("expires_at", UTCDateTime),
    Column("session_id", Integer, ForeignKey("sessions.id")),
    Column("payment_ref", String(255)),
    CheckConstraint(
        "(kind = 'grant' AND quantity > 0 AND lot_id IS NULL AND duration_minutes IS NOT NULL"
        " AND expires_at IS NOT NULL)"
        " OR (kind = 'refund' AND quantity = 1 AND lot_id IS NOT NULL AND session_id IS NOT NULL)"
        " OR (kind = 'debit' AND quantity = -1 AND lot_id IS NOT NULL AND session_id IS NOT NULL)"
        " OR (kind = 'expiry' AND quantity < 0 AND lot_id IS NOT NULL)",
        name="entry_shape",
    ),
    Index("ix_credit_entries_author_id", "author_id"),
    Index("ix_credit_entries_lot_id", "lot_id"),
    # A session is paid by one credit at most, and given it back at most once.
    Index("uq_credit_entries_session_kind", "session_id", "kind", unique=True),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(50), nullable=False),
    Column("session_id", Integer, ForeignKey("sessions.id")),
    Column("due_at", UTCDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    # booking.events.Recipient: only a notifier that reaches this recipient claims the row.
    Column("recipient", String(20), nullable=False, server_default="author"),
    Column("claimed_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    # A message about a coach rather than a session (session_id NULL): the daily agenda.
    Column("coach_id", Integer, ForeignKey("coaches.id")),
    # Set for a message that must be queued once whoever queues it (two instances, restarts):
    # the unique index decides, e.g. "daily_agenda:<coach id>:<local date>". Made by 0011.
    Column("dedupe_key", String(100)),
    Index("ux_outbox_dedupe_key", "dedupe_key", unique=True),
)
# The outbox claim (booking/outbox.py): unsent messages only; sent ones are history.
OUTBOX_UNSENT = outbox.c.sent_at.is_(None)
Index("ix_outbox_due", outbox.c.recipient, outbox.c.due_at, postgresql_where=OUTBOX_UNSENT, sqlite_where=OUTBOX_UNSENT)

payment_events = Table(
    "payment_events",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)

# The Telegram front end's conversation state (python-telegram-bot persistence), as JSON rows:
# user/chat data keyed by id, bot and callback data under "", conversation states keyed by
# [handler name, *conversation key]. Survives restarts; never the system of record for bookings.
TELEGRAM_STATE_KINDS = ("user", "chat", "bot", "conversation", "callback")

telegram_state = Table(
    "telegram_state",
    metadata,
    Column("kind", String(20), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("kind IN ('user', 'chat', 'bot', 'conversation', 'callback')", name="kind"),
)

# The Slack front end's parent message of each session in the coach's DM (channel and ts): later
# events reply in its thread and update it.
slack_threads = Table(
    "slack_threads",
    metadata,
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("user_id", String(32)),  # whose DM it is (NULL: from before migration 0012)
    Column("updated_at", UTCDateTime, nullable=False),
)

# Slack app installations in each workspace (OAuth distribution), read and written by slack_sdk's
# AsyncSQLAlchemyInstallationStore and AsyncSQLAlchemyOAuthStateStore: the same names, columns and
# indexes as their build_*_table (tests/slack/test_oauth_tables.py compares), naive UTC times.
slack_bots = Table(
    "slack_bots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(200)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(200)),
    Column("bot_token_expires_at", DateTime),
    Column("is_enterprise_install", Boolean, nullable=False),
    Column("installed_at", DateTime, nullable=False),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

slack_installations = Table(
    "slack_installations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(200)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(200)),
    Column("bot_token_expires_at", DateTime),
    Column("user_id", String(32), nullable=False),
    Column("user_token", String(200)),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", String(200)),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False),
    Index("slack_installations_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
)

slack_oauth_states = Table(
    "slack_oauth_states",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
    Index("ix_slack_oauth_states_state", "state"),  # consumed by state
    Index("ix_slack_oauth_states_expire_at", "expire_at"),  # lapsed ones purged (bot/slack_oauth.py)
)

# The coaches' own calendars (booking/calendar_sources.py): each source, the busy intervals of its
# last good import (read with the slot engine's calendar), and the subscription feeds' tokens.
calendar_sources = Table(
    "calendar_sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("coach_id", Integer, ForeignKey("coaches.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", _enum(SourceKind, "calendar_source_kind"), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("username", String(255)),
    Column("sealed_password", Text),
    Column("etag", String(500)),
    Column("last_modified", String(100)),
    Column("synced_at", UTCDateTime),
    Column("tried_at", UTCDateTime),
    Column("error", Text),
    Column("error_at", UTCDateTime),
    Column("push_error", Text),
    Column("push_error_at", UTCDateTime),
    Column("created_at", UTCDateTime),
)

calendar_busy = Table(
    "calendar_busy",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer, ForeignKey("calendar_sources.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("coach_id", Integer, ForeignKey("coaches.id", ondelete="CASCADE"), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    CheckConstraint("ends_at > starts_at", name="order"),
    Index("ix_calendar_busy_coach_span", "coach_id", "starts_at"),
)

calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("owner", String(10), primary_key=True),  # booking.calendar_feeds.FeedOwner
    Column("owner_id", Integer, primary_key=True),
    Column("token", String(100), nullable=False),
    Index("ux_calendar_feeds_token", "token", unique=True),
)

# Waiting lists (booking/waitlist_model.py): each entry's place in its coach's line is its id.
waitlist_entries = Table(
    "waitlist_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("coach_id", Integer, ForeignKey("coaches.id"), nullable=False),
    Column("author_id", Integer, ForeignKey("authors.id"), nullable=False),
    Column("kind", _enum(WantKind, "waitlist_kind"), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("zone", String(64), nullable=False),
    Column("status", _enum(EntryStatus, "waitlist_status"), nullable=False),
    Column("session_id", Integer, ForeignKey("sessions.id")),  # the held session of its offer
    Column("offered_at", UTCDateTime),
    Column("created_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    CheckConstraint("ends_at > starts_at AND duration_minutes > 0", name="window"),
    CheckConstraint("status <> 'offered' OR session_id IS NOT NULL", name="offer_has_session"),
)
_w = waitlist_entries.c
WAITLIST_OPEN = _w.status.in_([const(s.value) for s in sorted(OPEN_STATUSES)])
WAITLIST_PARTIAL_INDEXES = (
    # the open lines, by coach in line order (the offer round, the coach's list)
    _partial("ix_waitlist_entries_open", _w.coach_id, _w.id, where=WAITLIST_OPEN),
    # one open entry per author and want: a repeated join finds it, a concurrent one is refused
    Index(
        "uq_waitlist_entries_open_want",
        _w.coach_id,
        _w.author_id,
        _w.kind,
        _w.starts_at,
        _w.duration_minutes,
        unique=True,
        postgresql_where=WAITLIST_OPEN,
        sqlite_where=WAITLIST_OPEN,
    ),
)
# A held session is the offer of one entry at most: one slot is never offered twice.
Index("uq_waitlist_entries_session_id", _w.session_id, unique=True)
Index("ix_waitlist_entries_author_id", _w.author_id)

mapper_registry = registry(metadata=metadata)
_mapped = False


def start_mappers() -> None:
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(Coach, coaches)
    mapper_registry.map_imperatively(Author, authors)
    mapper_registry.map_imperatively(AvailabilityRule, availability_rules)
    mapper_registry.map_imperatively(DateOverride, date_overrides)
    mapper_registry.map_imperatively(Session, sessions)
    mapper_registry.map_imperatively(Series, session_series)
    mapper_registry.map_imperatively(GroupSlot, group_slots)
    mapper_registry.map_imperatively(Package, packages)
    mapper_registry.map_imperatively(CreditEntry, credit_entries)
    mapper_registry.map_imperatively(StatusChange, session_status_changes)
    mapper_registry.map_imperatively(Material, session_materials)
    mapper_registry.map_imperatively(OutboxMessage, outbox)
    mapper_registry.map_imperatively(Payment, payments)
    mapper_registry.map_imperatively(CalendarSource, calendar_sources)
    mapper_registry.map_imperatively(WaitlistEntry, waitlist_entries)
    _mapped = True
