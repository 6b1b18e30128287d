"""Keep the summaries current inside the transaction that writes the log (see ``services``)."""

from django.db.models.signals import post_delete, post_save

from motcua.dossiers.models import DossierEvent


def _event_saved(sender, instance: DossierEvent, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from motcua.reports import services

        services.book_dossier(instance.dossier_id, instance)


def _step_run_saved(sender, instance, created: bool = False, raw: bool = False, **kwargs) -> None:
    # A step run just started has no booking yet and nothing to book.
    if not raw and not (created and instance.finished_at is None):
        from motcua.reports import services

        services.book_step_run(instance)


def _rating_changed(sender, instance, raw: bool = False, **kwargs) -> None:
    """A rating is a fact of its dossier, not an event: the dossier's log is folded again with it."""
    if not raw:
        from motcua.reports import services

        services.book_dossier(instance.dossier_id)


def connect() -> None:
    from motcua.portal.models import Rating
    from motcua.workflow.models import StepRun

    post_save.connect(_event_saved, sender=DossierEvent, dispatch_uid="reports.book_dossier")
    post_save.connect(_step_run_saved, sender=StepRun, dispatch_uid="reports.book_step_run")
    post_save.connect(_rating_changed, sender=Rating, dispatch_uid="reports.book_rating")
    post_delete.connect(_rating_changed, sender=Rating, dispatch_uid="reports.unbook_rating")
