"""Fault test of the national sync: real worker processes, a failing simulator, a SIGKILL.

While 2,000 events are produced (two producer threads writing what the dossier services write,
see ``load.py``), worker
processes (``manage.py national_sync_worker``) deliver them to the simulator, which fails 30 %
of the calls (HTTP 500), times out on 10 % (it applies the call and holds the reply back past
the client's timeout) and is down for a stretch. At the end every event is acknowledged, the
portal applied each event exactly once (by idempotency key; resends are recorded as
duplicates), in order per dossier, and nothing is lost. The second test also kills a worker
with SIGKILL while its batch is half delivered.

PostgreSQL only: the worker processes need a database server they can share with the test
(the SQLite test database lives in this process's memory).
"""

import os
import signal
import subprocess
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest
from django.db import connection, connections
from django.db.models import Count

from motcua.dossiers.models import Dossier, DossierEvent
from motcua.integrations.models import NationalDossierLink, NationalSyncItem
from motcua.integrations.models import SyncState as S
from motcua.integrations.national.simulator import NationalPortalSimulator
from tests import clock
from tests.dossiers.conftest import make_procedure
from tests.integrations import load
from tests.integrations.conftest import CREDENTIALS, UNIT, configure

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="worker processes need a shared database server"),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
DOSSIERS = 400
EVENTS_EACH = 5  # received, in process, supplement requested, supplement received, supplement requested
EVENTS = DOSSIERS * EVENTS_EACH
PRODUCERS = 4
DONG_BO, TIEN_DO = "DongBoHoSoMC", "CapNhatTienDoHoSoMC"


@pytest.fixture
def committed_org(transactional_db):
    from motcua.org import demo

    return demo.load()


@pytest.fixture
def sim():
    with NationalPortalSimulator(credentials=CREDENTIALS, unit_code=UNIT, seed=2026) as simulator:
        yield simulator


def worker_env() -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "MOTCUA_NATIONAL_USERNAME": CREDENTIALS.username,
        "MOTCUA_NATIONAL_PASSWORD": CREDENTIALS.password,
    }


