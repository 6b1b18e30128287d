"""How long the monthly report takes over 100 000 and 1 000 000 dossiers, next to a plain GROUP BY.

On PostgreSQL only (a database of its own, created if missing): for each size the raw history is
written with set-based SQL (bench/support/reports_history.py: ``INSERT … SELECT generate_series``,
no signals), the summaries are rebuilt from the event log (``rebuild_report_summaries``'s code),
then the province's monthly report (form II.06a: every row, sub-total and total) is timed, as is
one plain ``GROUP BY`` over the raw dossier table giving the same figures — and the two are
checked to agree, agency by agency. The report reads summary rows (per day or month × agency ×
procedure version), so its time should hardly move when the data grows tenfold; the GROUP BY
reads every dossier.

    .venv/bin/python bench/reports.py [--sizes 100000,1000000] [--repeat 5]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/motcua_reports_bench (the default)
"""

import argparse
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/motcua_reports_bench"


def ensure_database(url: str) -> None:
    import psycopg
    from dj_database_url import parse

    config = parse(url)
    admin = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{config["NAME"]}"')


def timed(function, repeat: int) -> tuple[float, object]:
    """Median wall time in seconds of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="dossier counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (median)")
    parser.add_argument("--month", default="month-2026-6", help="the reported month")
    args = parser.parse_args()

    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        print("bench/reports.py needs PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    try:
        ensure_database(url)
    except Exception as exc:  # no server: say so and let `make bench` go on with the other scripts
        print(f"bench/reports.py skipped: PostgreSQL is not reachable ({type(exc).__name__}: {exc})")
        return 0
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "motcua.settings")
    import django

    django.setup()
    from decimal import Decimal

    from django.core.management import call_command
    from django.utils import timezone

    from bench.support import reports_history as history
    from motcua.catalog.models import Procedure, ProcedureVersion
    from motcua.org import demo
    from motcua.org.models import Agency
    from motcua.reports import periods, selectors, services

    call_command("migrate", verbosity=0)
    demo.load()
    versions = []
    for number in range(20):
        procedure, _ = Procedure.objects.get_or_create(code=f"9.{900000 + number}")
        version = procedure.versions.first() or ProcedureVersion.objects.create(
            procedure=procedure,
            number=1,
            name=f"Thủ tục thử nghiệm {number + 1}",
            resolution_days=Decimal(3),
            online_level="partial" if number % 2 else "none",
        )
        versions.append(version.pk)
    agencies = list(Agency.objects.order_by("pk").values_list("pk", flat=True))
    period = periods.parse_key(args.month)
    start = timezone.make_aware(datetime.combine(period.start, datetime.min.time()))
    end = timezone.make_aware(datetime.combine(period.end, datetime.min.time()))
    admin = demo.User.objects.get(email=f"admin@{demo.DEMO_DOMAIN}")

    print(f"PostgreSQL {url.rsplit('/', 1)[-1]}; {len(agencies)} agencies × {len(versions)} procedures over 24 months;")
    print(f"report: form II.06a of {args.month} for the province, median of {args.repeat} runs")
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        history.reset()
        started = time.perf_counter()
        events = history.generate(size, agencies, versions)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        services.rebuild()
        rebuilt = time.perf_counter() - started

        def report():
            scope = selectors.resolve_scope(admin, {})
            return selectors.form_rows(scope, period)

        report()  # warm-up: the first run pays for imports, query plans and cold caches
        report_time, rows = timed(report, args.repeat)
        raw_time, raw = timed(lambda: history.group_by(start, end), max(1, args.repeat // 2))
        # The figures must agree agency by agency.
        by_agency = selectors.figures_by_agency(selectors.resolve_scope(admin, {}), period)
        mismatches = 0
        for agency_id, counts in raw.items():
            f = by_agency[agency_id]
            mine = {
                "online": f.received_online,
                "direct": f.received_direct,
                "carried": f.carried_over,
                "early": f.resolved_early,
                "on_time": f.resolved_on_time,
                "late": f.resolved_late,
                "in_progress": f.in_progress,
                "overdue": f.overdue,
                "withdrawn": f.withdrawn,
            }
            mismatches += mine != counts
        summary_rows = services.DailyFigures.objects.count() + services.MonthlyFigures.objects.count()
        grand = rows[-1].figures
        results.append((size, report_time, raw_time))
        print(
            f"{size:>9,} dossiers, {events:>9,} events: generated {generated:6.1f} s, "
            f"summaries rebuilt {rebuilt:6.1f} s "
            f"({summary_rows:,} summary rows); report {report_time * 1000:7.1f} ms, plain GROUP BY "
            f"{raw_time * 1000:8.1f} ms, report/GROUP BY {report_time / raw_time:5.3f}; "
            f"month total received {grand.received_in_period:,}, resolved {grand.resolved:,}; "
            f"agencies differing from the GROUP BY: {mismatches}"
        )
        if mismatches:
            print("  the summaries disagree with the raw table", file=sys.stderr)
            return 1
    if len(results) > 1:
        (small, small_report, small_raw), (large, large_report, large_raw) = results[0], results[-1]
        print(
            f"data ×{large / small:.0f}: report time ×{large_report / small_report:.2f}, "
            f"plain GROUP BY time ×{large_raw / small_raw:.2f}"
        )
    history.reset()
    return 0


if __name__ == "__main__":
    sys.exit(main())
