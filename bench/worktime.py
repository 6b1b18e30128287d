"""How fast the working calendar computes due dates, next to plain datetime arithmetic.

Uses only the pure calendar (no Django, no database). Start moments are spread over 2026–2027,
time limits over 0.5–30 working days; both loops run over the same inputs in the same process,
so the ratio is meaningful on any machine.

    .venv/bin/python bench/worktime.py [--n 1000000] [--seed 1]
"""

import argparse
import random
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="due dates to compute (default: 1000000, about 2 s)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from motcua.worktime.calendar import VIETNAM_TZ, WorkCalendar

    rng = random.Random(args.seed)
    first = datetime(2026, 1, 1, tzinfo=VIETNAM_TZ)
    minutes = 2 * 365 * 24 * 60
    # A pool of distinct inputs repeated to length n: building millions of objects would take
    # longer than the measurement, and 50 000 starts already cover every session of both years.
    pool = min(args.n, 50_000)
    pool_starts = [first + timedelta(minutes=rng.randrange(minutes)) for _ in range(pool)]
    pool_days = [Decimal(rng.randint(1, 60)) / 2 for _ in range(pool)]  # 0.5 … 30 days
    repeat, rest = divmod(args.n, pool)
    starts = pool_starts * repeat + pool_starts[:rest]
    days = pool_days * repeat + pool_days[:rest]
    pool_deltas = [timedelta(days=float(d)) for d in pool_days]
    deltas = pool_deltas * repeat + pool_deltas[:rest]

    calendar = WorkCalendar()
    began = time.perf_counter()
    calendar.due_moment(starts[0], days[0])  # loads the public holidays of the years touched
    first_call = time.perf_counter() - began

    due_moment = calendar.due_moment
    began = time.perf_counter()
    for start, limit in zip(starts, days, strict=True):
        due_moment(start, limit)
    calendar_seconds = time.perf_counter() - began

    began = time.perf_counter()
    for start, delta in zip(starts, deltas, strict=True):
        start + delta
    plain_seconds = time.perf_counter() - began

    # A sanity check, outside the timed loops: counting undoes adding.
    for start, limit in zip(starts[:1000], days[:1000], strict=True):
        sessions = calendar.sessions_for_days(limit)
        assert calendar.count_sessions(start, calendar.add_sessions(start, sessions)) == sessions

    per_second = args.n / calendar_seconds
    plain_per_second = args.n / plain_seconds
    print(f"computations: {args.n} (starts 2026–2027, limits 0.5–30 working days)")
    print(f"first call (builds the holiday table): {first_call * 1000:.1f} ms")
    print(f"due dates/s: {per_second:,.0f} ({calendar_seconds / args.n * 1e6:.2f} µs each)")
    print(f"plain datetime additions/s: {plain_per_second:,.0f} ({plain_seconds / args.n * 1e6:.3f} µs each)")
    print(f"ratio: {plain_per_second / per_second:.1f}x slower")
    return 0


if __name__ == "__main__":
    sys.exit(main())
