"""The project schedule (django-crontask) and the guard that runs each job once per slot."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from django.core.management import call_command
from django.db import connection, connections
from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from motcua import schedule
from motcua.integrations import tasks
from motcua.integrations.models import JobRun, ScheduledJob
from tests.integrations.conftest import configure

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SLOT = datetime(2026, 11, 30, 9, 15, tzinfo=VN)


def test_every_job_is_a_context_task_registered_with_crontask():
    from crontask import scheduler

    names = {job.name for job in scheduler.get_jobs()}
    for entry in schedule.JOBS:
        task = import_string(entry.task)
        assert isinstance(task, Task) and task.takes_context
        assert task.module_path == entry.task
        assert entry.name in names
    assert {"national_sync_send", "national_inbox_fetch"} <= {entry.name for entry in schedule.JOBS}


def test_the_schedule_fires_in_vietnam_time():
    scheduler = BackgroundScheduler()
    schedule._installed.clear()
    try:
        added = schedule.install(scheduler)
    finally:
        schedule._installed.update(entry.name for entry in schedule.JOBS)
    assert added == [entry.name for entry in schedule.JOBS]
    jobs = {job.name: job for job in scheduler.get_jobs()}
    sender = jobs["national_sync_send"].trigger
    after = datetime(2026, 11, 30, 9, 15, 30, tzinfo=VN)
    assert sender.get_next_fire_time(None, after) == datetime(2026, 11, 30, 9, 16, tzinfo=VN)
    weekly = jobs["national_catalogue_refresh"].trigger
    assert weekly.get_next_fire_time(None, after) == datetime(2026, 12, 6, 2, 30, tzinfo=VN)  # Sunday 02:30


def test_a_slot_runs_once_and_the_second_start_is_counted(db):
    ran = []
    assert schedule.run_job("national_sync_send", lambda: ran.append(1) or "done", slot=SLOT) == "done"
    second = schedule.run_job("national_sync_send", lambda: ran.append(2) or "done again", slot=SLOT)
    assert second.startswith("skipped")
    assert ran == [1]
    run = JobRun.objects.get()
    assert (run.outcome, run.message, run.duplicates) == ("succeeded", "done", 1)
    job = ScheduledJob.objects.get(name="national_sync_send")
    assert (job.last_outcome, job.last_message, job.schedule) == ("succeeded", "done", "* * * * *")
    # The next minute is another slot.
    schedule.run_job("national_sync_send", lambda: "next", slot=SLOT + timedelta(minutes=1))
    assert JobRun.objects.count() == 2


def test_a_failing_job_records_its_error_and_a_dead_run_is_marked_interrupted(db):
    def boom():
        raise RuntimeError("Cổng không phản hồi")

    with pytest.raises(RuntimeError):
        schedule.run_job("national_inbox_fetch", boom, slot=SLOT)
    run = JobRun.objects.get()
    assert (run.outcome, run.message) == ("failed", "RuntimeError: Cổng không phản hồi")
    # A run left "running" by a killed worker is marked interrupted by a later run.
    JobRun.objects.filter(pk=run.pk).update(outcome="running", started_at=timezone.now() - timedelta(hours=1))
    schedule.run_job("national_inbox_fetch", lambda: "ok", slot=SLOT + timedelta(minutes=5))
    assert JobRun.objects.get(pk=run.pk).outcome == "interrupted"


@pytest.mark.django_db(transaction=True)  # db_worker manages its own connection and transactions
def test_two_schedulers_enqueue_the_same_minute_and_the_worker_runs_it_once():
    """Two crontask processes without Redis both enqueue; the database worker runs both tasks,
    and the second finds its slot taken."""
    first = tasks.national_sync_send.enqueue()
    second = tasks.national_sync_send.enqueue()
    # Both schedulers fired at 09:15 (their own clocks, a few milliseconds apart).
    DBTaskResult.objects.filter(pk=first.id).update(enqueued_at=SLOT + timedelta(milliseconds=3))
    DBTaskResult.objects.filter(pk=second.id).update(enqueued_at=SLOT + timedelta(milliseconds=41))
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    results = [tasks.national_sync_send.get_result(r.id) for r in (first, second)]
    assert [r.status for r in results] == ["SUCCESSFUL", "SUCCESSFUL"]
    assert sorted(r.return_value for r in results) == [
        "national sync is off",
        "skipped: slot 2026-11-30T09:15:00+07:00 already run",
    ]
    run = JobRun.objects.get()
    assert (run.slot, run.duplicates, run.manual) == (SLOT, 1, False)


@pytest.mark.django_db(transaction=True)
def test_a_manual_run_is_its_own_slot_and_failures_reach_the_task_result(credentials_env, monkeypatch):
    configure("http://127.0.0.1:9")
    monkeypatch.delenv("MOTCUA_NATIONAL_PASSWORD")
    result = tasks.national_inbox_fetch.enqueue(manual=True)
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    assert tasks.national_inbox_fetch.get_result(result.id).status == "FAILED"
    run = JobRun.objects.get()
    assert run.manual and run.outcome == "failed"
    assert "MOTCUA_NATIONAL_PASSWORD" in run.message


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need a database server")
@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_of_one_slot_run_once():
    ran, barrier = [], threading.Barrier(6)

    def start() -> None:
        try:
            barrier.wait()
            schedule.run_job("national_sync_send", lambda: ran.append(1) or "ok", slot=SLOT)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ran == [1]
    assert JobRun.objects.get().duplicates == 5
