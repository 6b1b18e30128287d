"""How fast the outbox sender delivers dossier events to the national portal simulator.

In one run: the simulator is started as a separate process (``manage.py
national_portal_simulator``) on 127.0.0.1; a bare HTTP client (``bench/support/sync_bare.py``)
measures how many items per second it takes — its capacity — with the same batch size and
payload shape; then N dossier events are written to a fresh database (SQLite in a temporary
folder, the embedded default, or the PostgreSQL database named by ``DATABASE_URL``) and the
sender (``run_sender``, the code of the scheduled task and of ``national_sync_worker``)
delivers them until every one is acknowledged. The figure to compare between machines is the
ratio of the two rates. Plain figures, no assertions on speed.

    .venv/bin/python bench/sync.py [--events 4000] [--batch 100] [--workers 1]
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNIT = "000.00.24.H62"
USERNAME, PASSWORD = "bench", "mật-khẩu-bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_simulator(port: int, env: dict[str, str]) -> subprocess.Popen:
    import requests

    process = subprocess.Popen(
        [sys.executable, "manage.py", "national_portal_simulator", "--port", str(port), "--unit-code", UNIT],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/_simulator/state", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the simulator did not start: {process.stderr.read().decode()[:500]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000, help="events to deliver (5 per dossier)")
    parser.add_argument("--batch", type=int, default=100, help="batch size of the sender and the bare client")
    parser.add_argument("--workers", type=int, default=1, help="sender threads (each its own connection)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="motcua-bench-sync-"))
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MOTCUA_VAR_DIR": str(tmp),
        "LOG_LEVEL": "WARNING",
        "DEBUG": "0",
        "MOTCUA_NATIONAL_USERNAME": USERNAME,
        "MOTCUA_NATIONAL_PASSWORD": PASSWORD,
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "motcua.settings")
    sys.path.insert(0, str(ROOT))

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    simulator = start_simulator(port, env)
    try:
        import requests

        from bench.support import sync_bare

        bare_rate = sync_bare.measure(url, UNIT, USERNAME, PASSWORD, args.events, args.batch)
        requests.post(f"{url}/_simulator/reset", json={}, timeout=5)

        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        from motcua.integrations.models import NationalSyncItem, SyncState
        from motcua.integrations.national import services
        from motcua.org import demo
        from tests.dossiers.conftest import make_procedure
        from tests.integrations import load

        print(f"database: {connection.vendor}; simulator: {url} (separate process); batch {args.batch}")
        call_command("migrate", verbosity=0)
        demo.load()
        version = make_procedure("1.001193").version
        config = services.get_config()
        for name, value in {
            "enabled": True,
            "base_url": url,
            "unit_code": UNIT,
            "batch_size": args.batch,
            "connect_timeout": 5.0,
            "read_timeout": 30.0,
        }.items():
            setattr(config, name, value)
        config.save()

        began = time.perf_counter()
        load.produce(version, "H62-B", args.events // 5, 5)
        produced = time.perf_counter() - began
        events = args.events // 5 * 5

        def send() -> None:
            try:
                while NationalSyncItem.objects.exclude(state=SyncState.ACKNOWLEDGED).exists() or (
                    NationalSyncItem.objects.count() < events
                ):
                    services.run_sender(budget_seconds=30)
            finally:
                connections.close_all()

        began = time.perf_counter()
        threads = [threading.Thread(target=send) for _ in range(args.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        state = requests.get(f"{url}/_simulator/state", timeout=5).json()
        acknowledged = NationalSyncItem.objects.filter(state=SyncState.ACKNOWLEDGED).count()
        sender_rate = acknowledged / elapsed

        print(f"events written:                  {events} in {produced:.1f} s (not timed below)")
        print(f"bare client → simulator:         {bare_rate:8.0f} items/s  (the simulator's capacity)")
        print(
            f"sender → simulator:              {sender_rate:8.0f} events/s ({acknowledged} acknowledged "
            f"in {elapsed:.1f} s, {args.workers} worker(s), {state['calls']} calls)"
        )
        print(f"ratio sender / capacity:         {sender_rate / bare_rate:8.2f}")
        if state["applied"] != 2 * events or state["duplicates"]:
            print(f"WARNING: the simulator applied {state['applied']} items, {state['duplicates']} duplicates")
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
