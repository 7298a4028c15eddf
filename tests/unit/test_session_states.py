"""State changes live on Session next to ALLOWED_TRANSITIONS: each checks the transition it makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.errors import InvalidTransition, PaymentError
from booking.ledger import Payment, next_refund
from booking.model import ALLOWED_TRANSITIONS, Actor, Interval, Session, SessionStatus

START = datetime(2030, 1, 9, 10, tzinfo=UTC)
NOW = START - timedelta(days=1)
H = timedelta(hours=1)


def session(status: SessionStatus, **fields) -> Session:
    return Session(
        coach_id=1,
        author_id=2,
        starts_at=START,
        ends_at=START + H,
        blocked_from=START,
        blocked_until=START + H,
        duration_minutes=60,
        status=status,
        price_amount=6000,
        currency="usd",
        id=9,
        **fields,
    )


STEPS = {
    SessionStatus.SCHEDULED: lambda s: s.pay(6000, "pi_1", NOW),
    SessionStatus.IN_PROGRESS: lambda s: s.start(NOW),
    SessionStatus.COMPLETED: lambda s: s.complete(NOW),
    SessionStatus.CANCELLED: lambda s: s.cancel(Actor.COACH, None, 0, NOW),
    SessionStatus.NO_SHOW: lambda s: s.mark_no_show(0, NOW),
}


@pytest.mark.parametrize("before", list(SessionStatus))
@pytest.mark.parametrize("after", list(STEPS))
def test_a_state_change_happens_only_where_the_table_allows_it(before, after):
    s = session(before)
    allowed = after in ALLOWED_TRANSITIONS[before]
    if before is SessionStatus.COMPLETED and after is SessionStatus.NO_SHOW:
        allowed = True  # an unrated completion may still become a no-show (the scheduler completes on its own)
    if allowed:
        STEPS[after](s)
        assert s.status is after and s.updated_at == NOW
    else:
        with pytest.raises(InvalidTransition):
            STEPS[after](s)
        assert s.status is before


def test_paying_a_hold_schedules_it_and_forgets_the_hold():
    s = session(SessionStatus.HELD, hold_expires_at=NOW + H)
    s.pay(6000, "pi_1", NOW)
    assert (s.status, s.amount_paid, s.payment_ref, s.hold_expires_at) == (SessionStatus.SCHEDULED, 6000, "pi_1", None)


def test_a_cancellation_records_who_why_and_what_is_owed():
    s = session(SessionStatus.SCHEDULED, amount_paid=6000)
    s.cancel(Actor.AUTHOR, "moved house", 3000, NOW)
    assert (s.cancelled_by, s.cancel_reason, s.cancelled_at, s.refund_due) == (Actor.AUTHOR, "moved house", NOW, 3000)


def test_a_released_hold_is_cancelled_by_the_system_and_can_be_reinstated():
    s = session(SessionStatus.HELD, hold_expires_at=NOW)
    s.release_hold("hold expired", NOW)
    assert (s.status, s.cancelled_by, s.hold_expires_at) == (SessionStatus.CANCELLED, Actor.SYSTEM, None)
    s.reinstate(NOW + H)
    assert (s.status, s.cancelled_by, s.cancel_reason) == (SessionStatus.SCHEDULED, None, None)


def test_only_scheduled_sessions_move_and_moving_drops_the_old_link():
    s = session(SessionStatus.SCHEDULED, meeting_url="https://meet.test/a")
    slot = Interval(START + 2 * H, START + 3 * H)
    s.move(slot, timedelta(minutes=5), timedelta(minutes=10), NOW)
    assert (s.starts_at, s.blocked_from, s.blocked_until, s.meeting_url) == (
        slot.start,
        slot.start - timedelta(minutes=5),
        slot.end + timedelta(minutes=10),
        None,
    )
    with pytest.raises(InvalidTransition):
        session(SessionStatus.HELD).move(slot, H, H, NOW)


def test_a_rated_completion_cannot_become_a_no_show_and_an_unrated_one_can():
    rated = session(SessionStatus.COMPLETED, rating=5)
    with pytest.raises(InvalidTransition):
        rated.mark_no_show(0, NOW)
    unrated = session(SessionStatus.COMPLETED, amount_paid=6000)
    assert unrated.mark_no_show(6000, NOW) is True  # the completion is undone
    assert (unrated.status, unrated.refund_due) == (SessionStatus.NO_SHOW, 6000)


def test_rating_needs_a_completed_unrated_session():
    with pytest.raises(InvalidTransition):
        session(SessionStatus.SCHEDULED).rate(5, None, NOW)
    s = session(SessionStatus.COMPLETED)
    s.rate(4, "useful", NOW)
    with pytest.raises(InvalidTransition):
        s.rate(5, None, NOW)
    assert (s.rating, s.feedback, s.rated_at) == (4, "useful", NOW)


def test_refund_bookkeeping_moves_money_between_owed_and_refunded():
    s = session(SessionStatus.CANCELLED, amount_paid=6000)
    s.owe_refund(6000)
    s.refunded(6000)
    assert (s.refund_due, s.amount_refunded, s.refundable) == (0, 6000, 0)
    s.refund_failed(6000)
    assert (s.refund_due, s.amount_refunded, s.refund_attempt) == (6000, 0, 1)


def test_a_session_cannot_complete_before_it_starts():
    with pytest.raises(InvalidTransition):
        session(SessionStatus.SCHEDULED).require_started(START - timedelta(seconds=1))
    session(SessionStatus.SCHEDULED).require_started(START)


def test_a_refund_the_provider_reports_is_recorded_once_and_never_beyond_the_payment():
    payment = Payment(session_id=9, ref="pi_1", amount=6000)
    assert payment.reported(4000) == 4000 and payment.left == 2000
    assert payment.reported(4000) == 0  # a replay changes nothing
    assert payment.reported(9000) == 2000 and payment.left == 0
    with pytest.raises(PaymentError):
        payment.refund(1)
    assert payment.refund_failed(1000) == 1000 and payment.left == 1000


def test_refunds_go_to_the_newest_payment_that_still_holds_money():
    first = Payment(9, "pi_1", 6000, created_at=NOW, id=1)
    second = Payment(9, "pi_2", 6000, created_at=NOW + H, id=2)
    assert next_refund([first, second], 9000) == (second, 6000)
    second.refund(6000)
    assert next_refund([first, second], 3000) == (first, 3000)
    first.refund(6000)
    assert next_refund([first, second], 1) is None


def test_a_late_or_second_payment_is_added_to_what_was_paid():
    s = session(SessionStatus.CANCELLED, amount_paid=6000, payment_ref="pi_1")
    s.payment_received(6000, "pi_2", NOW)
    assert (s.amount_paid, s.payment_ref, s.updated_at, s.status) == (12000, "pi_2", NOW, SessionStatus.CANCELLED)
