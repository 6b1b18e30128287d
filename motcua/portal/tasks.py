"""Background tasks of the portal: the nightly clean-up of abandoned drafts, and the account texts (SMS).

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


SMS_RETRIES = 3


@task()
def send_account_sms(phone: str, kind: str, sealed: str, key: str, attempt: int = 1) -> str:
    """Send an account text through the messaging SMS adapter, outside any request (DESIGN invariant 6).

    ``kind`` is ``code`` (a verification code from django-allauth, sealed in ``sealed`` so the task
    table never holds it in clear) or ``exists`` (a sign-up named this number, which has an account).
    ``key`` is the gateway's idempotency key, so a retry never sends a second text; a transient
    failure is retried a few times.
    """
    from datetime import timedelta

    from django.utils.translation import gettext as _

    from motcua.integrations.messaging import adapters
    from motcua.portal import services

    if kind == "code":
        minutes = int(getattr(settings, "ACCOUNT_PHONE_VERIFICATION_TIMEOUT", 900)) // 60
        body = _("Your verification code for the public services portal is %(code)s (valid %(minutes)s minutes).") % {
            "code": services.unseal(sealed),
            "minutes": minutes,
        }
    elif kind == "exists":
        body = _(
            "Someone tried to create a public services portal account with this number, which already has one. "
            "If it was you, log in instead."
        )
    else:
        return f"skipped: unknown kind {kind!r}"
    message = adapters.Message(recipient=phone, subject="", body=body, params={}, key=key)
    try:
        provider_id = adapters.sms_sender().send(message)
    except adapters.SendError as exc:
        if exc.transient and attempt < SMS_RETRIES:
            later = send_account_sms.using(run_after=timezone.now() + timedelta(seconds=5 * attempt))
            later.enqueue(phone, kind, sealed, key, attempt + 1)
            return f"retry: {exc}"
        log.warning("account SMS %s not sent: %s", key, exc)
        return f"failed: {exc}"
    return f"sent {provider_id}"
