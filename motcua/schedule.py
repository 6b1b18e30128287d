"""The project's periodic jobs, and the guard that runs each job at most once per scheduled slot.

How the pieces fit:

- ``JOBS`` below is the one list of periodic jobs: a name, the ``django.tasks`` task that does
  the work, a crontab schedule in Vietnam time (``TIME_ZONE``) and a title for the desk.
  **Other apps register their jobs by adding a ``Job`` line here** (the commented lines name
  the jobs later issues build) and by decorating their task as the national ones are::

      @task(takes_context=True)
      @schedule.job("deadline_scan")
      def deadline_scan() -> str:
          return "12 dossiers due soon, 3 overdue"   # the outcome shown in the desk

- ``python manage.py crontask`` (django-crontask 2.0.1 on APScheduler) imports every app's
  ``tasks`` module; ``motcua.integrations.tasks`` calls ``install()``, which hands each job to
  ``crontask.cron``. At each slot the scheduler only *enqueues* the task; a worker runs it:
  ``manage.py db_worker`` (django-tasks-db, the embedded default) or Redis-backed workers
  when ``TASKS_BACKEND`` says so — the code does not change.
- Two schedulers: crontask's own lock is Redis-only (``CRONTASK = {"REDIS_URL": …}``; without
  it the lock is a no-op and every scheduler enqueues every job). So ``job()`` makes the run
  itself claim its slot — the minute it was enqueued for — by inserting ``JobRun(job, slot)``
  under a unique constraint: the second scheduler's copy finds the slot taken, counts itself
  in ``JobRun.duplicates`` and does nothing. This holds on SQLite and PostgreSQL, with or
  without Redis.
- The desk shows each job with its last run and outcome (*Tích hợp → Tác vụ định kỳ*), and
  every run with its message; a run whose worker died is marked interrupted by the next run.
"""

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    task: str
    schedule: str
    title: Any = ""
    #: A run still "running" after this long is taken as interrupted (its worker died).
    stale_after: timedelta = timedelta(hours=1)


JOBS: tuple[Job, ...] = (
    Job(
        "national_sync_send",
        "motcua.integrations.tasks.national_sync_send",
        "* * * * *",
        _("Send dossier events to the national portal"),
        stale_after=timedelta(minutes=10),
    ),
    Job(
        "national_inbox_fetch",
        "motcua.integrations.tasks.national_inbox_fetch",
        "*/5 * * * *",
        _("Fetch dossiers submitted on the national portal"),
        stale_after=timedelta(minutes=30),
    ),
    Job(
        "national_catalogue_refresh",
        "motcua.integrations.tasks.national_catalogue_refresh",
        "30 2 * * Sun",
        _("Compare the catalogue with the national procedure database"),
    ),
    Job("deadline_scan", "motcua.workflow.tasks.deadline_scan", "*/15 * * * *", _("Due-soon and overdue scan")),
    # Registration point for the jobs of other issues: add a ``Job`` line when the task exists.
    Job("daily_digest", "motcua.reports.tasks.daily_digest", "0 7 * * Mon-Fri", _("Daily digest to unit leaders")),
    Job("monthly_report", "motcua.reports.tasks.monthly_report", "0 6 1 * *", _("Monthly report")),
    Job("draft_cleanup", "motcua.portal.tasks.draft_cleanup", "0 3 * * *", _("Clean-up of expired drafts")),
    Job(
        "messages_resend_due",
        "motcua.integrations.messaging.tasks.messages_resend_due",
        "*/5 * * * *",
        _("Resend messages whose retry is due"),
        stale_after=timedelta(minutes=30),
    ),
    Job(
        "payments_reconcile",
        "motcua.integrations.payments.tasks.payments_reconcile",
        "*/5 * * * *",
        _("Payment reconciliation and expiry"),
        stale_after=timedelta(minutes=30),
    ),
)

_installed: set[str] = set()


def by_name(name: str) -> Job | None:
    return next((job for job in JOBS if job.name == name), None)


