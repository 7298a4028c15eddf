"""Turning what an author types or shares into an IANA time zone, forgivingly: "berlin",
"New York", "são paulo", "europe/berlin", or a shared location (timezonefinder, offline). An
offset ("UTC+2") is no zone: it is answered with the cities at that offset now (they keep
daylight saving right), and the fixed offset itself, shown as "UTC+02:00", if the author wants it."""

from __future__ import annotations

import asyncio
import difflib
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from booking import validation
from booking.errors import InvalidInput

COMMON = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
)

# Big cities that are not the namesake of their zone.
ALIASES = {
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "portland": "America/Los_Angeles",
    "washington": "America/New_York",
    "boston": "America/New_York",
    "miami": "America/New_York",
    "atlanta": "America/New_York",
    "philadelphia": "America/New_York",
    "dallas": "America/Chicago",
    "houston": "America/Chicago",
    "austin": "America/Chicago",
    "montreal": "America/Toronto",
    "munich": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "cologne": "Europe/Berlin",
    "milan": "Europe/Rome",
    "barcelona": "Europe/Madrid",
    "geneva": "Europe/Zurich",
    "edinburgh": "Europe/London",
    "manchester": "Europe/London",
    "st petersburg": "Europe/Moscow",
    "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "beijing": "Asia/Shanghai",
    "osaka": "Asia/Tokyo",
    "cape town": "Africa/Johannesburg",
    "rio de janeiro": "America/Sao_Paulo",
    "rio": "America/Sao_Paulo",
    "tel aviv": "Asia/Jerusalem",
    "kiev": "Europe/Kyiv",
}
# Where several zones share an offset, these (by population, one per region) are offered first.
MAJOR = (
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Phoenix",
    "America/Chicago", "America/Mexico_City", "America/New_York", "America/Toronto", "America/Bogota",
    "America/Lima", "America/Halifax", "America/Santiago", "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires", "America/St_Johns", "Atlantic/Azores", "Europe/London", "Europe/Lisbon",
    "Africa/Lagos", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Rome", "Europe/Warsaw",
    "Africa/Johannesburg", "Africa/Cairo", "Europe/Athens", "Europe/Kyiv", "Europe/Helsinki", "Asia/Jerusalem",
    "Europe/Istanbul", "Europe/Moscow", "Asia/Riyadh", "Africa/Nairobi", "Asia/Tehran", "Asia/Dubai",
    "Asia/Karachi", "Asia/Tashkent", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Yangon",
    "Asia/Bangkok", "Asia/Jakarta", "Asia/Shanghai", "Asia/Singapore", "Australia/Perth", "Asia/Tokyo",
    "Asia/Seoul", "Australia/Adelaide", "Australia/Darwin", "Australia/Sydney", "Australia/Brisbane",
    "Pacific/Noumea", "Pacific/Auckland", "Pacific/Fiji", "Pacific/Tongatapu", "Pacific/Kiritimati",
)  # fmt: skip
MAX_OFFSET_CHOICES = 6
_LEGACY = ("Etc/", "SystemV/", "US/", "posix/", "right/", "Canada/", "Brazil/", "Chile/", "Mexico/")
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(00|30|45))?$")
_FIXED = re.compile(r"^Etc/GMT([+-])(\d{1,2})$")
MAX_INPUT = 100


@dataclass
class Guess:
    zone: str | None = None
    suggestions: list[str] = field(default_factory=list)
    offset: str | None = None  # "UTC+02:00" when an offset was typed
    fixed: str | None = None  # the fixed-offset zone that keeps it ("Etc/GMT-2"), where one exists


def display(zone: str) -> str:
    """The zone as people read it: fixed offsets as "UTC+02:00" (the POSIX-style Etc names read
    inverted: Etc/GMT-2 is two hours ahead of UTC), every other zone by its IANA name."""
    if zone in ("UTC", "Etc/UTC", "Etc/GMT", "Etc/GMT0", "Etc/UCT", "Etc/Zulu", "Etc/Universal", "Etc/Greenwich"):
        return "UTC"
    fixed = _FIXED.match(zone)
    if fixed is None:
        return zone
    return offset_label(timedelta(hours=int(fixed.group(2)) * (-1 if fixed.group(1) == "+" else 1)))


def offset_label(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[\s_\-.]+", " ", folded).strip().lower()


@lru_cache(maxsize=1)
def _cities() -> dict[str, str]:
    """City part of every current zone name -> zone ("new york" -> America/New_York)."""
    found: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if "/" not in name or name.startswith(_LEGACY):
            continue
        city = normalise(name.rsplit("/", 1)[1])
        # Where a city has two names, the longer is the canonical one and the shorter a
        # backward link (America/Indiana/Indianapolis vs America/Indianapolis).
        if city not in found or len(name) > len(found[city]):
            found[city] = name
    found.update({normalise(k): v for k, v in ALIASES.items()})
    return found


def guess(text: str, now: datetime | None = None) -> Guess:
    """`now` decides which zones an offset matches (daylight saving moves them)."""
    text = (text or "").strip()
    if not text or len(text) > MAX_INPUT:
        return Guess()
    try:
        return Guess(validation.timezone("timezone", text))
    except InvalidInput:
        pass
    offset = _OFFSET.match(text.lower())
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        minutes = int(offset.group(2)) * 60 + int(offset.group(3) or 0)
        return _from_offset(timedelta(minutes=sign * minutes), now or datetime.now(UTC))
    cities = _cities()
    for candidate in (text, text.split(",")[0]):
        key = normalise(candidate)
        if key in cities:
            return Guess(cities[key])
    close = difflib.get_close_matches(normalise(text.split(",")[0]), list(cities), n=3, cutoff=0.75)
    return Guess(suggestions=list(dict.fromkeys(cities[c] for c in close)))


def _from_offset(offset: timedelta, now: datetime) -> Guess:
    if not offset:
        return Guess("UTC")
    if not timedelta(hours=-12) <= offset <= timedelta(hours=14):
        return Guess()
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    # POSIX-style Etc names are inverted: UTC+2 is Etc/GMT-2.
    fixed = None if rest else f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"
    return Guess(suggestions=zones_at(offset, now), offset=offset_label(offset), fixed=fixed)


def zones_at(offset: timedelta, now: datetime) -> list[str]:
    """A few zones whose clocks are `offset` ahead of UTC at `now`: the major ones first."""
    candidates = itertools.chain(MAJOR, sorted(set(_cities().values()) - set(MAJOR)))
    found = (z for z in candidates if now.astimezone(ZoneInfo(z)).utcoffset() == offset)
    return list(itertools.islice(found, MAX_OFFSET_CHOICES))


@lru_cache(maxsize=1)
def _finder():
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def _zone_at(latitude: float, longitude: float) -> str | None:
    try:
        name = _finder().timezone_at(lng=longitude, lat=latitude)
        return validation.timezone("timezone", name) if name else None
    except (ValueError, InvalidInput):
        return None


async def zone_at(latitude: float, longitude: float) -> str | None:
    """The zone at a shared location, or None (the lookup reads data files: off the event loop)."""
    return await asyncio.to_thread(_zone_at, latitude, longitude)
