"""Background tasks of the portal: the nightly clean-up of abandoned drafts.

``draft_cleanup`` (03:00 daily, registered in ``motcua/schedule.py``) deletes the citizens' drafts
(status ``draft``) untouched for ``MOTCUA_DRAFT_MAX_AGE_DAYS`` days (30 by default), with their
uploaded files. A draft has no code, no clock and no event (``dossiers.services.save_draft``); a
draft that has an event row anyway is left alone and counted, so nothing of the record is lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import ProtectedError
from django.tasks import task
from django.utils import timezone

from motcua import schedule
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier, DossierEvent

log = logging.getLogger(__name__)


def draft_max_age() -> timedelta:
    return timedelta(days=int(getattr(settings, "MOTCUA_DRAFT_MAX_AGE_DAYS", 30)))


def delete_expired_drafts(now: datetime | None = None) -> tuple[int, int]:
    """Delete drafts untouched for the maximum age; returns (deleted, kept because they have events)."""
    cutoff = (now or timezone.now()) - draft_max_age()
    expired = Dossier.objects.filter(status=Status.DRAFT, updated_at__lt=cutoff).order_by("pk")
    deleted = kept = 0
    for pk in expired.values_list("pk", flat=True).iterator(chunk_size=500):
        if DossierEvent.objects.filter(dossier_id=pk).exists():
            log.warning("Draft %s has event rows: not deleted.", pk)
            kept += 1
            continue
        files: list[str] = []
        try:
            with transaction.atomic():
                # Re-check under the lock: the citizen may have saved or submitted it meanwhile.
                draft = Dossier.objects.select_for_update().filter(pk=pk, status=Status.DRAFT, updated_at__lt=cutoff)
                draft = draft.first()
                if draft is None:
                    continue
                for document in draft.documents.all():
                    if document.file:
                        files.append(document.file.name)
                    document.delete()
                draft.delete()  # the DossierOwner row goes with it (CASCADE)
                transaction.on_commit(lambda names=tuple(files): _delete_files(names))
        except ProtectedError:
            log.warning("Draft %s is referenced elsewhere: not deleted.", pk)
            kept += 1
            continue
        deleted += 1
    return deleted, kept


def _delete_files(names: tuple[str, ...]) -> None:
    for name in names:
        default_storage.delete(name)


@task(takes_context=True)
@schedule.job("draft_cleanup")
def draft_cleanup() -> str:
    """Delete abandoned portal drafts with their files (see the module docstring)."""
    deleted, kept = delete_expired_drafts()
    return f"{deleted} drafts deleted, {kept} kept (they have events or references)"
