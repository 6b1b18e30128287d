"""Sending as a django.tasks task (database backend by default, `manage.py db_worker`)."""

from django.tasks import task

from motcua import schedule
from motcua.integrations.messaging import services


@task()
def send_message(outgoing_id: int) -> str:
    """One attempt; a transient failure re-enqueues itself with backoff (services._failed)."""
    return services.send_outgoing(outgoing_id)


@task(takes_context=True)
@schedule.job("messages_resend_due")
def messages_resend_due() -> str:
    """Periodic safety net for lost enqueues, every 5 minutes (``motcua.schedule.JOBS``).

    Named like its job: crontask registers a task under the function's name.
    """
    return f"{services.resend_due()} messages re-enqueued"


resend_due = messages_resend_due  # the earlier name
