"""`python -m bench`: both benchmarks in one process.

(a) the slot engine against a port of the seed's getAvailableSlots (bench/slots.py);
(b) bookings/s through the booking use case (booking.bookings.book) on PostgreSQL against raw
    INSERTs (bench/bookings.py, bench/concurrent.py), sequential and from concurrent clients,
    on BENCH_DATABASE_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/test).

Options: --only slots|bookings, -n N (operations per sequential round), --rounds R (rounds per side,
both cases), --clients C and --coaches K (concurrent case), --concurrent-n M (calls per concurrent
round).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from bench import bookings, slots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("slots", "bookings"))
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
    args = parser.parse_args(argv)

    started = time.perf_counter()
    status = 0
    if args.only in (None, "slots"):
        print("\n".join(slots.report(slots.run())), flush=True)
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
    print(f"(total {time.perf_counter() - started:.1f} s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