def start_worker(name: str) -> subprocess.Popen:
    return subprocess.Popen(
        clock.command("manage.py", "national_sync_worker", "--idle-wait", "0.05", "--worker-id", name, "-v", "0"),
        cwd=ROOT,
        env=clock.env(worker_env()),  # the workers' leases and retry times on this test's (possibly shifted) clock
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def run_producers(version) -> tuple[list[threading.Thread], list]:
    """Two threads writing dossier events concurrently (their own database connections)."""
    errors: list = []

    def work(prefix: str) -> None:
        try:
            load.produce(version, prefix, DOSSIERS // PRODUCERS, EVENTS_EACH)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(f"H62-F{n}",)) for n in range(PRODUCERS)]
    for thread in threads:
        thread.start()
    return threads, errors


def fast_retries(url: str, **values):
    return configure(
        url,
        **{
            "connect_timeout": 0.5,
            "read_timeout": 0.4,
            "retry_base_seconds": 0.05,
            "retry_max_seconds": 0.2,
            "batch_size": 50,
            "max_attempts": 5,
            "lease_seconds": 2,
            **values,
        },
    )


#: The waits end as soon as their condition holds; the slack only matters on a loaded machine (two
#: test processes and the worker subprocesses share two cores in CI), where a tight limit fails for nothing.
SLACK = 3


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    states = dict(NationalSyncItem.objects.values_list("state").annotate(n=Count("pk")).order_by())
    raise AssertionError(f"timed out waiting for {what}: events {DossierEvent.objects.count()}, items {states}")


def all_acknowledged() -> bool:
    return (
        DossierEvent.objects.count() == EVENTS
        and NationalSyncItem.objects.filter(state=S.ACKNOWLEDGED).count() == EVENTS
    )


def check_exactly_once_in_order(sim: NationalPortalSimulator) -> None:
    assert DossierEvent.objects.count() == EVENTS
    assert NationalSyncItem.objects.count() == EVENTS
    assert NationalSyncItem.objects.exclude(state=S.ACKNOWLEDGED).count() == 0
    expected: dict[str, list[str]] = defaultdict(list)
    for code, key in (
        NationalSyncItem.objects.order_by("event_id").values_list("dossier__code", "idempotency_key").iterator()
    ):
        expected[code].append(key)
    for service in (DONG_BO, TIEN_DO):
        applied = sim.applied(service)
        keys = [a["key"] for a in applied]
        assert len(keys) == EVENTS == len(set(keys)), f"{service}: each event applied exactly once"
        per_dossier: dict[str, list[str]] = defaultdict(list)
        for a in sorted(applied, key=lambda a: a["seq"]):
            per_dossier[a["code"]].append(a["key"])
        assert per_dossier == expected, f"{service}: in the order of the events, per dossier"
    assert NationalDossierLink.objects.filter(sync_state=S.ACKNOWLEDGED).count() == DOSSIERS
    # Every dossier's last state reached the portal.
    for dossier in Dossier.objects.all():
        assert sim.dossier(dossier.code)["TrangThaiHoSo"] == "5"


def stop(workers: list[subprocess.Popen]) -> str:
    errors = []
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        if worker.stderr is not None:
            errors.append(worker.stderr.read().decode("utf-8", "replace"))
    return "\n".join(e for e in errors if e.strip())


def test_faulty_portal_and_an_outage_lose_nothing_and_apply_each_event_once(committed_org, sim):
    began = time.monotonic()
    fast_retries(sim.url)
    sim.set_faults(fail_rate=0.3, timeout_rate=0.1, timeout_seconds=0.6)
    version = make_procedure("1.001193").version
    workers = [start_worker("fault-a"), start_worker("fault-b")]
    try:
        threads, errors = run_producers(version)
        wait_until(lambda: len(sim.applied(TIEN_DO)) > 100, SLACK * 30, "delivery under way")
        sim.set_faults(fail_rate=0.3, timeout_rate=0.1, timeout_seconds=0.6, down=True)
        time.sleep(3)  # down for a stretch while events keep coming
        sim.set_faults(fail_rate=0.3, timeout_rate=0.1, timeout_seconds=0.6)
        for thread in threads:
            thread.join()
        print(f"\nproduced in {time.monotonic() - began:.1f} s")
        assert errors == []
        wait_until(all_acknowledged, SLACK * 50, "every event acknowledged")
    finally:
        problems = stop(workers)
    assert "Traceback" not in problems, problems
    check_exactly_once_in_order(sim)
    outcomes = sim.summary()["outcomes"]
    answered = sum(outcomes.values()) - outcomes.get("down", 0)
    assert outcomes.get("failed", 0) > 0.2 * answered  # ~30 % of the calls failed …
    assert outcomes.get("timeout", 0) >= 3  # … some timed out (applied, reply too late) …
    assert outcomes.get("down", 0) >= 1  # … and some met a portal that was down
    assert sim.duplicates()  # replies lost to timeouts were resent, and recognised
    assert {i.claimed_by for i in NationalSyncItem.objects.all()} == {"fault-a", "fault-b"}
    print(f"\nfault test: {time.monotonic() - began:.1f} s, simulator {outcomes}")


def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing(committed_org, sim):
    began = time.monotonic()
    fast_retries(sim.url, read_timeout=0.6)
    # Slow calls widen the window between the two calls of a batch, where the kill lands.
    sim.set_faults(fail_rate=0.3, timeout_rate=0.1, timeout_seconds=0.8, delay_seconds=0.15)
    version = make_procedure("1.001193").version
    victim = start_worker("victim")
    workers = [victim]
    try:
        threads, errors = run_producers(version)
        claimed: list[str] = []

        def half_delivered() -> bool:
            keys = set(
                NationalSyncItem.objects.filter(state=S.SENT, claimed_by="victim").values_list(
                    "idempotency_key", flat=True
                )
            )
            synced = {a["key"] for a in sim.applied(DONG_BO)} & keys
            progressed = {a["key"] for a in sim.applied(TIEN_DO)} & keys
            if synced and not progressed:
                claimed.extend(sorted(synced))
                return True
            return False

        wait_until(half_delivered, SLACK * 30, "a batch of the victim half delivered")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=5)
        sim.set_faults(fail_rate=0.3, timeout_rate=0.1, timeout_seconds=0.8)  # no longer slow
        assert victim.returncode == -signal.SIGKILL
        # The dossier status went out, the progress did not: these items are stuck "sent" …
        stuck = NationalSyncItem.objects.filter(idempotency_key__in=claimed)
        assert all(item.state == S.SENT and item.claimed_by == "victim" for item in stuck)
        workers.append(start_worker("rescuer"))
        for thread in threads:
            thread.join()
        assert errors == []
        wait_until(all_acknowledged, SLACK * 50, "every event acknowledged after the kill")
    finally:
        problems = stop(workers[1:])
    assert "Traceback" not in problems, problems
    check_exactly_once_in_order(sim)
    # … and were taken over after the lease by the other worker, sent again and recognised.
    rescued = NationalSyncItem.objects.filter(idempotency_key__in=claimed)
    assert {item.claimed_by for item in rescued} == {"rescuer"}
    repeated = {d["key"] for d in sim.duplicates(DONG_BO)}
    assert set(claimed) <= repeated
    print(f"\nSIGKILL test: {time.monotonic() - began:.1f} s, simulator {sim.summary()['outcomes']}")
