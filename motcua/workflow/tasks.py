"""The workflow's periodic job: the deadline scan (due soon, overdue, apology letters).

Registered in ``motcua.schedule.JOBS`` as ``deadline_scan`` (every 15 minutes); the scheduler
only enqueues it, a ``django.tasks`` worker runs it, and ``schedule.job`` makes a second
scheduler's copy of the same slot do nothing. The scan itself is idempotent as well (one notice
per step run or dossier per kind), so a manual run from the desk is harmless.
"""

from django.tasks import task

from motcua import schedule
from motcua.workflow import services


@task(takes_context=True)
@schedule.job("deadline_scan")
def deadline_scan() -> str:
    """Due-soon and overdue notices and apology requests; the summary is shown in the desk."""
    return str(services.scan_deadlines())
