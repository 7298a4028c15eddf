"""Turning what an author types or shares into an IANA time zone, forgivingly: "berlin",
"New York", "são paulo", "UTC+2", "europe/berlin", or a shared location (timezonefinder, offline)."""

from __future__ import annotations

import asyncio
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import available_timezones

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
_LEGACY = ("Etc/", "SystemV/", "US/", "posix/", "right/", "Canada/", "Brazil/", "Chile/", "Mexico/")
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?00)?$")
MAX_INPUT = 100


@dataclass
class Guess:
    zone: str | None = None
    suggestions: list[str] = field(default_factory=list)


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


def guess(text: str) -> Guess:
    text = (text or "").strip()
    if not text or len(text) > MAX_INPUT:
        return Guess()
    try:
        return Guess(validation.timezone("timezone", text))
    except InvalidInput:
        pass
    offset = _OFFSET.match(text.lower())
    if offset:
        return _from_offset(offset.group(1), int(offset.group(2)))
    cities = _cities()
    for candidate in (text, text.split(",")[0]):
        key = normalise(candidate)
        if key in cities:
            return Guess(cities[key])
    close = difflib.get_close_matches(normalise(text.split(",")[0]), list(cities), n=3, cutoff=0.75)
    return Guess(suggestions=list(dict.fromkeys(cities[c] for c in close)))


def _from_offset(sign: str, hours: int) -> Guess:
    if hours == 0:
        return Guess("UTC")
    if hours > 14 or (sign == "-" and hours > 12):
        return Guess()
    # POSIX-style Etc names are inverted: UTC+2 is Etc/GMT-2.
    return Guess(f"Etc/GMT{'-' if sign == '+' else '+'}{hours}")


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
