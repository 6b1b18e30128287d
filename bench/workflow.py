"""Workflow engine figures on PostgreSQL: transitions per second, and the inbox with 100,000 open dossiers.

On PostgreSQL (``DATABASE_URL`` when it names one, else postgres://postgres@127.0.0.1:5432/motcua_bench_wf,
created and migrated here, with the demo and its workflows loaded):

1. Transitions: N dossiers of the demo civil-status extract (2.000635) are received at Liên Bảo's
   counter (``receive_at_counter``, which starts the workflow), then each is driven through its
   three transitions (specialist → leader → document clerk) with ``workflow.services.act``
   in-process, each one transaction with its row lock, checks, step runs and events. The rate is
   transitions per second, one thread.
2. Inbox: 100,000 open dossiers queued for one department (the Liên Bảo specialists' queue) are
   generated set-based from one real template dossier (received through the services): one
   ``INSERT … SELECT … FROM generate_series`` statement each for ``Dossier``, ``WorkflowRun`` and
   ``StepRun``, copying every column of the template row and varying the code and the due
   moments (one second apart, so the order is total). Then ``workflow.selectors.inbox`` (the
   first page of 20 and the count, as ``GET /api/v1/inbox`` runs them) is timed against a plain
   SQL query on the same table with the existing (agency, role, finished_at) index that returns
   the same rows — the ratio is the figure to compare between machines. The rows are checked to
   be the same. Generated rows are removed at the start of the next run.

Plain figures, no assertions on speed; without PostgreSQL it says why and exits 0.

    .venv/bin/python bench/workflow.py [--dossiers 200] [--open 100000] [--repeat 20]
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import ensure_database  # noqa: E402 - the bench scripts share the set-up

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/motcua_bench_wf"
PROCEDURE = "2.000635"
CLERK, SPECIALIST, LEADER, DOCUMENT_CLERK = (
    f"{local}@vinhphuc.gov.vn"
    for local in ("motcua.lienbao", "chuyenvien.lienbao", "lanhdao.lienbao", "vanthu.lienbao")
)
PATH = ["trinh", "phe-duyet", "vao-so"]
BENCH_PREFIX = "BENCH-WF-"
PAGE = 20


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else DEFAULT_DATABASE_URL


def receive(dossier_services, version, clerk, number: int):
    id_number = f"026{number:09d}"
    return dossier_services.receive_at_counter(
        clerk=clerk,
        procedure_code=PROCEDURE,
        applicant={"full_name": f"Nguyễn Văn Thử {number}", "id_number": id_number, "phone": "0912345678"},
        form_data={
            "ho_ten": f"Nguyễn Văn Thử {number}",
            "so_dinh_danh": id_number,
            "loai_trich_luc": "Khai sinh",
            "so_ban": 1,
        },
        documents=[
            {"component": c.pk, "originals": c.originals, "copies": c.copies}
            for c in version.components.filter(requirement="mandatory")
        ],
    )


def columns(model, *skip: str) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if f.column not in ("id", *skip)]


def generate(connection, template, count: int) -> float:
    """Copy the template dossier, its run and its open step ``count`` times; seconds taken."""
    from motcua.dossiers.models import Dossier
    from motcua.workflow.models import StepRun, WorkflowRun

    run = WorkflowRun.objects.get(dossier=template)
    step = StepRun.objects.get(dossier=template, finished_at__isnull=True)
    d_cols = columns(Dossier, "code", "due_at")
    r_cols = columns(WorkflowRun, "dossier_id")
    s_cols = columns(StepRun, "dossier_id", "run_id", "due_at")
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Dossier._meta.db_table} ({', '.join(d_cols)}, code, due_at) "
            f"SELECT {', '.join('t.' + c for c in d_cols)}, %s || g, t.due_at + g * interval '1 second' "
            f"FROM {Dossier._meta.db_table} t, generate_series(1, %s) g WHERE t.id = %s",
            [BENCH_PREFIX, count, template.pk],
        )
        cursor.execute(
            f"INSERT INTO {WorkflowRun._meta.db_table} ({', '.join(r_cols)}, dossier_id) "
            f"SELECT {', '.join('t.' + c for c in r_cols)}, d.id "
            f"FROM {WorkflowRun._meta.db_table} t, {Dossier._meta.db_table} d WHERE t.id = %s AND d.code LIKE %s",
            [run.pk, BENCH_PREFIX + "%"],
        )
        cursor.execute(
            f"INSERT INTO {StepRun._meta.db_table} ({', '.join(s_cols)}, dossier_id, run_id, due_at) "
            f"SELECT {', '.join('t.' + c for c in s_cols)}, r.dossier_id, r.id, d.due_at - interval '1 day' "
            f"FROM {StepRun._meta.db_table} t, {WorkflowRun._meta.db_table} r "
            f"JOIN {Dossier._meta.db_table} d ON d.id = r.dossier_id WHERE t.id = %s AND d.code LIKE %s",
            [step.pk, BENCH_PREFIX + "%"],
        )
        for model in (Dossier, WorkflowRun, StepRun):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    return time.perf_counter() - start


def remove_generated(connection) -> None:
    from motcua.dossiers.models import Dossier
    from motcua.workflow.models import StepRun, WorkflowRun

    ids = f"SELECT id FROM {Dossier._meta.db_table} WHERE code LIKE %s"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {StepRun._meta.db_table} WHERE dossier_id IN ({ids})", [BENCH_PREFIX + "%"])
        cursor.execute(f"DELETE FROM {WorkflowRun._meta.db_table} WHERE dossier_id IN ({ids})", [BENCH_PREFIX + "%"])
        cursor.execute(f"DELETE FROM {Dossier._meta.db_table} WHERE code LIKE %s", [BENCH_PREFIX + "%"])


def timed(function, repeat: int) -> tuple[float, object]:
    function()  # warm-up (plans, caches)
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=200, help="dossiers driven through the engine (default 200)")
    parser.add_argument("--open", type=int, default=100_000, help="open dossiers in one queue (default 100000)")
    parser.add_argument("--repeat", type=int, default=20, help="timed repetitions of each query (default 20)")
    args = parser.parse_args()

    url = database_url()
    shown = urlsplit(url)
    where = f"{shown.hostname}:{shown.port or 5432}{shown.path}"
    reason = ensure_database(url)
    if reason is not None:
        print(f"PostgreSQL is not reachable at {where}, so the workflow benchmark was skipped: {reason}")
        return 0

    media = Path(tempfile.mkdtemp(prefix="motcua-bench-media-"))
    os.environ.update(DATABASE_URL=url, MEDIA_ROOT=str(media), DJANGO_SETTINGS_MODULE="motcua.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from motcua.catalog.models import Procedure
    from motcua.dossiers import services as dossier_services
    from motcua.org.models import User
    from motcua.workflow import selectors, services
    from motcua.workflow.models import StepRun

    call_command("migrate", verbosity=0)
    call_command("load_demo", "--quiet-accounts", stdout=io.StringIO())
    remove_generated(connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
    print(f"PostgreSQL at {where}: {version.split(',')[0]}")
    users = {email: User.objects.get(email=email) for email in (CLERK, SPECIALIST, LEADER, DOCUMENT_CLERK)}
    actors = [users[SPECIALIST], users[LEADER], users[DOCUMENT_CLERK]]
    version_row = Procedure.objects.get(code=PROCEDURE).current_version
    first = int(time.time()) % 10**6 * 1000

    # 1. transitions per second through the engine
    dossiers = [receive(dossier_services, version_row, users[CLERK], first + i) for i in range(args.dossiers)]
    start = time.perf_counter()
    for action, actor in zip(PATH, actors, strict=True):
        for dossier in dossiers:
            services.act(dossier, user=actor, action=action)
    elapsed = time.perf_counter() - start
    moves = len(dossiers) * len(PATH)
    print(
        f"Engine: {moves} transitions ({len(dossiers)} dossiers × {len(PATH)}) in {elapsed:.2f} s "
        f"= {moves / elapsed:.0f} transitions/s, {1000 * elapsed / moves:.1f} ms each (one thread)"
    )

    # 2. the inbox with N open dossiers in one department's queue
    template = receive(dossier_services, version_row, users[CLERK], first + args.dossiers)
    seconds = generate(connection, template, args.open)
    specialist = users[SPECIALIST]
    queued = StepRun.objects.filter(
        agency_id=specialist.agency_id, role="specialist", finished_at__isnull=True, assignee__isnull=True
    ).count()
    print(f"Generated {args.open} dossiers, runs and open steps set-based in {seconds:.1f} s; the queue holds {queued}")
    now = timezone.now()

    def inbox():
        rows = selectors.inbox(specialist, None, now)
        return [row.pk for row in rows[:PAGE]], rows.count()

    table = StepRun._meta.db_table
    plain_page = (
        f"SELECT id FROM {table} WHERE agency_id = %s AND role = %s AND finished_at IS NULL AND assignee_id IS NULL "
        f"ORDER BY due_at NULLS LAST, started_at, id LIMIT {PAGE}"
    )
    plain_count = (
        f"SELECT count(*) FROM {table} WHERE agency_id = %s AND role = %s AND finished_at IS NULL "
        "AND assignee_id IS NULL"
    )

    def plain():
        with connection.cursor() as cursor:
            cursor.execute(plain_page, [specialist.agency_id, "specialist"])
            ids = [row[0] for row in cursor.fetchall()]
            cursor.execute(plain_count, [specialist.agency_id, "specialist"])
            return ids, cursor.fetchone()[0]

    inbox_time, inbox_rows = timed(inbox, args.repeat)
    plain_time, plain_rows = timed(plain, args.repeat)
    same = inbox_rows == plain_rows
    print(
        f"Inbox (page of {PAGE} + count, {inbox_rows[1]} rows): {1000 * inbox_time:.1f} ms median of {args.repeat}; "
        f"plain indexed SQL: {1000 * plain_time:.1f} ms; ratio {inbox_time / plain_time:.2f}"
        + ("" if same else "  (WARNING: the two queries returned different rows)")
    )
    remove_generated(connection)
    return 0


if __name__ == "__main__":
    sys.exit(main())
