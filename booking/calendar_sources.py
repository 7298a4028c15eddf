"""Busy time from the coach's own calendars: an ICS address (Google, Outlook: the calendar's secret
iCal address) or a CalDAV calendar (iCloud, Fastmail, Nextcloud...), as many as the coach likes.

A source is read outside any lock (the outside world may be slow); what it returned is then
written under the coach's lock, replacing that source's busy intervals, so a booking that races an
import sees either the old busy set or the new one, never half of each. A source that fails keeps
its last good busy set: booking goes on, the coach is told once (booking/calendar_health.py),
and the next good import clears it (and says so). Connecting a source reads it first: a source
that cannot be read is never stored.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import structlog

from booking import calendar_health
from booking import validation as v
from booking.calendar_model import CalendarSource, SourceKind
from booking.context import Context, coach_of
from booking.errors import BookingError, InvalidInput, NotFound
from booking.events import CalendarChanged, CalendarPart
from booking.model import Actor, Coach, Interval, SessionStatus

log = structlog.get_logger(__name__)

READ_TIMEOUT_S = 25.0  # a source that has not answered by then has failed (the CLI promises 30 s)
SYNC_EVERY = timedelta(minutes=15)
SYNC_BATCH = 50  # sources claimed by one run of the import job
SYNC_AT_ONCE = 4  # read concurrently (each may take up to READ_TIMEOUT_S)
# An unchanged calendar (304) keeps busy rows computed for the window of its last full read; the
# window moves with the clock, so a calendar is read in full at least this often. The window runs a
# day past the horizon, so rows at most a day old still cover it.
REREAD_EVERY = timedelta(days=1)
UID_PREFIX, UID_DOMAIN = "session-", "coachbot"
PUSHED_STATUSES = frozenset({SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS})  # a hold is pushed once paid


def session_uid(session_id: int) -> str:
    """The calendar UID of a session: the same in every file, feed and pushed event."""
    return f"{UID_PREFIX}{session_id}@{UID_DOMAIN}"


def is_own_uid(uid: str) -> bool:
    """An event this product wrote (a pushed session): never imported back as busy time."""
    return uid.startswith(UID_PREFIX) and uid.endswith(f"@{UID_DOMAIN}")


@dataclass(frozen=True)
class Fetched:
    """What a source returned: its busy intervals, or None when it is unchanged since `etag`."""

    busy: list[Interval] | None
    etag: str | None = None
    last_modified: str | None = None


class CalendarError(BookingError):
    """A calendar that cannot be read or written: the message says why, fit for a person."""


class CalendarRefused(CalendarError):
    """The calendar refused our credentials: trying again will not help until the coach acts."""


class BusyReader(Protocol):
    async def read(
        self, source: CalendarSource, password: str | None, start: datetime, end: datetime, zone: str
    ) -> Fetched:
        """Busy intervals of [start, end) (all-day events as whole days in `zone`); raises
        CalendarError when the source cannot be read."""


class SecretBox(Protocol):
    def seal(self, plain: str) -> str: ...
    def open(self, sealed: str) -> str: ...


@dataclass(frozen=True)
class CalendarAccess:
    """The adapters for the coach's calendars; `secrets` is None without CALENDAR_SECRET_KEY."""

    readers: dict[SourceKind, BusyReader]
    secrets: SecretBox | None = None

    def password(self, source: CalendarSource) -> str | None:
        if source.sealed_password is None:
            return None
        if self.secrets is None:
            raise CalendarError("CALENDAR_SECRET_KEY is not set, so CalDAV passwords cannot be read")
        return self.secrets.open(source.sealed_password)


@dataclass
class SyncReport:
    busy: int = 0  # busy intervals of the coach now blocking slots (from every source)
    failed: dict[int, str] = field(default_factory=dict)  # source id -> why


