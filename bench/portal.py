"""Public dossier look-ups per second and their p95 latency under N concurrent clients, on PostgreSQL.

The same gunicorn server (``bench.support.portal_settings``: the project plus a baseline view, the
look-up rate limit lifted) answers both: the portal's ``POST /lookup/`` (code + last 4 digits) and
a minimal Django view that reads the dossier's status by code (``bench/support/portal_views.py``).
The ratio of the two rates, measured in the same run, is the figure to compare between machines.
Dossiers to look up are received first through the intake service (demo procedure, one clerk).
Helpers (database, server start, readiness, report line) come from ``bench/intake.py``.
Plain figures, no assertions on speed; without PostgreSQL it says why and exits 0.

    .venv/bin/python bench/portal.py [--clients 8] [--count 2000] [--workers 4] [--dossiers 50]
"""

import argparse
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import (  # noqa: E402
    CLERK,
    PROCEDURE,
    database_url,
    describe,
    ensure_database,
    free_port,
    payload,
    start_server,
    wait_ready,
)
from bench.support.load import drive  # noqa: E402

LOOKUP_PATH = "/lookup/"
BASELINE_PATH = "/bench/lookup-baseline"


def hammer(base: str, path: str, forms: list[dict], clients: int, count: int) -> dict:
    """``count`` form POSTs (with the CSRF cookie and token, as a browser sends them) from ``clients`` threads."""
    import requests

    def new_session() -> requests.Session:
        session = requests.Session()
        session.get(base + LOOKUP_PATH, timeout=60)  # the CSRF cookie
        session.headers.update({"X-CSRFToken": session.cookies.get("csrftoken", ""), "Referer": base + LOOKUP_PATH})
        return session

    def send(session: requests.Session, index: int) -> tuple[int, str]:
        response = session.post(base + path, data=forms[index % len(forms)], timeout=120)
        return response.status_code, response.text[:300]

    return drive(clients, count, new_session, send, ok_status=200)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="parallel client threads (default 8)")
    parser.add_argument("--count", type=int, default=2000, help="look-ups per measured run (default 2000)")
    parser.add_argument("--workers", type=int, default=max(2, 2 * (os.cpu_count() or 1)), help="gunicorn workers")
    parser.add_argument("--dossiers", type=int, default=50, help="dossiers received to look up (default 50)")
    args = parser.parse_args()

    url = database_url()
    shown = urlsplit(url)
    where = f"{shown.hostname}:{shown.port or 5432}{shown.path}"
    reason = ensure_database(url)
    if reason is not None:
        print(f"PostgreSQL is not reachable at {where}, so the portal benchmark was skipped: {reason}")
        return 0

    import tempfile

    media = Path(tempfile.mkdtemp(prefix="motcua-bench-media-"))
    os.environ.update(DATABASE_URL=url, MEDIA_ROOT=str(media), DJANGO_SETTINGS_MODULE="motcua.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from motcua.dossiers import services as dossier_services
    from motcua.org.models import User

    call_command("migrate", verbosity=0)
    call_command("load_demo", "--quiet-accounts", stdout=io.StringIO())
    from motcua.catalog.selectors import get_procedure

    clerk = User.objects.get(email=CLERK)
    # The API numbers components by their order; the service takes their ids.
    components = [{"component": c.pk, "originals": 1} for c in get_procedure(PROCEDURE).components.all()]
    run_id = int(time.time()) % 10**6 * 1000
    forms = []
    for number in range(run_id, run_id + args.dossiers):
        body = payload(number)
        dossier = dossier_services.receive_at_counter(
            clerk=clerk,
            procedure_code=body["procedure_code"],
            applicant=body["applicant"],
            form_data=body["form_data"],
            documents=components,
        )
        forms.append({"code": dossier.code, "digits": dossier.applicant_phone[-4:]})
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
    connection.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.support.portal_settings", "PYTHONPATH": str(ROOT)}
    server = start_server(env, port, args.workers)
    try:
        problem = wait_ready(server, base)
        if problem is not None:
            print(f"The bench server did not start: {problem}")
            return 1
        for path in (BASELINE_PATH, LOOKUP_PATH):  # warm-up, not timed
            warm = hammer(base, path, forms, args.clients, args.clients * 3)
            if len(warm["ok"]) != len(warm["results"]):
                failed = next(r for r in warm["results"] if r[0] != 200)
                print(f"Warm-up requests to {path} fail ({failed[0]}): {failed[2]}")
                return 1
        baseline = hammer(base, BASELINE_PATH, forms, args.clients, args.count)
        lookup = hammer(base, LOOKUP_PATH, forms, args.clients, args.count)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    print(f"database: {where} ({version.split(' on ')[0]})")
    print(
        f"server: gunicorn, {args.workers} sync workers on 127.0.0.1; load: {args.clients} client threads, "
        f"{args.count} look-ups per run over {len(forms)} dossiers (procedure {PROCEDURE})"
    )
    print(describe(f"look-up  POST {LOOKUP_PATH}", lookup, "look-ups"))
    print(describe(f"baseline POST {BASELINE_PATH} (one SELECT)", baseline, "answers"))
    lookup_rate = len(lookup["ok"]) / lookup["wall"]
    baseline_rate = len(baseline["ok"]) / baseline["wall"]
    print(
        f"ratio: look-up rate = {lookup_rate / baseline_rate:.3f} of the baseline; "
        f"p95 {lookup['p95'] / baseline['p95']:.2f}x the baseline's"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
