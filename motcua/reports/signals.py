"""Keep the summaries current inside the transaction that writes the log (see ``services``)."""

from django.db.models.signals import post_save

from motcua.dossiers.models import DossierEvent


def _event_saved(sender, instance: DossierEvent, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from motcua.reports import services

        services.book_dossier(instance.dossier_id)


def _step_run_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    if not raw:
        from motcua.reports import services

        services.book_step_run(instance)


def connect() -> None:
    from motcua.workflow.models import StepRun

    post_save.connect(_event_saved, sender=DossierEvent, dispatch_uid="reports.book_dossier")
    post_save.connect(_step_run_saved, sender=StepRun, dispatch_uid="reports.book_step_run")
