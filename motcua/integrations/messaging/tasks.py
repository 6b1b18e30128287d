"""Sending as a django.tasks task (database backend by default, `manage.py db_worker`)."""

from django.tasks import task

from motcua.integrations.messaging import services


@task()
def send_message(outgoing_id: int) -> str:
    """One attempt; a transient failure re-enqueues itself with backoff (services._failed)."""
    return services.send_outgoing(outgoing_id)


@task()
def resend_due() -> int:
    """Periodic safety net for lost enqueues (add to the crontask schedule)."""
    return services.resend_due()
