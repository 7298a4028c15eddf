"""`python -m bench`: both benchmarks in one process.

(a) the slot engine against a port of the seed's getAvailableSlots (bench/slots.py);
(b) bookings/s through BookingService on PostgreSQL against raw INSERTs (bench/bookings.py),
    on BENCH_DATABASE_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/test).

Options: --only slots|bookings, -n N (operations per booking round), --rounds R.
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
    parser.add_argument("-n", type=int, default=300, help="bookings / INSERTs per round (default 300)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per side; the medians count (default 5)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    status = 0
    if args.only in (None, "slots"):
        print("\n".join(slots.report(slots.run())), flush=True)
    if args.only in (None, "bookings"):
        try:
            result = asyncio.run(bookings.run(n=args.n, rounds=args.rounds))
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
