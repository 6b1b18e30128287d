"""Redis-backed workers (django-tasks-redis on Django's ``django.tasks``), tested for real.

Real Redis (its own database number, flushed before and after each test), real worker processes
(``manage.py run_redis_tasks``) and real schedulers (``manage.py crontask``) started as the
deployment starts them: ``TASKS_BACKEND=redis`` + ``REDIS_URL``. The workers share this test's
database: on PostgreSQL the test database itself; on SQLite (whose test database lives in this
process's memory) a file copy of it made with SQLite's backup API, read back after the run.

Skipped only when Redis is not reachable (CI starts it in ``.ci/run``).
"""

import os
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from django.db import connection
from django.tasks import task, task_backends
from django_tasks_redis.backends import RedisTaskBackend
from django_tasks_redis.utils import get_result_key, serialize_datetime

from motcua import schedule
from motcua.integrations import tasks as national_tasks
from tests import clock

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("MOTCUA_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
PREFIX = "motcua_tasks"  # the settings' default TASKS_REDIS_PREFIX, as the workers use it
VN = ZoneInfo("Asia/Ho_Chi_Minh")
SLOT = datetime(2026, 11, 30, 9, 15, tzinfo=VN)

pytestmark = pytest.mark.django_db(transaction=True)  # worker processes see only committed rows


@task(takes_context=True)
@schedule.job("redis_test_sweep")
def redis_test_sweep() -> str:
    """A sweep shaped like the national sync: move every waiting item to done, one at a time.

    While the file ``hold`` exists it stops after its first item, so a test can kill the worker
    mid-job. Runs only in the worker processes (MOTCUA_TEST_SWEEP_DIR is set there).
    """
    base = Path(os.environ["MOTCUA_TEST_SWEEP_DIR"])
    moved = []
    for item in sorted((base / "inbox").iterdir()):
        item.rename(base / "done" / item.name)
        moved.append(item.name)
        with (base / "log").open("a") as log:
            log.write(f"{os.getpid()} {item.name}\n")
        while (base / "hold").exists():
            time.sleep(0.05)
    return f"moved {len(moved)}"


def _redis_client() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, decode_responses=True)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({exc.__class__.__name__}); CI starts it in .ci/run")
    return client