def install(scheduler: Any = None) -> list[str]:
    """Give every job of ``JOBS`` to crontask's scheduler once; returns the names installed now."""
    from crontask import cron

    added = []
    for entry in JOBS:
        if entry.name in _installed:
            continue
        task = import_string(entry.task)
        if scheduler is None:
            cron(entry.schedule, sentry_monitor_config=None)(task)
        else:  # a test's own APScheduler
            from apscheduler.triggers.cron import CronTrigger

            trigger = CronTrigger.from_crontab(entry.schedule, timezone=timezone.get_default_timezone())
            scheduler.add_job(func=task.enqueue, trigger=trigger, name=task.name)
        _installed.add(entry.name)
        added.append(entry.name)
    return added


def sync_jobs() -> None:
    """One ``ScheduledJob`` row per entry of ``JOBS`` (schedule and title kept current) for the desk."""
    from motcua.integrations.models import ScheduledJob

    for entry in JOBS:
        values = {"title": str(entry.title), "schedule": entry.schedule, "task_path": entry.task}
        row = ScheduledJob.objects.filter(name=entry.name).first()
        if row is None:
            ScheduledJob.objects.get_or_create(name=entry.name, defaults=values)
        elif any(getattr(row, key) != value for key, value in values.items()):
            ScheduledJob.objects.filter(pk=row.pk).update(**values)


def slot_of(enqueued_at: datetime | None, manual: bool) -> datetime:
    """The scheduled minute a run belongs to; a manual run is its own slot."""
    moment = enqueued_at or timezone.now()
    return moment if manual else moment.replace(second=0, microsecond=0)


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(name: str, body: Callable[[], str | None], *, slot: datetime, manual: bool = False) -> str:
    """Run ``body`` unless this job's ``slot`` was already claimed; record the outcome."""
    from motcua.integrations.models import JobRun, ScheduledJob

    entry = by_name(name)
    defaults = {"title": str(entry.title), "schedule": entry.schedule, "task_path": entry.task} if entry else {}
    job_row, _created = ScheduledJob.objects.get_or_create(name=name, defaults=defaults)
    started = timezone.now()
    try:
        with transaction.atomic():
            run = JobRun.objects.create(job=job_row, slot=slot, manual=manual, started_at=started, worker=_worker())
    except IntegrityError:
        JobRun.objects.filter(job=job_row, slot=slot).update(duplicates=F("duplicates") + 1)
        local = timezone.localtime(slot).isoformat()
        log.info("Job %s: slot %s already run by another scheduler; skipped.", name, local)
        return f"skipped: slot {local} already run"
    stale = entry.stale_after if entry else timedelta(hours=1)
    JobRun.objects.filter(job=job_row, outcome=ScheduledJob.Outcome.RUNNING, started_at__lt=started - stale).exclude(
        pk=run.pk
    ).update(outcome=ScheduledJob.Outcome.INTERRUPTED, finished_at=started, message="interrupted: the worker stopped")
    ScheduledJob.objects.filter(pk=job_row.pk).update(
        last_started_at=started, last_outcome=ScheduledJob.Outcome.RUNNING, last_message=""
    )
    try:
        message = str(body() or "")
    except Exception as exc:
        _close(run, ScheduledJob.Outcome.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    _close(run, ScheduledJob.Outcome.SUCCEEDED, message)
    return message


def _close(run: Any, outcome: str, message: str) -> None:
    from motcua.integrations.models import JobRun, ScheduledJob

    finished = timezone.now()
    JobRun.objects.filter(pk=run.pk).update(outcome=outcome, finished_at=finished, message=message[:5000])
    ScheduledJob.objects.filter(pk=run.job_id).update(
        last_finished_at=finished, last_outcome=outcome, last_message=message[:5000]
    )


def job(name: str) -> Callable[[Callable[[], str | None]], Callable[..., str]]:
    """Wrap a job's body for ``@task(takes_context=True)``: slot claim, outcome, desk record.

    The wrapper takes the task context first (as django.tasks requires) and ``manual=True``
    for a run started by hand from the desk.
    """

    def decorator(body: Callable[[], str | None]) -> Callable[..., str]:
        def runner(context: Any, manual: bool = False) -> str:
            task_result = getattr(context, "task_result", None)
            slot = slot_of(getattr(task_result, "enqueued_at", None), manual)
            return run_job(name, body, slot=slot, manual=manual)

        # Named like the body (the task's import path) without __wrapped__, so that django.tasks
        # sees ``context`` as the first argument.
        runner.__name__ = body.__name__
        runner.__qualname__ = body.__qualname__
        runner.__module__ = body.__module__
        runner.__doc__ = body.__doc__
        return runner

    return decorator
