"""notify() by consent, sent by tasks after the commit; simulators failing delay but lose nothing;
Zalo token rotation and SMS fallback; templates with bad syntax refused."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from motcua.dossiers.models import Dossier
from motcua.integrations.messaging import services
from motcua.integrations.messaging.models import Attempt, MessageTemplate, Outgoing, ZaloToken
from tests.dossiers.conftest import applicant

pytestmark = pytest.mark.django_db


def _received(receive, django_capture_on_commit_callbacks, **consent) -> Dossier:
    """Receive at the counter; the RECEIVED event creates the messages after the commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return receive(applicant=applicant(**consent))


def test_defaults_seeded_in_vietnamese():
    assert MessageTemplate.objects.count() == 18
    sms = MessageTemplate.objects.get(event="received", channel="sms")
    assert "tiếp nhận" in sms.body


def test_received_event_creates_messages_by_consent(receive, django_capture_on_commit_callbacks, sms_sim):
    dossier = _received(receive, django_capture_on_commit_callbacks, accepts_sms=True, accepts_zalo=False)
    rows = {m.channel: m for m in dossier.messages.all()}
    assert set(rows) == {"email", "sms"}
    assert dossier.code in rows["sms"].body and "Hẹn trả kết quả" in rows["sms"].body
    assert rows["email"].subject == f"Hồ sơ {dossier.code} đã được tiếp nhận"
    assert sms_sim.requests == []  # nothing left before a worker ran
    # The same event again creates nothing new (idempotency key from the event).
    event = dossier.events.get(action="received")
    assert services.notify(dossier, "received", ref=str(event.pk)) == []
    assert dossier.messages.count() == 2


def test_no_consent_no_message(receive, django_capture_on_commit_callbacks):
    dossier = _received(receive, django_capture_on_commit_callbacks, accepts_sms=False, email="")
    assert not dossier.messages.exists()


