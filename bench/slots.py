"""Benchmark (a): the slot engine against a port of the seed's getAvailableSlots.

One coach in America/New_York with weekly hours (Mon-Fri 09:00-17:00, Sat 10:00-14:00,
Sun 13:00-17:00), 60-minute sessions, a 90-day window that crosses the spring-forward night,
2,000 existing sessions and 500 external busy intervals drawn with a fixed seed. Both sides get
the same data, already in memory: the benchmark times the algorithms, not the queries.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bench import seed_baseline
from booking.availability import available_slots, merge
from booking.model import AvailabilityRule, Coach, Interval

SEED = 20260301
DAYS = 90
SESSIONS = 2000
EXTERNAL = 500
TZ_NAME = "America/New_York"
# (weekday with Monday = 0, start minute, end minute)
WEEKLY = [(d, 9 * 60, 17 * 60) for d in range(5)] + [(5, 10 * 60, 14 * 60), (6, 13 * 60, 17 * 60)]


@dataclass
class Scenario:
    coach: Coach
    rules: list[AvailabilityRule]
    sessions: list[tuple[datetime, int]]  # (start, minutes)
    external: list[Interval]
    window_start: datetime
    window_end: datetime
    now: datetime

    @property
    def busy(self) -> list[Interval]:
        spans = [Interval(s, s + timedelta(minutes=m)) for s, m in self.sessions]
        return spans + self.external

    def seed_inputs(self) -> tuple[list[dict], list[dict]]:
        """The same data in the seed's shapes; external intervals count as bookings."""
        availability = [
            {
                "day_of_week": (r.weekday + 1) % 7,
                "start_time": f"{r.start_minute // 60:02d}:{r.start_minute % 60:02d}",
                "end_time": f"{r.end_minute // 60:02d}:{r.end_minute % 60:02d}",
            }
            for r in self.rules
        ]
        bookings = [{"scheduled_at": s, "duration_minutes": m} for s, m in self.sessions]
        bookings += [
            {"scheduled_at": iv.start, "duration_minutes": int((iv.end - iv.start).total_seconds() // 60)}
            for iv in self.external
        ]
        return availability, bookings


def scenario() -> Scenario:
    rng = random.Random(SEED)
    tz = ZoneInfo(TZ_NAME)
    window_start = datetime(2026, 3, 1, tzinfo=tz).astimezone(UTC)  # spring forward on 2026-03-08
    window_end = window_start + timedelta(days=DAYS)
    now = window_start - timedelta(hours=1)
    coach = Coach(
        name="Bench Coach",
        timezone=TZ_NAME,
        rate=9000,
        id=1,
        min_notice_minutes=0,
        horizon_days=DAYS + 30,
        durations=[60],
    )
    rules = [AvailabilityRule(coach_id=1, weekday=d, start_minute=a, end_minute=b) for d, a, b in WEEKLY]
    span_minutes = DAYS * 24 * 60
    # Sessions start on the 30-minute grid anywhere in the window (a coach's bookings, 30 or 60
    # minutes; the engine tolerates overlaps, the data only has to be a realistic shape).
    sessions = [
        (window_start + timedelta(minutes=30 * rng.randrange(span_minutes // 30)), rng.choice((30, 60)))
        for _ in range(SESSIONS)
    ]
    external = []
    for _ in range(EXTERNAL):
        start = window_start + timedelta(minutes=5 * rng.randrange(span_minutes // 5))
        external.append(Interval(start, start + timedelta(minutes=rng.choice((15, 30, 45, 90, 120)))))
    return Scenario(coach, rules, sessions, external, window_start, window_end, now)


def _time(fn, repeats: int) -> tuple[float, float, object]:
    """(best, median) seconds over `repeats` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), result


def _overlapping(slots: list[tuple[datetime, datetime]], busy: list[Interval]) -> int:
    merged = merge(busy)
    count = 0
    for start, end in slots:
        count += any(b.start < end and start < b.end for b in merged)
    return count


def run(*, engine_repeats: int = 30, baseline_repeats: int = 3) -> dict:
    sc = scenario()
    tz = ZoneInfo(TZ_NAME)
    busy = sc.busy
    availability, bookings = sc.seed_inputs()

    def engine():
        return available_slots(
            sc.coach,
            sc.rules,
            [],
            busy,
            window_start=sc.window_start,
            window_end=sc.window_end,
            duration_minutes=60,
            now=sc.now,
        )

    def baseline():
        return seed_baseline.get_available_slots(availability, bookings, sc.window_start, sc.window_end, tz, sc.now)

    engine()  # warm caches (zoneinfo transitions) before timing
    e_best, e_median, e_slots = _time(engine, engine_repeats)
    b_best, b_median, b_slots = _time(baseline, baseline_repeats)
    e_pairs = [(s.start, s.end) for s in e_slots]
    result = {
        "days": DAYS,
        "sessions": SESSIONS,
        "external": EXTERNAL,
        "engine_best_ms": e_best * 1e3,
        "engine_median_ms": e_median * 1e3,
        "baseline_best_ms": b_best * 1e3,
        "baseline_median_ms": b_median * 1e3,
        "ratio": b_best / e_best,
        "engine_slots": len(e_pairs),
        "baseline_slots": len(b_slots),
        "engine_overlapping": _overlapping(e_pairs, busy),
        "baseline_overlapping": _overlapping(b_slots, busy),
        "baseline_past_end": sum(start >= sc.window_end for start, _ in b_slots),
        "engine_repeats": engine_repeats,
        "baseline_repeats": baseline_repeats,
    }
    return result


TARGET = 50


def report(r: dict) -> list[str]:
    lines = [
        f"slots: {r['days']} days, {r['sessions']} sessions, {r['external']} busy intervals: "
        f"engine {r['engine_best_ms']:.1f} ms, seed baseline {r['baseline_best_ms']:.0f} ms "
        f"-> {r['ratio']:.0f}x faster (target >= {TARGET}x)",
        f"  best of {r['engine_repeats']} / {r['baseline_repeats']} runs; "
        f"medians: engine {r['engine_median_ms']:.1f} ms, baseline {r['baseline_median_ms']:.0f} ms",
        f"  slots found: engine {r['engine_slots']}, seed baseline {r['baseline_slots']} "
        f"(overlapping a busy span: engine {r['engine_overlapping']}, baseline {r['baseline_overlapping']}; "
        f"baseline slots starting past the window end: {r['baseline_past_end']})",
    ]
    if r["ratio"] < TARGET:
        lines.append(f"  NOTE: below the {TARGET}x target")
    return lines
