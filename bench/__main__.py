"""`python -m bench`: the benchmarks in one process.

(a) the slot engine against a port of the seed's getAvailableSlots (bench/slots.py);
(b) bookings/s through the booking use case (booking.bookings.book) on PostgreSQL against raw
    INSERTs (bench/bookings.py, bench/concurrent.py), sequential and from concurrent clients,
    on BENCH_DATABASE_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/test);
(c) outbox delivery at Telegram's limits (bench/delivery.py): reminders to distinct chats through
    the production delivery loop, bot and notifier, against a Bot API stand-in that answers 429
    above 30/s overall or 1/s per chat; messages/s, its ratio to 30/s, duplicates, unhandled 429s;
(d) one idle scheduler tick with 200k sessions of history against 1k (bench/idle_tick.py), on
    PostgreSQL, and the 200k tick again without the partial indexes of migration 0009;
(e) a real `coachbot serve` process with 100k authors (each with a chat-state row) and 200k
    sessions against one with an empty database, in the same run (bench/memory.py), on SQLite
    (the embedded default) or PostgreSQL: its resident memory (VmRSS and peak VmHWM) at start and
    after serving webhook updates from distinct authors (target < 150 MB), and its start-up time,
    spawn to /healthz 200 with the bot started (ratio large/empty, target <= 1.5). Runs last.

Options: --only slots|bookings|delivery|idle|memory, -n N (operations per sequential round), --rounds R
(rounds per side, both cases), --clients C and --coaches K (concurrent case), --concurrent-n M (calls
per concurrent round), --delivery-n N (reminders, default 5000), --delivery-db postgresql|sqlite
(where the outbox lives, default postgresql), --memory-updates N (webhook updates the large database's
process serves, default 2000; the empty one's serves a quarter as many), --memory-starts S (start-ups
timed per database, default 5) and --memory-db sqlite|postgresql (default sqlite).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

import httpx

from bench import bookings, busy_slots, delivery, idle_tick, memory, slots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("slots", "busy", "bookings", "delivery", "idle", "memory"))
    parser.add_argument("-n", type=int, default=300, help="bookings / INSERTs per sequential round (default 300)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per side; the medians count (default 5)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--coaches", type=int, default=50, help="coaches the concurrent clients book (default 50)")
    parser.add_argument(
        "--concurrent-n",
        type=int,
        default=400,
        help="bookings / INSERTs per concurrent round, all clients together (default 400)",
    )
    parser.add_argument("--delivery-n", type=int, default=5000, help="reminders to distinct chats (default 5000)")
    parser.add_argument(
        "--delivery-db", choices=("postgresql", "sqlite"), default="postgresql", help="the outbox's database"
    )
    parser.add_argument(
        "--memory-updates",
        type=int,
        default=memory.UPDATES,
        help=f"webhook updates served on the large database (default {memory.UPDATES})",
    )
    parser.add_argument(
        "--memory-starts", type=int, default=memory.STARTS, help=f"start-ups per database (default {memory.STARTS})"
    )
    parser.add_argument(
        "--memory-db", choices=("sqlite", "postgresql"), default="sqlite", help="the served databases' engine"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    status = 0
    if args.only in (None, "slots"):
        print("\n".join(slots.report(slots.run())), flush=True)
    if args.only in (None, "busy"):
        print("\n".join(busy_slots.report(busy_slots.run())), flush=True)
    if args.only in (None, "bookings"):
        try:
            result = asyncio.run(
                bookings.run(
                    n=args.n,
                    rounds=args.rounds,
                    clients=args.clients,
                    coaches=args.coaches,
                    concurrent_n=args.concurrent_n,
                )
            )
        except OSError as exc:  # no server there
            print(f"bookings/s on PostgreSQL: not measured, cannot reach the database ({exc})")
            status = 1
        else:
            print("\n".join(bookings.report(result)), flush=True)
            status = 0 if result["check"] else 1
    if args.only in (None, "delivery"):
        try:
            measured = delivery.run(args.delivery_n, db=args.delivery_db)
        except OSError as exc:  # no database server there
            print(f"outbox delivery: not measured, cannot reach the database ({exc})")
            status = 1
        else:
            print("\n".join(delivery.report(measured)), flush=True)
            status = status or (0 if delivery.passed(measured) else 1)
    if args.only in (None, "idle"):
        try:
            idle = asyncio.run(idle_tick.run())
        except OSError as exc:  # no server there
            print(f"idle scheduler tick: not measured, cannot reach the database ({exc})")
            status = 1
        else:
            print("\n".join(idle_tick.report(idle)), flush=True)
            status = status or (0 if idle["check"] and float(idle["ratio"]) <= 2 else 1)  # type: ignore[arg-type]
    if args.only in (None, "memory"):
        try:
            footprint = memory.run(db=args.memory_db, updates=args.memory_updates, starts=args.memory_starts)
        except (OSError, RuntimeError, subprocess.SubprocessError, httpx.HTTPError) as exc:  # did not start or serve
            print(f"(e) serve memory and start-up: not measured ({exc})")
            status = 1
        else:
            print("\n".join(memory.report(footprint)), flush=True)
            status = status or (0 if footprint["passed"] else 1)
    print(f"(total {time.perf_counter() - started:.1f} s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
