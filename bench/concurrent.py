"""The concurrent case of benchmark (b): `clients` asyncio tasks in one event loop, each making
one call at a time (so each holds at most one pooled connection), spread at random over a set of
coaches, until a shared budget of calls is spent. bench/bookings.py supplies the calls (a booking
through the service, a raw INSERT transaction) and the database; this module is the load and the
arithmetic.

Which slot a call asks for (`Calendars`):
- a booking asks for the coach's next free slot *as clients see it*: the slot after the coach's
  last booked or lost one. Two clients on the same coach at the same time ask for the same slot,
  as two people looking at the same calendar would; one gets it, the other loses the race
  (SlotTaken) and is counted, not retried;
- a raw INSERT takes the coach's next slot at once (never handed out twice), so it never collides.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta


class Calendars:
    """Per coach, the next slot clients would be shown as free."""

    def __init__(self, coach_ids: Sequence[int], first: datetime, slot: timedelta):
        self._slot = slot
        self._next = dict.fromkeys(coach_ids, first)

    def shown(self, coach_id: int) -> datetime:
        return self._next[coach_id]

    def gone(self, coach_id: int, start: datetime) -> None:
        """`start` was booked (by this client or, in a lost race, by another)."""
        self._next[coach_id] = max(self._next[coach_id], start + self._slot)

    def take(self, coach_id: int) -> datetime:
        start = self._next[coach_id]
        self.gone(coach_id, start)
        return start


@dataclass
class Round:
    wall: float = 0.0
    cpu: float = 0.0  # CPU seconds of this process (the clients, the service, the driver) in the round
    done: list[float] = field(default_factory=list)  # latency (s) of each call that wrote its row
    lost: list[float] = field(default_factory=list)  # latency (s) of each call that lost its slot

    @property
    def rate(self) -> float:
        return len(self.done) / self.wall


# A call: (client index, coach id) -> True if it wrote its row, False if it lost the slot to another.
Call = Callable[[int, int], Awaitable[bool]]


async def drive(call: Call, *, calls: int, clients: int, coach_ids: Sequence[int], rng: random.Random) -> Round:
    """`calls` calls from `clients` concurrent tasks; each call picks a coach at random."""
    budget = calls
    result = Round()

    async def client(index: int) -> None:
        nonlocal budget
        while budget > 0:
            budget -= 1
            coach_id = rng.choice(coach_ids)
            t0 = time.perf_counter()
            wrote = await call(index, coach_id)
            (result.done if wrote else result.lost).append(time.perf_counter() - t0)

    t0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client(i) for i in range(clients)))
    result.wall, result.cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return result


def summary(rounds: list[Round]) -> dict:
    """Median throughput over the rounds; latency percentiles over every call of every round."""
    done = sorted(x for r in rounds for x in r.done)
    lost = [x for r in rounds for x in r.lost]
    attempts = len(done) + len(lost)
    return {
        "rates": [r.rate for r in rounds],
        "rate": statistics.median(r.rate for r in rounds),
        "done": len(done),
        "lost": len(lost),
        "lost_share": len(lost) / attempts if attempts else 0.0,
        "p50_ms": percentile(done, 50) * 1e3,
        "p99_ms": percentile(done, 99) * 1e3,
        "max_ms": done[-1] * 1e3 if done else float("nan"),
        "lost_p50_ms": percentile(sorted(lost), 50) * 1e3,
        "cpu_share": sum(r.cpu for r in rounds) / sum(r.wall for r in rounds),
    }


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(rank) - 1]