def import_window(coach: Coach, now: datetime) -> tuple[datetime, datetime]:
    """From now to the end of the coach's booking horizon (a day over, for the buffers)."""
    return now - timedelta(days=1), now + timedelta(days=coach.horizon_days + 1)


async def connect(
    ctx: Context,
    access: CalendarAccess,
    coach_id: int,
    kind: SourceKind,
    url: str,
    *,
    username: str | None = None,
    password: str | None = None,
) -> CalendarSource:
    """Read the calendar, then store it with its busy time; nothing is stored if it cannot be read.
    A CalDAV calendar also gets the coach's upcoming sessions (a push each, through the outbox)."""
    url = check_connect(access, kind, url, username=username, password=password)
    source = CalendarSource(coach_id, kind, url, created_at=ctx.now())
    if kind is SourceKind.CALDAV:
        assert access.secrets is not None and password is not None  # check_connect
        source.username, source.sealed_password = username, access.secrets.seal(password)
    async with ctx.uow() as uow:
        coach = await coach_of(uow, coach_id)
    fetched = await _read(access, source, coach, ctx.now())
    async with ctx.uow() as uow:
        await uow.lock_coach(coach_id)
        await coach_of(uow, coach_id)
        source.synced_at = source.tried_at = ctx.now()
        source.etag, source.last_modified = fetched.etag, fetched.last_modified
        await uow.calendars.add_source(source)
        assert source.id is not None
        await uow.calendars.replace_busy(source.id, coach_id, fetched.busy or [])
        if kind is SourceKind.CALDAV:
            # Sessions booked before it was connected are pushed too, and those cancelled by a
            # person are removed (they may be there from an earlier connection of this calendar,
            # say before a new app password; removing an event never pushed is harmless). Lapsed
            # holds were never pushed anywhere.
            upcoming = await uow.sessions.find(
                coach_id=coach_id, after=ctx.now(), statuses=PUSHED_STATUSES | {SessionStatus.CANCELLED}, limit=10_000
            )
            for session in upcoming:
                if session.status is not SessionStatus.CANCELLED or session.cancelled_by is not Actor.SYSTEM:
                    await ctx.tell(uow, session, CalendarChanged())
        await uow.commit()
    log.info("calendar.connected", coach_id=coach_id, source_id=source.id, kind=kind.value)
    return source


def check_connect(
    access: CalendarAccess, kind: SourceKind, url: str, *, username: str | None = None, password: str | None = None
) -> str:
    """What can be checked without reading the calendar; the address to store (webcal:// as https://)."""
    url = _checked_url(url)
    if kind is SourceKind.CALDAV:
        if urlsplit(url).password is not None:  # it would be stored in the clear, beside the sealed one
            raise InvalidInput("url", "leave the password out of the address: give it as the (app) password")
        if not username:
            raise InvalidInput("user", "a CalDAV calendar needs the user you sign in to it with")
        if not password:
            raise InvalidInput("password", "a CalDAV calendar needs an (app) password")
        if access.secrets is None:
            raise CalendarError(
                "CalDAV calendars need CALENDAR_SECRET_KEY (a Fernet key) to keep their passwords encrypted"
            )
    return url


