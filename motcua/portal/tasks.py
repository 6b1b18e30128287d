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


SMS_RETRIES = 3


@task()
def send_phone_code_sms(code_id: int, sealed: str, attempt: int = 1) -> str:
    """Send one verification code by SMS through the messaging SMS adapter (outside any request).

    The gateway's idempotency key is the code row, so a retry never sends a second text. A transient
    failure is retried a few times while the code is still valid; an expired or replaced code is not sent.
    """
    from datetime import timedelta

    from django.utils.translation import gettext as _

    from motcua.integrations.messaging import adapters
    from motcua.portal import services
    from motcua.portal.models import PhoneCode

    row = PhoneCode.objects.filter(pk=code_id).first()
    if row is None or row.used_at is not None or row.expires_at <= timezone.now():
        return "skipped: used or expired"
    if PhoneCode.objects.filter(phone=row.phone, created_at__gt=row.created_at).exists():
        return "skipped: replaced by a newer code"
    code = services.unseal_code(sealed)
    minutes = services.phone_code_conf("ttl_minutes")
    body = _("Your verification code for the public services portal is %(code)s (valid %(minutes)s minutes).") % {
        "code": code,
        "minutes": minutes,
    }
    message = adapters.Message(recipient=row.phone, subject="", body=body, params={}, key=f"otp-{row.pk}")
    try:
        provider_id = adapters.sms_sender().send(message)
    except adapters.SendError as exc:
        if exc.transient and attempt < SMS_RETRIES:
            later = send_phone_code_sms.using(run_after=timezone.now() + timedelta(seconds=5 * attempt))
            later.enqueue(code_id, sealed, attempt + 1)
            return f"retry: {exc}"
        log.warning("verification SMS %s not sent: %s", code_id, exc)
        return f"failed: {exc}"
    return f"sent {provider_id}"
