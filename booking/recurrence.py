"""Where the occurrences of a recurring series fall, and which of them a series books.

Pure: no ports. Occurrences step in the coach's local calendar (same wall time each week), so
a series crossing a DST change keeps its wall time and moves in UTC. A wall time that falls in
a spring-forward gap maps to the transition instant (as the slot engine maps it), which is then
not a slot of the coach's and counts as not free; an ambiguous one takes its first occurrence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from booking.availability import local_to_utc
from booking.errors import SlotUnavailable
from booking.model import Interval
from booking.series_model import Conflicts, Repeat

MAX_OCCURRENCES = 12


def occurrences(first: datetime, zone: str, repeat: Repeat) -> Iterator[datetime]:
    """`first`, then the same local wall time every `repeat` in `zone`, as UTC instants (endless)."""
    tz = ZoneInfo(zone)
    local = first.astimezone(tz)
    minute = local.hour * 60 + local.minute
    k = 0
    while True:
        day = local.date() + timedelta(weeks=k * repeat.weeks)
        yield local_to_utc(day, minute, tz, fold=0) + timedelta(seconds=local.second)
        k += 1


@dataclass
class Plan:
    slots: list[Interval]  # to book, in time order
    not_free: list[datetime] = field(default_factory=list)  # occurrences passed over


class SeriesUnavailable(SlotUnavailable):
    """Occurrences of a series are not free and the author chose to refuse the series."""

    def __init__(self, message: str, not_free: list[datetime]):
        super().__init__(message)
        self.not_free = not_free


def plan(
    starts: Iterator[datetime],
    count: int,
    conflicts: Conflicts,
    slot_at: Callable[[datetime, list[Interval]], Interval | None],
    *,
    until: datetime,
    describe: Callable[[datetime], str] = datetime.isoformat,
) -> Plan:
    """Which occurrences to book. `slot_at(start, chosen)` is the slot at `start` if it is free
    with the `chosen` slots booked too, else None; `until`: no occurrence starts at or after it
    (the coach's horizon). Refuse: all `count` first occurrences or nothing. Skip: the free ones
    among them. Append: step on past the ones not free until `count` are booked or `until`."""
    chosen: list[Interval] = []
    not_free: list[datetime] = []
    tried = 0
    for start in starts:
        if len(chosen) == count or (conflicts is not Conflicts.APPEND and tried == count):
            break
        if start >= until:
            if conflicts is Conflicts.REFUSE:
                raise SeriesUnavailable(
                    f"the series runs past how far ahead the coach takes bookings ({describe(start)})", [start]
                )
            break
        tried += 1
        slot = slot_at(start, chosen)
        if slot is None:
            not_free.append(start)
        else:
            chosen.append(slot)
    if conflicts is Conflicts.REFUSE and not_free:
        raise SeriesUnavailable(
            "not every session of the series is free: " + ", ".join(describe(s) for s in not_free), not_free
        )
    if not chosen:
        raise SeriesUnavailable("none of the series' sessions is free", not_free)
    return Plan(chosen, not_free)
