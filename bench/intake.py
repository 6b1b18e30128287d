"""How many dossiers a real server receives per second through ``POST /api/v1/dossiers``.

On PostgreSQL (``DATABASE_URL`` when it names one, else postgres://postgres@127.0.0.1:5432/motcua_bench,
created and migrated here, with the demo loaded), a gunicorn server with several workers on
127.0.0.1 takes N parallel clients (threads, one ``requests.Session`` each), all clerks of one
commune — the worst case, as they share one code sequence. In the same run and on the same server,
a minimal Django view that inserts one row (``bench/support/``) gives the baseline; the ratio of
the two rates is the figure to compare between machines. The number of SQL queries of one intake
is measured in-process with ``CaptureQueriesContext``. The codes received are checked to be
distinct and gap-free. Plain figures, no assertions on speed; without PostgreSQL it says why and
exits 0.

    .venv/bin/python bench/intake.py [--clients 8] [--count 400] [--workers 4]
"""

import argparse
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.support.load import drive  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/motcua_bench"
CLERK = "motcua.lienbao@vinhphuc.gov.vn"
PROCEDURE = "2.000635"  # demo: copy of a civil-status extract, 0.5 working day, one mandatory document
INTAKE_PATH = "/api/v1/dossiers"
BASELINE_PATH = "/bench/baseline"


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else DEFAULT_DATABASE_URL


def ensure_database(url: str) -> str | None:
    """Create the database if needed; the reason as text when PostgreSQL cannot be reached."""
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(url, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        first_error = str(error).strip()
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    try:
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), connect_timeout=3, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        return f"{first_error} / {str(error).strip()}"
    return None


def payload(number: int) -> dict:
    """A valid intake, a different applicant each time (12-digit CCCD from the running number)."""
    id_number = f"026{number:09d}"
    return {
        "procedure_code": PROCEDURE,
        "applicant": {
            "full_name": f"Nguyễn Văn Thử {number}",
            "id_number": id_number,
            "phone": "0912345678",
            "address": "Phường Liên Bảo, Vĩnh Yên",
        },
        "form_data": {
            "ho_ten": f"Nguyễn Văn Thử {number}",
            "so_dinh_danh": id_number,
            "loai_trich_luc": "Khai sinh",
            "so_ban": 1,
        },
        "documents": [{"component": 1, "originals": 1}],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict, port: int, workers: int) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "motcua.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--chdir={ROOT}",
        "--log-level=warning",
        "--timeout=120",
    ]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_ready(server: subprocess.Popen, base: str, timeout: float = 60) -> str | None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return server.stderr.read().decode(errors="replace")[-2000:] if server.stderr else "gunicorn exited"
        try:
            if requests.get(f"{base}/api/v1/procedures/{PROCEDURE}", timeout=2).status_code == 200:
                return None
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return f"the server did not answer within {timeout:.0f} s"


def hammer(url: str, headers: dict, clients: int, count: int, first_number: int) -> dict:
    """``count`` POSTs of new dossiers from ``clients`` threads."""
    import requests

    def new_session() -> requests.Session:
        session = requests.Session()
        session.headers.update(headers)
        return session

    def send(session: requests.Session, index: int) -> tuple[int, dict | str]:
        response = session.post(url, json=payload(first_number + index), timeout=120)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text[:500]

    return drive(clients, count, new_session, send, ok_status=201)


