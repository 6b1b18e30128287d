"""The nightly clean-up of abandoned portal drafts (motcua.portal.tasks, job ``draft_cleanup``)."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django.utils.module_loading import import_string

from motcua import schedule
from motcua.dossiers import services
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier, DossierDocument, DossierEvent
from motcua.portal.models import DossierOwner
from motcua.portal.tasks import delete_expired_drafts
from tests.dossiers.conftest import FORM, LIENBAO, applicant, pdf, stored_files

pytestmark = pytest.mark.django_db


def draft(citizen, proc):
    return services.save_draft(
        citizen,
        procedure_code=proc.code,
        agency=LIENBAO,
        applicant=applicant(),
        form_data=FORM,
        documents=[{"component": c.pk, "file": pdf()} for c in proc.components[:2]],
    )


def test_expired_drafts_go_with_their_files_and_nothing_else(
    citizen, other_citizen, online_birth, media, django_capture_on_commit_callbacks
):
    old = draft(citizen, online_birth)
    sent = services.submit_online(other_citizen, draft(other_citizen, online_birth))
    assert len(stored_files(media)) == 4
    # No event row exists for a draft (the clean-up relies on it); the submitted one has one.
    assert not DossierEvent.objects.filter(dossier=old).exists() and sent.events.exists()

    # 29 days later nothing has expired yet.
    assert delete_expired_drafts(now=timezone.now() + timedelta(days=29)) == (0, 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert delete_expired_drafts(now=timezone.now() + timedelta(days=31)) == (1, 0)
    assert not Dossier.objects.filter(pk=old.pk).exists()
    assert not DossierOwner.objects.filter(dossier_id=old.pk).exists()
    assert not DossierDocument.objects.filter(dossier_id=old.pk).exists()
    # The submitted dossier and its two scans stay.
    assert Dossier.objects.get(pk=sent.pk).status == Status.SUBMITTED_ONLINE
    assert len(stored_files(media)) == 2


@override_settings(MOTCUA_DRAFT_MAX_AGE_DAYS=5)
def test_the_age_is_a_setting_and_a_draft_with_events_is_kept(citizen, online_birth, media):
    kept = draft(citizen, online_birth)
    DossierEvent.objects.create(
        dossier=kept, action=DossierEvent.Action.SUBMITTED_ONLINE, at=timezone.now(), to_status=Status.DRAFT
    )
    gone = draft(citizen, online_birth)
    assert delete_expired_drafts(now=timezone.now() + timedelta(days=4)) == (0, 0)
    assert delete_expired_drafts(now=timezone.now() + timedelta(days=6)) == (1, 1)
    assert Dossier.objects.filter(pk=kept.pk).exists() and not Dossier.objects.filter(pk=gone.pk).exists()


def test_the_jobs_are_registered():
    for name in ("draft_cleanup", "daily_digest", "messages_resend_due"):
        entry = schedule.by_name(name)
        assert entry is not None
        assert import_string(entry.task).name == entry.task.rsplit(".", 1)[1]
    # The real task body, run by hand as the desk does (through the slot guard).
    from motcua.portal.tasks import draft_cleanup

    message = draft_cleanup.func(None, manual=True)
    assert message == "0 drafts deleted, 0 kept (they have events or references)"
    from motcua.integrations.messaging.tasks import messages_resend_due

    assert messages_resend_due.func(None, manual=True) == "0 messages re-enqueued"
