"""Background tasks of the integrations (django.tasks): the national portal's sender, inbox and catalogue.

Each is a scheduled job (``motcua.schedule``): the body returns the sentence the desk shows as
the run's outcome. Importing this module (``manage.py crontask`` does, for every app) installs
the project's whole schedule.
"""

from django.tasks import task

from motcua import schedule
from motcua.integrations.national import services


@task(takes_context=True)
@schedule.job("national_sync_send")
def national_sync_send() -> str:
    """Deliver the outbox: runs until it is drained, at most 50 s, so the next minute's run can follow."""
    return services.run_sender(budget_seconds=50).summary()


@task(takes_context=True)
@schedule.job("national_inbox_fetch")
def national_inbox_fetch() -> str:
    """Fetch the dossiers submitted on the national portal into the online queue."""
    if not services.get_config().enabled:
        return "national sync is off"
    return services.fetch_inbox().summary()


@task(takes_context=True)
@schedule.job("national_catalogue_refresh")
def national_catalogue_refresh() -> str:
    """Store the differences with the national procedure database for the administrator to review."""
    if not services.get_config().enabled:
        return "national sync is off"
    return services.refresh_catalogue().summary()


@task(takes_context=True)
@schedule.job("national_check_connection")
def national_check_connection() -> str:
    """Log in afresh: started by hand from the desk to test the connection."""
    return services.check_connection()


schedule.install()