def describe(label: str, run: dict, unit: str) -> str:
    rate = len(run["ok"]) / run["wall"] if run["wall"] else 0.0
    errors = len(run["results"]) - len(run["ok"])
    return (
        f"{label}: {len(run['ok'])} in {run['wall']:.2f} s = {rate:.1f} {unit}/s "
        f"(latency p50 {run['p50'] * 1000:.0f} ms, p95 {run['p95'] * 1000:.0f} ms; errors {errors})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="parallel client threads (default 8)")
    parser.add_argument("--count", type=int, default=400, help="requests per measured run (default 400)")
    parser.add_argument("--workers", type=int, default=max(2, 2 * (os.cpu_count() or 1)), help="gunicorn workers")
    args = parser.parse_args()

    url = database_url()
    shown = urlsplit(url)
    where = f"{shown.hostname}:{shown.port or 5432}{shown.path}"
    reason = ensure_database(url)
    if reason is not None:
        print(f"PostgreSQL is not reachable at {where}, so the intake benchmark was skipped: {reason}")
        return 0

    media = Path(tempfile.mkdtemp(prefix="motcua-bench-media-"))
    os.environ.update(DATABASE_URL=url, MEDIA_ROOT=str(media), DJANGO_SETTINGS_MODULE="motcua.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from bench.support.views import CREATE_TABLE
    from motcua.api import services as token_services
    from motcua.dossiers import codes as code_format
    from motcua.dossiers import services as dossier_services
    from motcua.dossiers.models import Dossier, DossierCodeSequence
    from motcua.org.models import User

    call_command("migrate", verbosity=0)
    call_command("load_demo", "--quiet-accounts", stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
    clerk = User.objects.get(email=CLERK)
    token, plaintext = token_services.issue_token(clerk, "bench/intake.py", days=1)
    headers = {"Authorization": f"Bearer {plaintext}"}
    run_id = int(time.time()) % 10**6 * 1000  # applicants differ between runs

    # SQL per intake, in-process: the first request warms the caches (calendar, catalogue), the second counts.
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=headers["Authorization"])
    codes_seen: list[str] = []
    counts = []
    for number in (run_id, run_id + 1):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(INTAKE_PATH, payload(number), content_type="application/json")
        if response.status_code != 201:
            print(f"The intake itself fails in-process ({response.status_code}): {response.content[:500]!r}")
            return 1
        codes_seen.append(response.json()["code"])
        counts.append(len(queries))
    with override_settings(ROOT_URLCONF="bench.support.urls"), CaptureQueriesContext(connection) as queries:
        Client(HTTP_HOST="127.0.0.1").post(BASELINE_PATH, payload(0), content_type="application/json")
    baseline_queries = len(queries)
    connection.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.support.settings", "PYTHONPATH": str(ROOT)}
    server = start_server(env, port, args.workers)
    try:
        problem = wait_ready(server, base)
        if problem is not None:
            print(f"The bench server did not start: {problem}")
            return 1
        # Warm-up, not timed: every worker imports, connects and fills its caches.
        warm = hammer(f"{base}{BASELINE_PATH}", {}, args.clients, args.clients * 3, 0)
        warm_intake = hammer(f"{base}{INTAKE_PATH}", headers, args.clients, args.clients * 3, run_id + 10)
        codes_seen += [r[2]["code"] for r in warm_intake["ok"]]
        if len(warm_intake["ok"]) != len(warm_intake["results"]) or len(warm["ok"]) != len(warm["results"]):
            failed = next(r for r in warm_intake["results"] + warm["results"] if r[0] != 201)
            print(f"Warm-up requests fail ({failed[0]}): {failed[2]}")
            return 1

        baseline = hammer(f"{base}{BASELINE_PATH}", {}, args.clients, args.count, 0)
        intake = hammer(f"{base}{INTAKE_PATH}", headers, args.clients, args.count, run_id + 10_000)
        codes_seen += [r[2]["code"] for r in intake["ok"]]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        token_services.revoke(token)
        shutil.rmtree(media, ignore_errors=True)

    intake_rate = len(intake["ok"]) / intake["wall"]
    baseline_rate = len(baseline["ok"]) / baseline["wall"]
    print(f"database: {where} ({version.split(' on ')[0]})")
    print(
        f"server: gunicorn, {args.workers} sync workers on 127.0.0.1; load: {args.clients} client threads, "
        f"{args.count} requests per run; all intakes by one clerk ({CLERK}), procedure {PROCEDURE}"
    )
    print(describe(f"intake   POST {INTAKE_PATH}", intake, "dossiers"))
    print(describe(f"baseline POST {BASELINE_PATH} (one INSERT)", baseline, "rows"))
    print(
        f"ratio: the baseline is {baseline_rate / intake_rate:.1f}x the intake rate "
        f"(intake = {intake_rate / baseline_rate:.3f} of the baseline)"
    )
    print(
        f"SQL queries per intake (in-process, CaptureQueriesContext): {counts[1]} "
        f"(first request after start: {counts[0]}; baseline view: {baseline_queries})"
    )
    failures = [r for r in intake["results"] if r[0] != 201]
    if failures:
        print(f"first failed intake ({failures[0][0]}): {failures[0][2]}")

    # Distinct and gap-free: the numbers this run got, and every number of the agency's day in the database.
    fmt = dossier_services.code_format()
    parsed = [code_format.parse_code(code, fmt) for code in codes_seen]
    distinct = len(set(codes_seen)) == len(codes_seen)
    by_day: dict[tuple[str, object], list[int]] = defaultdict(list)
    for code in parsed:
        by_day[(code.agency, code.day)].append(code.number)
    gap_free = True
    notes = []
    for (agency, day), numbers in sorted(by_day.items()):
        numbers.sort()
        run_contiguous = numbers == list(range(numbers[0], numbers[-1] + 1))
        same_day = (
            code_format.parse_code(c, fmt)
            for c in Dossier.objects.filter(receiving_agency__code=agency, code__isnull=False).values_list(
                "code", flat=True
            )
        )
        in_db = sorted(c.number for c in same_day if c.day == day)
        last = DossierCodeSequence.objects.get(agency__code=agency, day=day).last_number
        db_contiguous = in_db == list(range(1, last + 1))
        gap_free = gap_free and run_contiguous and db_contiguous
        notes.append(
            f"{agency} {day:%Y-%m-%d}: this run {numbers[0]}–{numbers[-1]}, day total {len(in_db)}, sequence {last}"
        )
    verdict = "distinct" if distinct else "NOT distinct"
    verdict += " and gap-free" if gap_free else ", WITH GAPS"
    print(
        f"codes: {len(codes_seen)} received in this run (incl. in-process and warm-up), {verdict}; " + "; ".join(notes)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
