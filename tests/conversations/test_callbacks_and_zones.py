from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.telegram import callbacks as cb
from conversations.telegram.handlers import ROUTES
from conversations.telegram.zones import display, guess

BIG = 10**12 - 1
LATE = datetime(2099, 12, 31, 23, 0, tzinfo=UTC)


def every_builder():
    month, day = date(2099, 12, 1), date(2099, 12, 31)
    return {
        "noop": cb.NOOP,
        "filters": cb.FILTERS,
        "book.skip": cb.BOOK_SKIP,
        "book.abort": cb.BOOK_ABORT,
        "zone.ask": cb.ZONE_ASK,
        "list": cb.coach_list(999, "abcdef"),
        "card": cb.card(BIG),
        "again": cb.book_again(BIG),
        "book.start": cb.book_start(BIG, 480),
        "book.next": cb.book_next(BIG, 480),
        "book.month": cb.book_month(BIG, month, 480),
        "book.day": cb.book_day(BIG, day, 480),
        "book.slot": cb.book_slot(BIG, LATE, 480),
        "book.confirm": cb.book_confirm(BIG, LATE, 480),
        "series.repeat": cb.series_repeat(BIG, LATE, 480),
        "series.count": cb.series_count(BIG, LATE, 480, "fortnightly"),
        "series.summary": cb.series_summary(BIG, LATE, 480, "fortnightly", 12),
        "series.confirm": cb.series_confirm(BIG, LATE, 480, "fortnightly", 12, "append"),
        "packages": cb.packages(BIG),
        "package.buy": cb.package_buy(BIG, BIG),
        "cancel.following": cb.cancel_following(BIG),
        "move.following": cb.move_following(BIG, LATE),
        "sessions": cb.sessions("p"),
        "session": cb.session(BIG),
        "pay": cb.pay(BIG),
        "cancel.ask": cb.cancel_ask(BIG),
        "cancel.yes": cb.cancel_yes(BIG),
        "move.start": cb.move_start(BIG),
        "move.month": cb.move_month(BIG, month),
        "move.day": cb.move_day(BIG, day),
        "move.slot": cb.move_slot(BIG, LATE),
        "move.confirm": cb.move_confirm(BIG, LATE),
        "materials": cb.materials(BIG),
        "materials.add": cb.materials_add(BIG),
        "rate": cb.rate(BIG, 5),
        "rate.skip": cb.rate_skip(BIG),
        "zone": cb.zone("America/Argentina/ComodRivadavia"),
        "reminder": cb.reminder(1440),
        "language": cb.language("de"),
        "group.list": cb.group_list(BIG),
        "group.view": cb.group_view(BIG),
        "group.take": cb.group_take(BIG),
        "wait.day": cb.wait_day(BIG, day, 480),
        "wait.week": cb.wait_week(BIG, day, 480),
        "wait.slot": cb.wait_slot(BIG, LATE, 480),
        "wait.leave": cb.wait_leave(BIG),
        "offer.book": cb.offer_book(BIG),
        "offer.decline": cb.offer_decline(BIG),
    }


def test_every_kind_is_built_within_64_bytes_parsed_back_and_routed():
    built = every_builder()
    kinds = {kind for kind, _, _ in cb._GRAMMAR}
    assert set(built) == kinds == set(ROUTES)
    for kind, data in built.items():
        assert len(data.encode()) <= 64, data
        assert cb.parse(data).kind == kind, data


def test_parsed_values():
    assert cb.parse("b:s:12:1733220000:60").args == (12, datetime(2024, 12, 3, 10, 0, tzinfo=UTC), 60)
    assert cb.parse("b:s:12:1733220000").args == (12, datetime(2024, 12, 3, 10, 0, tzinfo=UTC), None)
    assert cb.parse("b:d:12:20261203").args == (12, date(2026, 12, 3), None)
    assert cb.parse("b:d:12:20261203:90").args == (12, date(2026, 12, 3), 90)
    assert cb.parse("b:n:12").args == (12, None)
    assert cb.parse("b:c:12:60").args == (12, 60)
    assert cb.parse("l:2:").args == (2, "")
    assert cb.parse("r:7:3").args == (7, 3)
    assert cb.parse("g:de").args == ("de",) and cb.parse("g:xx") is None
    assert cb.parse(cb.coach_list(0, cb.specialty_key("romance"))).args == (0, cb.specialty_key("romance"))


@pytest.mark.parametrize(
    "data",
    [
        None,
        42,
        "",
        "b:d:12:20261332",
        "b:m:1:202600",
        "b:s:1:123",
        "k:0",
        "k:007",
        "k:1 ",
        " k:1",
        "k:1\n",
        "r:1:6",
        "t:15",
        "z:n:",
        "z:n:../../etc",
        "l:1000:",
        "l:0:abcdeg",
        "s:x",
        "c:" + "1" * 13,
        "x" * 65,
        "k:١٢",
        "b:ok:1:1733220000",
        "m:a:1:2",
    ],
)
def test_rejects(data):
    assert cb.parse(data) is None


def test_builders_refuse_oversized_data():
    with pytest.raises(ValueError):
        cb.zone("A" * 70)


@given(st.text(max_size=100))
def test_parse_never_raises(data):
    parsed = cb.parse(data)
    assert parsed is None or len(data.encode()) <= 64


@pytest.mark.parametrize(
    "typed, zone",
    [
        ("berlin", "Europe/Berlin"),
        ("New York", "America/New_York"),
        ("new_york", "America/New_York"),
        ("europe/berlin", "Europe/Berlin"),
        ("São Paulo", "America/Sao_Paulo"),
        ("Berlin, Germany", "Europe/Berlin"),
        ("mumbai", "Asia/Kolkata"),
        ("San Francisco", "America/Los_Angeles"),
        ("utc", "UTC"),
        ("Buenos Aires", "America/Argentina/Buenos_Aires"),
        ("indianapolis", "America/Indiana/Indianapolis"),
    ],
)
def test_zone_guesses(typed, zone):
    assert guess(typed).zone == zone


def test_zone_suggestions_and_misses():
    assert guess("Berln").suggestions == ["Europe/Berlin"]
    assert guess("Atlantis under the sea").zone is None
    assert guess("UTC+15").zone is None and guess("x" * 500).zone is None


WINTER, SUMMER = datetime(2030, 1, 7, 8, 0, tzinfo=UTC), datetime(2030, 7, 7, 8, 0, tzinfo=UTC)


def test_an_offset_offers_the_cities_at_that_offset_now():
    winter = guess("UTC+2", now=WINTER)
    assert winter.zone is None and winter.offset == "UTC+02:00" and winter.fixed == "Etc/GMT-2"
    assert {"Europe/Athens", "Africa/Johannesburg"} <= set(winter.suggestions)
    assert "Europe/Berlin" not in winter.suggestions and len(winter.suggestions) <= 6
    assert "Europe/Berlin" in guess("utc + 2", now=SUMMER).suggestions
    new_york = guess("gmt-5", now=WINTER)
    assert "America/New_York" in new_york.suggestions and new_york.fixed == "Etc/GMT+5"
    india = guess("UTC+5:30", now=WINTER)
    assert india.suggestions[:1] == ["Asia/Kolkata"] and india.offset == "UTC+05:30" and india.fixed is None


def test_a_fixed_offset_is_shown_the_way_people_write_it():
    assert display("Etc/GMT-2") == "UTC+02:00" and display("Etc/GMT+5") == "UTC-05:00"
    assert display("Etc/UTC") == "UTC" and display("Europe/Berlin") == "Europe/Berlin"
