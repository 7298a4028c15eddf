"""A Python port of the seed's `CoachService.getAvailableSlots` (TypeScript, shared/seeds), kept
only as the baseline the slot-engine benchmark compares against. Do not use it in the product:
it reproduces the seed's bugs on purpose.

What is ported as written:
- loop day by day from start_date while `current <= end_date` (the end day is included);
- for each availability row of that weekday (0 = Sunday, as JS `getDay()`), parse the row's
  "HH:MM" strings again (`combineDateTime`) and walk hourly slots `setHours(h + 1)` until the
  rule's end (so a rule that is not a whole number of hours yields a slot running past it);
- for every slot scan ALL bookings with `Array.some` and the seed's overlap test
  `(slotStart >= bStart && slotStart < bEnd) || (slotEnd > bStart && slotEnd <= bEnd)`, which
  misses a booking lying strictly inside the slot; each booking's end is recomputed from its
  start and duration on every test, as the seed does inside the callback;
- keep the slot if it is in the future (`currentSlot > new Date()`) and not booked.

Two liberties, both in the baseline's favour: bookings arrive with `scheduled_at` already parsed
to a datetime (the seed runs `new Date(string)` on every test), and `now` is passed in once
instead of `new Date()` per slot. JS `setHours` works in the server's local zone; here the local
zone is the coach's (as if the server ran with TZ set to it), and instants are compared in UTC.
Buffers, minimum notice, horizon and overrides do not exist in the seed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def _combine_date_time(day: datetime, time: str, tz: ZoneInfo) -> datetime:
    """combineDateTime: the day's local date with the "HH:MM" wall time, as a UTC instant."""
    hours, minutes = (int(part) for part in time.split(":"))
    local = day.astimezone(tz).replace(hour=hours, minute=minutes, second=0, microsecond=0)
    return local.astimezone(UTC)


def _plus_one_hour_local(instant: datetime, tz: ZoneInfo) -> datetime:
    """`d.setHours(d.getHours() + 1)` on local wall time (hour 24 rolls over to the next day)."""
    local = instant.astimezone(tz)
    return (local.replace(tzinfo=None) + timedelta(hours=1)).replace(tzinfo=tz).astimezone(UTC)


def get_available_slots(
    availability: list[dict],
    bookings: list[dict],
    start_date: datetime,
    end_date: datetime,
    tz: ZoneInfo,
    now: datetime,
) -> list[tuple[datetime, datetime]]:
    """availability: {"day_of_week": 0..6 (Sunday = 0), "start_time": "HH:MM", "end_time": "HH:MM"};
    bookings: {"scheduled_at": aware datetime, "duration_minutes": int}. Returns (start, end) pairs."""
    slots: list[tuple[datetime, datetime]] = []
    current_date = start_date
    while current_date <= end_date:
        day_of_week = (current_date.astimezone(tz).weekday() + 1) % 7  # JS getDay(): Sunday = 0
        day_availability = [a for a in availability if a["day_of_week"] == day_of_week]
        for rule in day_availability:
            slot_start = _combine_date_time(current_date, rule["start_time"], tz)
            slot_end = _combine_date_time(current_date, rule["end_time"], tz)
            current_slot = slot_start
            while current_slot < slot_end:
                slot_end_time = _plus_one_hour_local(current_slot, tz)

                # The seed's `Array.some` callback: called at once, inside this iteration, so reading
                # the loop's variables from the closure is what the seed does (and correct here).
                def booked(booking: dict) -> bool:
                    booking_start = booking["scheduled_at"]
                    booking_end = booking_start + timedelta(minutes=booking["duration_minutes"])
                    return (current_slot >= booking_start and current_slot < booking_end) or (  # noqa: B023
                        slot_end_time > booking_start and slot_end_time <= booking_end  # noqa: B023
                    )

                is_booked = any(booked(b) for b in bookings)
                if current_slot > now and not is_booked:
                    slots.append((current_slot, slot_end_time))
                current_slot = slot_end_time
        current_date = _add_days_local(current_date, 1, tz)
    return slots


def _add_days_local(instant: datetime, days: int, tz: ZoneInfo) -> datetime:
    """date-fns addDays: same local wall time, `days` calendar days later."""
    local = instant.astimezone(tz)
    return (local.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=tz).astimezone(UTC)
