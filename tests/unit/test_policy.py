"""CancellationPolicy, Money.percent and Coach.price_for: exact to the minor unit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.errors import PolicyViolation
from booking.model import Actor, Coach, Money, Session, SessionStatus
from booking.policy import CancellationPolicy

START = datetime(2030, 1, 9, 10, tzinfo=UTC)
CUTOFF = START - timedelta(hours=24)  # the last instant an author may still cancel or move


def session(paid: int = 0, refunded: int = 0) -> Session:
    return Session(
        coach_id=1,
        author_id=1,
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        blocked_from=START,
        blocked_until=START + timedelta(hours=1),
        duration_minutes=60,
        status=SessionStatus.SCHEDULED,
        price_amount=paid,
        currency="usd",
        amount_paid=paid,
        amount_refunded=refunded,
        id=1,
    )


def half_up(amount: int, pct: int) -> int:
    exact = Decimal(amount) * pct / 100
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ---- refund on cancel ------------------------------------------------------------------


def test_author_early_gets_the_author_percentage():
    assert CancellationPolicy().refund_on_cancel(session(1999), Actor.AUTHOR, CUTOFF) == 1999
    assert CancellationPolicy(author_refund_percent=50).refund_on_cancel(session(1999), Actor.AUTHOR, CUTOFF) == 1000


def test_author_exactly_at_the_cutoff_is_allowed_and_a_moment_later_is_not():
    policy = CancellationPolicy()
    assert policy.refund_on_cancel(session(6000), Actor.AUTHOR, CUTOFF) == 6000
    with pytest.raises(PolicyViolation) as info:
        policy.refund_on_cancel(session(6000), Actor.AUTHOR, CUTOFF + timedelta(microseconds=1))
    assert "24 hours" in info.value.message


def test_author_late_is_refused_even_for_an_unpaid_session():
    with pytest.raises(PolicyViolation):
        CancellationPolicy().refund_on_cancel(session(0), Actor.AUTHOR, START - timedelta(hours=1))


@pytest.mark.parametrize("by", [Actor.COACH, Actor.ADMIN, Actor.SYSTEM])
@pytest.mark.parametrize("now", [START - timedelta(days=10), START - timedelta(minutes=1), START + timedelta(hours=2)])
def test_coach_admin_or_system_may_cancel_any_time(by, now):
    assert CancellationPolicy().refund_on_cancel(session(1999), by, now) == 1999
    assert CancellationPolicy(coach_refund_percent=33).refund_on_cancel(session(1999), by, now) == 660  # 659.67


def test_cutoff_is_configurable():
    policy = CancellationPolicy(author_cutoff_hours=48)
    assert policy.cutoff == timedelta(hours=48)
    with pytest.raises(PolicyViolation) as info:
        policy.refund_on_cancel(session(100), Actor.AUTHOR, START - timedelta(hours=47))
    assert "48 hours" in info.value.message
    assert policy.refund_on_cancel(session(100), Actor.AUTHOR, START - timedelta(hours=48)) == 100


@pytest.mark.parametrize(
    ("paid", "refunded", "pct", "expected"),
    [
        (1999, 0, 50, 1000),  # 999.5 rounds up
        (1999, 0, 100, 1999),
        (1999, 0, 0, 0),
        (1999, 0, 33, 660),  # 659.67
        (1999, 0, 25, 500),  # 499.75
        (1999, 0, 10, 200),  # 199.9
        (1001, 0, 50, 501),  # 500.5 rounds up
        (1000, 0, 15, 150),
        (1, 0, 50, 1),  # 0.5 rounds up
        (1, 0, 49, 0),  # 0.49 rounds down
        (3, 0, 50, 2),  # 1.5
        (2000, 500, 100, 1500),  # only what is left
        (2000, 500, 50, 750),
        (1999, 1000, 50, 500),  # 999 * 0.5 = 499.5
        (2000, 2000, 100, 0),  # nothing left
        (0, 0, 100, 0),  # never paid
    ],
)
def test_refund_is_a_share_of_what_is_left(paid, refunded, pct, expected):
    s = session(paid, refunded)
    assert s.refundable == paid - refunded
    policy = CancellationPolicy(author_refund_percent=pct, coach_refund_percent=pct)
    assert policy.refund_on_cancel(s, Actor.AUTHOR, CUTOFF) == expected
    assert policy.refund_on_cancel(s, Actor.COACH, START) == expected


# ---- reschedule and no-show ------------------------------------------------------------


def test_reschedule_cutoff():
    policy = CancellationPolicy()
    policy.check_reschedule(session(), Actor.AUTHOR, CUTOFF)  # exactly 24 h before: allowed
    with pytest.raises(PolicyViolation) as info:
        policy.check_reschedule(session(), Actor.AUTHOR, CUTOFF + timedelta(seconds=1))
    assert "rescheduled" in info.value.message
    for by in (Actor.COACH, Actor.ADMIN):
        policy.check_reschedule(session(), by, START - timedelta(minutes=1))


def test_author_may_change():
    policy = CancellationPolicy()
    assert policy.author_may_change(session(), CUTOFF)
    assert policy.author_may_change(session(), START - timedelta(days=30))
    assert not policy.author_may_change(session(), CUTOFF + timedelta(microseconds=1))
    assert not policy.author_may_change(session(), START + timedelta(minutes=5))


def test_no_show_refunds():
    policy = CancellationPolicy()
    assert policy.refund_on_no_show(session(1999), Actor.AUTHOR) == 0
    assert policy.refund_on_no_show(session(1999), Actor.COACH) == 1999
    assert policy.refund_on_no_show(session(1999, 999), Actor.COACH) == 1000
    custom = CancellationPolicy(author_no_show_refund_percent=50, coach_no_show_refund_percent=75)
    assert custom.refund_on_no_show(session(1999), Actor.AUTHOR) == 1000  # 999.5
    assert custom.refund_on_no_show(session(1999), Actor.COACH) == 1499  # 1499.25


@given(
    paid=st.integers(0, 10**9),
    refunded_share=st.integers(0, 100),
    pct=st.integers(0, 100),
)
def test_refund_matches_decimal_round_half_up_and_never_exceeds_what_is_left(paid, refunded_share, pct):
    refunded = paid * refunded_share // 100
    s = session(paid, refunded)
    policy = CancellationPolicy(coach_refund_percent=pct)
    refund = policy.refund_on_cancel(s, Actor.COACH, START)
    assert refund == half_up(paid - refunded, pct) == Money(paid - refunded, "usd").percent(pct).amount
    assert 0 <= refund <= s.refundable


# ---- money -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "pct", "expected"),
    [
        (1999, 50, 1000),
        (1999, 33, 660),
        (1999, 100, 1999),
        (1999, 0, 0),
        (5, 10, 1),
        (4, 10, 0),
        (15, 10, 2),
        (1, 50, 1),
    ],
)
def test_money_percent_rounds_half_up(amount, pct, expected):
    assert Money(amount, "eur").percent(pct) == Money(expected, "eur")


def test_money_format():
    assert Money(1999, "usd").format() == "19.99 USD"
    assert Money(5, "eur").format() == "0.05 EUR"


@pytest.mark.parametrize(
    ("rate", "minutes", "expected"),
    [
        (6000, 60, 6000),
        (6000, 45, 4500),
        (4999, 45, 3749),  # 3749.25
        (1001, 30, 501),  # 500.5 rounds up
        (1000, 50, 833),  # 833.33
        (1000, 40, 667),  # 666.67
        (7, 90, 11),  # 10.5 rounds up
        (0, 60, 0),
        (10_000_000, 480, 80_000_000),
    ],
)
def test_coach_price_for_rounds_half_up(rate, minutes, expected):
    coach = Coach(name="Ada", timezone="UTC", rate=rate, currency="gbp")
    assert coach.price_for(minutes) == Money(expected, "gbp")


def test_coach_rating():
    coach = Coach(name="Ada", timezone="UTC", rate=0)
    assert coach.rating == Decimal("0.00")
    coach.rating_total, coach.rating_count = 14, 3
    assert coach.rating == Decimal("4.67")
    coach.rating_total, coach.rating_count = 9, 2
    assert coach.rating == Decimal("4.50")
