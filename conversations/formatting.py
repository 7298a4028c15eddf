"""Money, dates and relative times as a reader of a language expects them (Babel, CLDR data).

Formatting is presentation, so it lives here and not on booking's value objects; `language` is
one of the bot's languages ("en", "de"), read as a CLDR locale."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from babel.dates import format_date, format_datetime, format_timedelta, get_day_names
from babel.numbers import format_currency, get_currency_precision

# Day-first with a 24-hour clock in English too: the bot's authors are everywhere, and
# "8 Jan, 14:00" cannot be misread the way "1/8, 2:00" can.
PATTERNS: dict[str, dict[str, str]] = {
    "en": {
        "datetime": "EEE d MMM y, HH:mm",
        "short": "EEE d MMM HH:mm",
        "day": "EEEE d MMMM y",
        "month": "LLLL y",
    },
    "de": {
        "datetime": "EEE, d. MMM y, HH:mm",
        "short": "EEE, d. MMM, HH:mm",
        "day": "EEEE, d. MMMM y",
        "month": "LLLL y",
    },
}


def _patterns(language: str) -> dict[str, str]:
    return PATTERNS.get(language, PATTERNS["en"])


def money(amount: int, currency: str, language: str) -> str:
    """`amount` in minor units: money(9000, "usd", "en") == "$90.00", money(9000, "eur", "de") == "90,00 €"."""
    code = currency.upper()
    major = Decimal(amount).scaleb(-get_currency_precision(code))
    return format_currency(major, code, locale=language)


def date_time(at: datetime, language: str) -> str:
    """A wall-clock instant (already in the reader's zone): 'Tue 8 Jan 2030, 14:00' / 'Di., 8. Jan. 2030, 14:00'."""
    return format_datetime(at, _patterns(language)["datetime"], locale=language)


def short_date_time(at: datetime, language: str) -> str:
    return format_datetime(at, _patterns(language)["short"], locale=language)


def clock(at: datetime) -> str:
    return f"{at:%H:%M}"


def day(value: date, language: str) -> str:
    return format_date(value, _patterns(language)["day"], locale=language)


def month(value: date, language: str) -> str:
    return format_date(value, _patterns(language)["month"], locale=language)


def weekdays(language: str) -> tuple[str, ...]:
    """Monday first, as a calendar's column heads: 'Mo', 'Tu'... ('Mo', 'Di'...; CLDR's "Mo." without the dot)."""
    names = get_day_names("short", locale=language)
    return tuple(names[index].rstrip(".") for index in range(7))


def relative(delta: timedelta, language: str) -> str:
    """'in 3 hours', 'in 90 minutes', '2 days ago' ('in 3 Stunden'...). Under two hours, a time
    that is not whole hours stays in minutes, so 90 minutes is not rounded to "2 hours"."""
    seconds = abs(delta.total_seconds())
    threshold = 2 if seconds < 7200 and seconds % 3600 else 1
    return format_timedelta(delta, add_direction=True, threshold=threshold, locale=language)
