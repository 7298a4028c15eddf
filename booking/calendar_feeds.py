"""Subscription feeds: one secret address per coach and per author that a calendar app polls.
The token is made on first use and kept, so the address stays the same until it is rotated; the
old token then matches nothing (a plain 404)."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import timedelta

from booking.context import Context, author_of, coach_of
from booking.model import Author, Coach, Session, SessionStatus
from booking.ports import UnitOfWork

PAST = timedelta(days=30)
MAX_ENTRIES = 1000
# Unpaid holds are not bookings yet; everything else is shown, cancellations as cancelled.
SHOWN = frozenset(s for s in SessionStatus if s is not SessionStatus.HELD)


class FeedOwner(str, enum.Enum):
    COACH = "coach"
    AUTHOR = "author"


@dataclass(frozen=True)
class Feed:
    owner: FeedOwner
    name: str
    entries: list[tuple[Session, Coach, Author]]


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def token(ctx: Context, owner: FeedOwner, owner_id: int) -> str:
    """The owner's feed token, made on first use."""
    async with ctx.uow() as uow:
        await _owner(uow, owner, owner_id)
        found = await uow.calendars.feed_token(owner.value, owner_id)
        if found is not None:
            return found
        made = await uow.calendars.set_feed_token(owner.value, owner_id, new_token(), replace=False)
        await uow.commit()
        return made


async def rotate(ctx: Context, owner: FeedOwner, owner_id: int) -> str:
    async with ctx.uow() as uow:
        await _owner(uow, owner, owner_id)
        made = await uow.calendars.set_feed_token(owner.value, owner_id, new_token(), replace=True)
        await uow.commit()
        return made


async def feed(ctx: Context, feed_token: str) -> Feed | None:
    """The sessions of the token's owner from 30 days ago on; None for a token that is not one."""
    if not feed_token or len(feed_token) > 100:
        return None
    now = ctx.now()
    async with ctx.uow() as uow:
        found = await uow.calendars.feed_owner(feed_token)
        if found is None:
            return None
        kind, owner_id = FeedOwner(found[0]), found[1]
        coach_id, author_id = (owner_id, None) if kind is FeedOwner.COACH else (None, owner_id)
        sessions = await uow.sessions.find(
            coach_id=coach_id, author_id=author_id, after=now - PAST, statuses=SHOWN, limit=MAX_ENTRIES
        )
        parties = await uow.outbox.parties([s.id for s in sessions if s.id is not None])
        name = (await _owner(uow, kind, owner_id)).name
    entries = [
        (p.session, p.coach, p.author) for p in (parties.get(s.id) for s in sessions if s.id and not _abandoned(s)) if p
    ]
    return Feed(kind, f"Coaching sessions: {name}", entries)


def _abandoned(session: Session) -> bool:
    """A hold that was never paid and is gone: never in anyone's calendar, so no entry to cancel."""
    unpaid_checkout = session.checkout_ref is not None and session.amount_paid == 0
    return session.status is SessionStatus.CANCELLED and unpaid_checkout


async def _owner(uow: UnitOfWork, kind: FeedOwner, owner_id: int) -> Coach | Author:
    if kind is FeedOwner.COACH:
        return await coach_of(uow, owner_id)
    return await author_of(uow, owner_id)
