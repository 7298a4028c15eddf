"""A coach's waiting list as Slack mrkdwn: who waits for which time, in line order, and the offer
each has open. Shown in the App Home tab (home.py) and by `/coach waitlist` (app.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from booking.model import Coach
from booking.waitlist import Line
from booking.waitlist_model import WaitlistEntry, WantKind
from conversations.slack import render as r

SHOWN = 10  # lines; the rest are counted


def waitlist_text(coach: Coach, lines: list[Line]) -> str:
    if not lines:
        return "*Waiting list*\nNobody is waiting for a time with you."
    head = f"*Waiting list* · {len(lines)} waiting · times in {coach.timezone}"
    rows = [head]
    for line in lines[:SHOWN]:
        entry = line.entry
        row = f"{line.position}. {r.escape(line.author.name)}: {_wanted(entry, coach)}, {entry.duration_minutes} min"
        offer = line.offer
        if offer is not None and offer.hold_expires_at is not None:
            held = f"{offer.hold_expires_at.astimezone(ZoneInfo(coach.timezone)):%H:%M}"
            row += f" · offered {_short(offer.starts_at, coach.timezone)}, held for them until {held}"
        rows.append(row)
    if len(lines) > SHOWN:
        rows.append(f"… and {len(lines) - SHOWN} more")
    return r.clip("\n".join(rows))


def _wanted(entry: WaitlistEntry, coach: Coach) -> str:
    if entry.kind is WantKind.SLOT:
        return f"the time {_short(entry.starts_at, coach.timezone)}"
    day = entry.starts_at.astimezone(ZoneInfo(entry.zone))
    label = f"{day:%a} {day.day} {day:%b}"
    zone = "" if entry.zone == coach.timezone else f" in their zone, {entry.zone}"
    if entry.kind is WantKind.WEEK:
        return f"any time in the week of {label}{zone}"
    return f"any time on {label}{zone}"


def _short(instant: datetime, zone: str) -> str:
    at = instant.astimezone(ZoneInfo(zone))
    return f"{at:%a} {at.day} {at:%b %H:%M}"