def shown_url(source: CalendarSource) -> str:
    """The address as it may be shown: an ICS address is itself a credential (anyone holding it
    reads the calendar), so only its scheme and host; a CalDAV URL without any user:password@."""
    parts = urlsplit(source.url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if source.kind is SourceKind.ICS:
        return f"{parts.scheme}://{host}/…" if host else "…"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


async def sources(ctx: Context, coach_id: int) -> list[tuple[CalendarSource, int]]:
    """The coach's sources, each with how many busy intervals it holds."""
    async with ctx.uow() as uow:
        await coach_of(uow, coach_id)
        return await uow.calendars.sources(coach_id)


async def disconnect(ctx: Context, coach_id: int, source_id: int) -> None:
    """Forget the source and its busy time, which stops blocking at once."""
    async with ctx.uow() as uow:
        await uow.lock_coach(coach_id)
        source = await uow.calendars.get_source(source_id)
        if source is None or source.coach_id != coach_id:
            raise NotFound("calendar source", source_id)
        await uow.calendars.remove_source(source)
        await uow.commit()


async def sync(ctx: Context, access: CalendarAccess, coach_id: int) -> SyncReport:
    """Import every source of the coach now (the ones that fail keep their last good busy set)."""
    async with ctx.uow() as uow:
        coach = await coach_of(uow, coach_id)
        found = [s for s, _ in await uow.calendars.sources(coach_id)]
    report = SyncReport()
    for source in found:
        error = await _sync_one(ctx, access, coach, source)
        if error is not None and source.id is not None:
            report.failed[source.id] = error
    async with ctx.uow() as uow:
        report.busy = await uow.calendars.busy_count(coach_id)
    return report


async def sync_due(
    ctx: Context, access: CalendarAccess, *, every: timedelta = SYNC_EVERY, limit: int = SYNC_BATCH
) -> int:
    """The scheduler's import: up to `limit` sources not tried for `every`, claimed first so that
    two instances never import one source twice, read SYNC_AT_ONCE at a time; how many were tried."""
    async with ctx.uow() as uow:
        due = await uow.calendars.claim_due_sources(ctx.now() - every, ctx.now(), limit=limit)
        coaches = {c.id: c for c in await uow.coaches.all()} if due else {}
        await uow.commit()
    at_once = asyncio.Semaphore(SYNC_AT_ONCE)

    async def one(source: CalendarSource) -> None:
        coach = coaches.get(source.coach_id)
        if coach is None:
            return
        async with at_once:
            try:
                await _sync_one(ctx, access, coach, source)
            except Exception:  # a bug or the database: the other sources still go
                log.exception("calendar.sync_failed", source_id=source.id)

    await asyncio.gather(*(one(source) for source in due))
    return len(due)


async def _sync_one(ctx: Context, access: CalendarAccess, coach: Coach, source: CalendarSource) -> str | None:
    try:
        fetched: Fetched | None = await _read(access, source, coach, ctx.now())
        error = None
    except CalendarError as exc:
        fetched, error = None, str(exc)
    async with ctx.uow() as uow:
        await uow.lock_coach(source.coach_id)
        assert source.id is not None
        stored = await uow.calendars.get_source(source.id)
        if stored is None:  # disconnected meanwhile
            return None
        stored.tried_at = ctx.now()
        await calendar_health.record(uow, stored, CalendarPart.IMPORT, error, ctx.now())
        if fetched is not None and fetched.busy is not None:
            stored.synced_at = ctx.now()  # the last full read: see REREAD_EVERY
            stored.etag, stored.last_modified = fetched.etag, fetched.last_modified
            await uow.calendars.replace_busy(source.id, source.coach_id, fetched.busy)
        await uow.calendars.save_source(stored)
        await uow.commit()
    return error


async def _read(access: CalendarAccess, source: CalendarSource, coach: Coach, now: datetime) -> Fetched:
    reader = access.readers.get(source.kind)
    if reader is None:
        raise CalendarError(f"{source.kind.value} calendars are not available here")
    start, end = import_window(coach, now)
    if source.synced_at is None or source.synced_at <= now - REREAD_EVERY:
        source = replace(source, etag=None, last_modified=None)
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            return await reader.read(source, access.password(source), start, end, coach.timezone)
    except TimeoutError:
        raise CalendarError(f"the calendar did not answer within {int(READ_TIMEOUT_S)} s") from None


def _checked_url(url: str) -> str:
    url = v.text("url", url, max_len=2000) or ""
    if not url.startswith(("https://", "http://", "webcal://")):
        raise InvalidInput("url", "give the calendar's address, starting with https://")
    return "https://" + url[len("webcal://") :] if url.startswith("webcal://") else url