def test_rolled_back_change_sends_nothing(receive, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                receive()
                raise RuntimeError("rollback")
        except RuntimeError:
            pass
    assert callbacks == [] and not Outgoing.objects.exists()


def test_sms_gateway_failing_delays_but_loses_nothing(receive, django_capture_on_commit_callbacks, sms_sim, drain):
    sms_sim.fail_next = 4
    dossiers = [
        _received(receive, django_capture_on_commit_callbacks, accepts_sms=True, email="", phone=f"091234567{i}")
        for i in range(3)
    ]
    drain()
    sms = Outgoing.objects.filter(channel="sms")
    assert sms.count() == 3 and set(sms.values_list("status", flat=True)) == {"sent"}
    assert set(sms_sim.delivered) == set(sms.values_list("idempotency_key", flat=True))
    assert Attempt.objects.filter(ok=False).count() == 4  # every failure recorded
    assert sum(m.attempts for m in sms) == 3 + 4
    assert {d.pk for d in dossiers} == set(sms.values_list("dossier_id", flat=True))


def test_zalo_failing_then_refresh_then_sent(
    receive, django_capture_on_commit_callbacks, zalo_sim, sms_sim, zalo_token, drain
):
    zalo_sim.fail_next = 2  # the token endpoint and the API are down for a while
    dossier = _received(receive, django_capture_on_commit_callbacks, accepts_sms=False, accepts_zalo=True, email="")
    drain()
    zalo = dossier.messages.get(channel="zalo")
    assert zalo.status == "sent" and zalo.attempts == 3
    assert list(zalo_sim.delivered) == [zalo.idempotency_key]
    assert zalo_sim.delivered[zalo.idempotency_key]["phone"] == "84912345678"
    token = ZaloToken.objects.get()
    assert token.refresh_token != "rt-initial" and token.refresh_token in zalo_sim.refresh_tokens
    assert sms_sim.requests == []


def test_zalo_expired_token_minus_124_refreshes_once(
    receive, django_capture_on_commit_callbacks, zalo_sim, zalo_token, drain
):
    dossier = _received(receive, django_capture_on_commit_callbacks, accepts_sms=False, accepts_zalo=True, email="")
    drain()
    calls = zalo_sim.refresh_calls
    zalo_sim.expire_tokens()  # Zalo revokes the token before its announced expiry: -124
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(dossier, "result_ready", ref="x")
    drain()
    assert zalo_sim.refresh_calls == calls + 1
    assert dossier.messages.get(event="result_ready").status == "sent"


def test_no_zalo_account_falls_back_to_sms(
    receive, django_capture_on_commit_callbacks, zalo_sim, sms_sim, zalo_token, drain
):
    zalo_sim.no_zalo.add("84912345678")
    dossier = _received(receive, django_capture_on_commit_callbacks, accepts_sms=False, accepts_zalo=True, email="")
    drain()
    statuses = dict(dossier.messages.values_list("channel", "status"))
    assert statuses == {"zalo": "fell_back", "sms": "sent"}
    assert len(sms_sim.delivered) == 1


def test_fallback_does_not_duplicate_consented_sms(
    receive, django_capture_on_commit_callbacks, zalo_sim, sms_sim, zalo_token, drain
):
    zalo_sim.no_zalo.add("84912345678")
    dossier = _received(receive, django_capture_on_commit_callbacks, accepts_sms=True, accepts_zalo=True, email="")
    drain()
    assert dossier.messages.filter(channel="sms").count() == 1 and len(sms_sim.delivered) == 1


def test_permanent_error_stops_retrying(receive, django_capture_on_commit_callbacks, sms_sim, drain):
    dossier = _received(receive, django_capture_on_commit_callbacks, accepts_sms=True, email="", phone="0912345678")
    Outgoing.objects.filter(dossier=dossier).update(recipient="12")  # the gateway answers 108 bad phone
    drain()
    row = dossier.messages.get()
    assert row.status == "failed" and row.attempts == 1 and "108" in row.last_error


def test_email_sent_by_task(receive, django_capture_on_commit_callbacks, drain):
    dossier = _received(receive, django_capture_on_commit_callbacks, accepts_sms=False)
    drain()
    assert [m.to for m in mail.outbox] == [[dossier.applicant_email]]
    assert dossier.code in mail.outbox[0].subject


def test_template_with_bad_syntax_refused(admin_client):
    template = MessageTemplate.objects.get(event="received", channel="sms")
    before = template.body
    for bad in ("{% if code %}no end", "{% load os %}", "{{ code|nosuchfilter }}", "{% include 'x.html' %}"):
        response = admin_client.post(
            f"/admin/messaging/messagetemplate/{template.pk}/change/",
            {"event": "received", "channel": "sms", "subject": "", "body": bad, "zns_template_id": "", "active": "on"},
        )
        assert response.status_code == 200, bad  # the form again, with the error
        assert "errornote" in response.content.decode() or "errorlist" in response.content.decode()
        template.refresh_from_db()
        assert template.body == before
    with pytest.raises(ValidationError):
        template.body = "{% for x in y %}"
        services.save_template(template)
    template.refresh_from_db()
    assert template.body == before
    ok = admin_client.post(
        f"/admin/messaging/messagetemplate/{template.pk}/change/",
        {"event": "received", "channel": "sms", "subject": "", "body": "Hồ sơ {{ code }} OK", "active": "on"},
    )
    assert ok.status_code == 302
    template.refresh_from_db()
    assert template.body == "Hồ sơ {{ code }} OK"


def test_template_cannot_reach_objects(receive, django_capture_on_commit_callbacks):
    MessageTemplate.objects.filter(event="received", channel="email").update(
        body="{{ code }}|{{ dossier.applicant_id_number }}|{{ settings.SECRET_KEY }}"
    )
    dossier = _received(receive, django_capture_on_commit_callbacks, accepts_sms=False)
    assert dossier.messages.get(channel="email").body == f"{dossier.code}||"


def test_a_message_whose_worker_died_while_sending_is_sent_later_once(
    receive, django_capture_on_commit_callbacks, sms_sim, drain
):
    from datetime import timedelta

    from django.utils import timezone

    dossier = _received(receive, django_capture_on_commit_callbacks, accepts_sms=True, email="")
    row = dossier.messages.get()
    # What a worker killed during the provider call leaves behind: claimed, never finished.
    Outgoing.objects.filter(pk=row.pk).update(
        status="sending", attempts=1, next_attempt_at=timezone.now() + services.SENDING_TIMEOUT
    )
    # Its task run again (a redelivery) finds it claimed: nothing is sent twice meanwhile.
    assert services.send_outgoing(row.pk) == "sending" and not sms_sim.delivered
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resend_due() == 0  # before its deadline the attempt may still be running
    later = timezone.now() + services.SENDING_TIMEOUT + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resend_due(now=later) == 1
    drain()
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 2 and list(sms_sim.delivered) == [row.idempotency_key]
    assert list(row.attempt_log.values_list("ok", "detail")) == [
        (False, services.INTERRUPTED),
        (True, f"sent {row.provider_id}"),
    ]
