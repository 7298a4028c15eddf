"""Checks on input from people; each failure names the field."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from booking.errors import InvalidInput
from booking.model import WEEKDAYS

MAX_RATE = 10_000_000  # 100,000.00 an hour: anything above is a typo
MAX_TEXT = 4000
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_ZONES: frozenset[str] | None = None
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def timezone(field: str, value: str) -> str:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    name = (value or "").strip()
    if name not in _ZONES:
        # Accept a case-insensitive match ("europe/berlin"), nothing looser.
        folded = {z.lower(): z for z in _ZONES}.get(name.lower())
        if folded is None:
            raise InvalidInput(field, f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)")
        name = folded
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(field, f"unknown time zone {value!r}") from None
    return name


def hhmm(field: str, value: str, *, allow_24: bool = False) -> int:
    m = _HHMM.match((value or "").strip())
    if not m:
        raise InvalidInput(field, f"expected HH:MM, got {value!r}")
    hours, minutes = int(m.group(1)), int(m.group(2))
    total = hours * 60 + minutes
    if minutes > 59 or total > 1440 or (total == 1440 and not allow_24):
        raise InvalidInput(field, f"not a time of day: {value!r}")
    return total


def weekday(field: str, value: str) -> int:
    # "mon", "Mon", "mond", "Monday"; not any word that merely begins like a day ("sunny").
    key = (value or "").strip().lower()
    for index, day in enumerate(_DAY_NAMES):
        if len(key) >= 3 and day.startswith(key):
            return index
    raise InvalidInput(field, f"expected one of {', '.join(WEEKDAYS)}, got {value!r}")


def name(field: str, value: str, *, max_len: int = 255) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(field, "must not be empty")
    if len(text) > max_len:
        raise InvalidInput(field, f"longer than {max_len} characters")
    if any(ord(c) < 32 for c in text):
        raise InvalidInput(field, "contains control characters")
    return text


def text(field: str, value: str | None, *, max_len: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > max_len:
        raise InvalidInput(field, f"longer than {max_len} characters")
    return value or None


def language(field: str, value: str) -> str:
    if not re.fullmatch(r"[a-z]{2}", value):
        raise InvalidInput(field, f"expected a two-letter language code such as 'en', got {value!r}")
    return value


def int_range(field: str, value: int, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"expected a whole number, got {value!r}")
    if not lo <= value <= hi:
        raise InvalidInput(field, f"must be between {lo} and {hi}, got {value}")
    return value


def rate(field: str, value: int) -> int:
    return int_range(field, value, 0, MAX_RATE)


def currency(field: str, value: str) -> str:
    code = (value or "").strip().lower()
    if not re.fullmatch(r"[a-z]{3}", code):
        raise InvalidInput(field, f"expected a three-letter currency code, got {value!r}")
    return code


def durations(field: str, values: list[int]) -> list[int]:
    if not values:
        raise InvalidInput(field, "offer at least one duration")
    for v in values:
        int_range(field, v, 5, 8 * 60)
    if len(set(values)) != len(values):
        raise InvalidInput(field, "lists a duration twice")
    return sorted(values)


def instant(field: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "needs a UTC offset or a time zone (e.g. 2026-12-01T10:00:00+01:00)")
    return value.astimezone(UTC)


def specialties(field: str, values: list[str]) -> list[str]:
    cleaned = []
    for v in values:
        item = name(field, v, max_len=64).lower()
        if item not in cleaned:
            cleaned.append(item)
    return cleaned
