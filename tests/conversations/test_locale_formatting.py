"""Money, dates and relative times as a reader of each language expects them (issue 11, deliver 3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from booking.model import Coach, Money, Session, SessionStatus
from conversations import formatting
from conversations.telegram import i18n, texts
from tests.conversations.conftest import author_for
from tests.conversations.test_sessions import booked

TUE_14 = datetime(2030, 1, 8, 13, tzinfo=UTC)  # 14:00 in Berlin


def test_money_in_each_language_and_currency():
    assert formatting.money(9000, "usd", "en") == "$90.00"
    assert formatting.money(9000, "eur", "de") == "90,00\xa0€"
    assert formatting.money(9000, "eur", "en") == "€90.00"
    assert formatting.money(12345, "usd", "de") == "123,45\xa0$"
    assert formatting.money(500, "jpy", "en") == "¥500"  # no minor units


def test_texts_format_money_in_the_current_language():
    assert texts.money(Money(9000, "eur")) == "€90.00"
    with i18n.using("de"):
        assert texts.money(Money(9000, "eur")) == "90,00\xa0€"


def test_dates_read_as_each_language_writes_them():
    assert texts.when(TUE_14, "Europe/Berlin") == "Tue 8 Jan 2030, 14:00 (Europe/Berlin)"
    with i18n.using("de"):
        assert texts.when(TUE_14, "Europe/Berlin") == "Di., 8. Jan. 2030, 14:00 (Europe/Berlin)"
        assert texts.day_title(date(2030, 1, 8)) == "Dienstag, 8. Januar 2030"
        assert texts.month_title(date(2030, 3, 1)) == "März 2030"
        assert texts.short_when(TUE_14, "Europe/Berlin") == "Di., 8. Jan., 14:00"


def test_relative_times():
    now = TUE_14
    assert texts.relative(now + timedelta(hours=3), now) == "in 3 hours"
    assert texts.relative(now + timedelta(minutes=90), now) == "in 90 minutes"
    with i18n.using("de"):
        assert texts.relative(now + timedelta(hours=3), now) == "in 3 Stunden"
    assert texts.when_soon(now + timedelta(hours=3), "Europe/Berlin", now).endswith(", in 3 hours")
    assert "in" not in texts.when_soon(now + timedelta(days=5), "Europe/Berlin", now).split(")")[-1]


def test_the_language_comes_from_telegrams_code():
    assert i18n.language_for("de") == "de"
    assert i18n.language_for("de-AT") == "de"
    assert i18n.language_for("fr") == "en"
    assert i18n.language_for(None) == "en"


async def test_a_session_soon_says_how_soon(bot):
    mary = bot.user()
    author = await author_for(bot, mary)
    await booked(bot, author, days=1, hours=2)
    await mary.say("/sessions")
    await mary.press(mary.labels()[0])
    assert "When: " in mary.text() and ", in 1 day" in mary.text()


def test_a_hold_says_how_long_it_lasts():
    coach = Coach(name="Ada", timezone="Europe/London", rate=8000)
    start = TUE_14 + timedelta(days=2)
    hold = Session(
        coach_id=1,
        author_id=1,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        blocked_from=start,
        blocked_until=start + timedelta(hours=1),
        duration_minutes=60,
        status=SessionStatus.HELD,
        price_amount=8000,
        currency="usd",
        hold_expires_at=TUE_14 + timedelta(minutes=30),
        checkout_url="https://pay.test/1",
    )
    assert ", in 30 minutes.\nPay $80.00 to confirm" in texts.held(hold, coach, "Europe/Berlin", TUE_14)
