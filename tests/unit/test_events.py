"""Typed events: what a use case queues is what a notifier reads back, each addressed to its
recipient, and messages for a recipient without a running channel wait in the outbox."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from booking import bookings, cancellation, lifecycle, materials
from booking.events import (
    EVENTS,
    CalendarChanged,
    CalendarFailing,
    CalendarPart,
    CalendarRecovered,
    DailyAgenda,
    DeliveryFailed,
    HoldExpired,
    MaterialShared,
    PaymentRefunded,
    RatingPrompt,
    Recipient,
    RefundOwed,
    RefundReason,
    RefundSent,
    Reminder,
    SeriesConfirmed,
    SessionCancelled,
    SessionCompleted,
    SessionConfirmed,
    SessionNoShow,
    SessionRated,
    SessionRescheduled,
    StartingNow,
    WaitlistOffer,
    from_message,
    to_message,
)
from booking.model import Actor, OutboxMessage, SessionStatus
from booking.outbox import deliver_due
from tests.unit.test_use_cases import WED_10, world

AT = datetime(2030, 1, 9, 10, tzinfo=UTC)
ONE_OF_EACH = [
    SessionConfirmed(),
    SeriesConfirmed(3),
    Reminder(60, AT),
    StartingNow(AT),
    SessionCancelled(Actor.COACH, 1500),
    SessionRescheduled(Actor.AUTHOR, AT),
    HoldExpired("hold expired"),
    PaymentRefunded(9000, RefundReason.SLOT_TAKEN),
    RefundSent(4500),
    SessionNoShow(Actor.AUTHOR, 0),
    RatingPrompt(),
    SessionCompleted(),
    SessionRated(4),
    MaterialShared(Actor.AUTHOR, 7),
    DailyAgenda(date(2030, 1, 9)),
    RefundOwed(4500, "card declined"),
    DeliveryFailed("session_confirmed", Recipient.COACH, "the coach has no Slack account linked"),
    CalendarChanged(),
    CalendarFailing(3, CalendarPart.IMPORT, "the server answered 503"),
    CalendarRecovered(3, CalendarPart.PUSH),
    WaitlistOffer(3, AT),
]


def test_every_kind_has_an_event_and_each_reads_back_as_it_was_written():
    assert {type(e) for e in ONE_OF_EACH} == set(EVENTS.values())
    for event in ONE_OF_EACH:
        message = to_message(event, 5, AT)
        assert (message.kind, message.session_id, message.due_at) == (event.kind, 5, AT)
        assert from_message(message) == event


def test_the_stored_payload_keeps_the_format_of_earlier_messages():
    # Rows written before events were typed must still be read.
    assert to_message(Reminder(60, AT), 1, AT).payload == {"minutes_before": 60, "starts_at": AT.isoformat()}
    assert to_message(SessionCancelled(Actor.COACH, 1500), 1, AT).payload == {"by": "coach", "refund": 1500}
    old = OutboxMessage(
        kind="payment_refunded", session_id=1, due_at=AT, payload={"amount": 100, "reason": "duplicate"}
    )
    assert from_message(old) == PaymentRefunded(100, RefundReason.DUPLICATE)


def test_each_event_names_its_recipient():
    assert to_message(SessionRated(5), 1, AT).recipient == "coach"
    assert MaterialShared(Actor.AUTHOR, 1).recipient is Recipient.COACH
    assert MaterialShared(Actor.COACH, 1).recipient is Recipient.AUTHOR
    assert DailyAgenda(date(2030, 1, 9)).recipient is Recipient.COACH
    assert SessionCompleted().recipient is Recipient.COACH
    assert (
        RefundOwed(1, "declined").recipient is DeliveryFailed("x", Recipient.AUTHOR, "y").recipient is Recipient.ADMIN
    )
    not_for_authors = (
        SessionRated,
        MaterialShared,
        DailyAgenda,
        SessionCompleted,
        RefundOwed,
        DeliveryFailed,
        CalendarChanged,
        CalendarFailing,
        CalendarRecovered,
    )
    for_authors = [e for e in ONE_OF_EACH if not isinstance(e, not_for_authors)]
    assert {e.recipient for e in for_authors} == {Recipient.AUTHOR}


@pytest.mark.parametrize(
    "kind, payload",
    [
        ("no_such_kind", {}),
        ("reminder", {"minutes_before": 60}),  # a field missing
        ("reminder", {"minutes_before": "soon", "starts_at": AT.isoformat()}),
        ("session_cancelled", {"by": "martian", "refund": 0}),
        ("refund_sent", {"amount": True}),
    ],
)
def test_a_message_that_cannot_be_read_is_a_value_error(kind, payload):
    with pytest.raises(ValueError):
        from_message(OutboxMessage(kind=kind, session_id=1, due_at=AT, payload=payload))


def test_events_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RefundSent(1).amount = 2  # type: ignore[misc]


class AuthorsOnly:
    """A notifier like the Telegram one: it reaches authors only."""

    recipients = frozenset({Recipient.AUTHOR.value})

    def __init__(self) -> None:
        self.delivered: list[OutboxMessage] = []

    async def deliver(self, message: OutboxMessage) -> None:
        self.delivered.append(message)


async def test_messages_for_coaches_wait_until_a_channel_reaches_them():
    w = await world()
    w.store.data.caldav_coaches.add(w.coach.id)  # so that the booking is pushed to a calendar too
    session = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    await materials.add_material(
        w.ctx,
        session.id,
        by=Actor.AUTHOR,
        actor_id=w.author.id,
        kind="manuscript",
        title="Draft",
        content="Chapter one",
    )
    w.clock.set(WED_10 + timedelta(hours=2))
    await lifecycle.advance_statuses(w.ctx)
    await lifecycle.rate(w.ctx, session.id, author_id=w.author.id, stars=5)

    notifier = AuthorsOnly()
    await deliver_due(w.ctx.uow, notifier, w.clock)
    assert "session_rated" not in {m.kind for m in notifier.delivered}
    assert "material_shared" not in {m.kind for m in notifier.delivered}
    waiting = [m for m in w.store.outbox if m.sent_at is None]
    assert all(m.attempts == 0 for m in waiting)  # not acknowledged: nobody was told
    assert {m.kind for m in waiting if m.recipient == "coach"} >= {
        "session_confirmed",
        "session_rated",
        "material_shared",
    }
    assert {m.kind for m in waiting if m.recipient == "admin"} == {"session_confirmed"}
    assert {m.recipient for m in waiting} == {"coach", "admin", "calendar"}

    class Coaches(AuthorsOnly):
        recipients = frozenset({Recipient.COACH.value, Recipient.ADMIN.value, Recipient.CALENDAR.value})

    coaches = Coaches()
    await deliver_due(w.ctx.uow, coaches, w.clock)
    assert sorted(m.id for m in coaches.delivered) == sorted(m.id for m in waiting)
    assert all(m.sent_at is not None for m in w.store.outbox)


async def test_a_calendar_push_is_queued_only_for_a_coach_with_a_caldav_calendar():
    w = await world()
    without = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    await cancellation.cancel(w.ctx, without.id, by=Actor.COACH, reason="ill")
    assert [m for m in w.store.outbox if m.kind == CalendarChanged.kind] == []

    w.store.data.caldav_coaches.add(w.coach.id)
    pushed = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10 + timedelta(days=1))
    await cancellation.cancel(w.ctx, pushed.id, by=Actor.COACH, reason="ill")
    assert [m.session_id for m in w.store.outbox if m.kind == CalendarChanged.kind] == [pushed.id, pushed.id]


async def test_a_cancellation_queues_one_typed_event_for_the_author():
    w = await world()
    session = await bookings.book(w.ctx, w.coach.id, w.author.id, WED_10)
    await cancellation.cancel(w.ctx, session.id, by=Actor.COACH, reason="ill")
    [message] = [m for m in w.store.outbox if m.kind == "session_cancelled" and m.recipient == "author"]
    assert from_message(message) == SessionCancelled(Actor.COACH, 0)
    copies = sorted((m.recipient, from_message(m)) for m in w.store.outbox if m.kind == "session_cancelled")
    assert copies == [
        ("admin", SessionCancelled(Actor.COACH, 0).for_(Recipient.ADMIN)),
        ("author", SessionCancelled(Actor.COACH, 0)),
        ("coach", SessionCancelled(Actor.COACH, 0).for_(Recipient.COACH)),
    ]
    assert w.store.sessions[session.id].status is SessionStatus.CANCELLED