@dataclass
class Workers:
    """The Redis backend in this process, and how to start worker and scheduler processes."""

    client: redis.Redis
    backend: RedisTaskBackend
    env: dict[str, str]
    query: Callable[[str], list[tuple]]
    procs: list[subprocess.Popen]

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            clock.command("manage.py", *args),  # on this test's (possibly shifted) clock
            cwd=ROOT,
            env=clock.env({**self.env, **env}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        return proc

    def worker(self, *, continuous: bool = False) -> subprocess.Popen:
        args = ["run_redis_tasks", "--claim-interval", "0.3"]
        return self.start(*args, "--continuous") if continuous else self.start(*args)

    def set_enqueued_at(self, result_id: str, moment: datetime) -> None:
        """What a scheduler's clock said when it enqueued (the slot of a periodic job)."""
        key = get_result_key(PREFIX, "default", result_id)
        self.client.hset(key, "enqueued_at", serialize_datetime(moment))

    def wait_for(self, condition: Callable[[], bool], seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            for proc in self.procs:
                if proc.poll() not in (None, 0, -signal.SIGKILL, -signal.SIGTERM):
                    raise AssertionError(f"a process failed: {proc.args}\n{proc.stderr.read()}")
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")


def _database_for_workers(tmp_path: Path) -> tuple[str, Callable[[str], list[tuple]]]:
    """A DATABASE_URL the worker processes share with this test, and a way to read it back."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"

        def query(sql: str) -> list[tuple]:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())

        return url, query
    path = tmp_path / "workers.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)  # schema and rows of the in-memory test database

    def query_copy(sql: str) -> list[tuple]:
        with sqlite3.connect(path) as db:
            return db.execute(sql).fetchall()

    return f"sqlite:///{path}", query_copy


@pytest.fixture
def workers(tmp_path) -> Iterator[Workers]:
    client = _redis_client()
    client.flushdb()  # only this test database number
    url, query = _database_for_workers(tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TASKS_BACKEND": "redis",
        "REDIS_URL": REDIS_URL,
        "TASKS_REDIS_CLAIM_TIMEOUT": "1",  # a dead worker's task is taken over after 1 s
        "CRONTASK_LOCK_WAIT": "0.5",
        "MOTCUA_TEST_SWEEP_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
        "DEBUG": "0",
    }
    backend = RedisTaskBackend(
        "default",
        {
            "BACKEND": "django_tasks_redis.RedisTaskBackend",
            "OPTIONS": {"REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": PREFIX},
        },
    )
    task_backends["default"] = backend  # this process enqueues and reads results through Redis
    state = Workers(client, backend, env, query, [])
    try:
        yield state
    finally:
        del task_backends["default"]  # back to the configured backend
        for proc in state.procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=10)
        client.flushdb()
        client.close()


def _finish(proc: subprocess.Popen, seconds: float = 30) -> str:
    out, err = proc.communicate(timeout=seconds)
    assert proc.returncode == 0, err
    return out


def _job_runs(workers: Workers, job: str) -> list[tuple]:
    return workers.query(
        "SELECT r.outcome, r.message, r.duplicates, r.worker FROM integrations_jobrun r"
        f" JOIN integrations_scheduledjob j ON j.id = r.job_id WHERE j.name = '{job}' ORDER BY r.slot"
    )


def test_a_worker_process_runs_a_project_job_and_its_outcome_is_visible(workers):
    result = national_tasks.national_sync_send.enqueue()
    assert result.status == "READY" and workers.client.exists(get_result_key(PREFIX, "default", result.id))
    out = _finish(workers.worker())
    assert "Processed 1 task(s)" in out
    done = national_tasks.national_sync_send.get_result(result.id)
    assert done.status == "SUCCESSFUL" and done.return_value == "national sync is off"
    assert done.attempts == 1 and done.finished_at >= done.started_at >= done.enqueued_at
    [(outcome, message, duplicates, worker)] = _job_runs(workers, "national_sync_send")
    assert (outcome, message, duplicates) == ("succeeded", "national sync is off", 0)
    assert worker.rsplit(":", 1)[1] not in ("", str(os.getpid()))  # run by the worker process


def test_one_slot_enqueued_by_two_schedulers_runs_once(workers):
    """Two schedulers without the lock (or one taking over mid-minute) both enqueue 09:15."""
    first = national_tasks.national_sync_send.enqueue()
    second = national_tasks.national_sync_send.enqueue()
    workers.set_enqueued_at(first.id, SLOT + timedelta(milliseconds=3))
    workers.set_enqueued_at(second.id, SLOT + timedelta(milliseconds=41))
    procs = [workers.worker(), workers.worker()]  # two workers compete for the two copies
    processed = [int(re.search(r"Worker stopped\. Processed (\d+) task", _finish(proc))[1]) for proc in procs]
    assert sum(processed) == 2
    results = [national_tasks.national_sync_send.get_result(r.id) for r in (first, second)]
    assert [r.status for r in results] == ["SUCCESSFUL", "SUCCESSFUL"]
    assert sorted(r.return_value for r in results) == [
        "national sync is off",
        "skipped: slot 2026-11-30T09:15:00+07:00 already run",
    ]
    assert [row[:3] for row in _job_runs(workers, "national_sync_send")] == [("succeeded", "national sync is off", 1)]


def test_with_redis_only_one_scheduler_holds_the_lock(workers):
    first = workers.start("crontask", "--no-heartbeat")
    workers.wait_for(lambda: workers.client.exists("crontask-lock") == 1, 30, "the first scheduler's lock")
    second = workers.start("crontask", "--no-heartbeat")
    out, err = second.communicate(timeout=30)
    assert "Another scheduler is already running." in err
    assert "Starting scheduler" not in out
    assert first.poll() is None  # the first one goes on scheduling
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=15)
    assert workers.client.exists("crontask-lock") == 0  # released on a clean stop


def test_a_worker_killed_mid_job_loses_nothing_the_next_run_does_not_redo(workers, tmp_path):
    for name in ("inbox", "done"):
        (tmp_path / name).mkdir()
    for n in range(3):
        (tmp_path / "inbox" / f"item-{n}").write_text(str(n))
    (tmp_path / "hold").touch()
    killed = redis_test_sweep.enqueue()
    workers.set_enqueued_at(killed.id, SLOT)
    first = workers.worker(continuous=True)
    log = tmp_path / "log"
    workers.wait_for(log.exists, 30, "the job to start")
    first.send_signal(signal.SIGKILL)  # mid-job: one item moved, the worker waiting on "hold"
    first.wait(timeout=10)
    assert redis_test_sweep.get_result(killed.id).status == "RUNNING"
    assert [row[0] for row in _job_runs(workers, "redis_test_sweep")] == ["running"]

    # The next slot's run, and a fresh worker that takes over the dead worker's task after 1 s.
    (tmp_path / "hold").unlink()
    following = redis_test_sweep.enqueue()
    workers.set_enqueued_at(following.id, SLOT + timedelta(minutes=1))
    workers.worker(continuous=True)

    def both_finished() -> bool:
        return all(redis_test_sweep.get_result(r.id).status == "SUCCESSFUL" for r in (killed, following))

    workers.wait_for(both_finished, 30, "the redelivered task and the next run")
    again = redis_test_sweep.get_result(killed.id)
    # Delivered again (at least once), but its slot was already claimed by the killed run.
    assert again.attempts == 2 and again.return_value == "skipped: slot 2026-11-30T09:15:00+07:00 already run"
    assert redis_test_sweep.get_result(following.id).return_value == "moved 2"
    # Nothing lost, nothing done twice: the next run moved what the killed one had left.
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["item-0", "item-1", "item-2"]
    assert not list((tmp_path / "inbox").iterdir())
    lines = log.read_text().split()
    assert sorted(lines[1::2]) == ["item-0", "item-1", "item-2"]
    # The killed run stays "running" on the desk until a later run finds it stale (stale_after).
    runs = _job_runs(workers, "redis_test_sweep")
    assert [(r[0], r[2]) for r in runs] == [("running", 1), ("succeeded", 0)]
