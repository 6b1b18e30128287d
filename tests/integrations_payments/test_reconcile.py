"""Reconciliation and expiry (the ``payments_reconcile`` job) against the gateway simulator on 127.0.0.1:
a lost IPN is recovered by the status query exactly once, even when the IPN arrives afterwards."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from motcua import schedule
from motcua.dossiers.models import DossierEvent
from motcua.integrations.payments import services
from motcua.integrations.payments.models import FeeRequest, Payment, PaymentNotification, Receipt

pytestmark = pytest.mark.django_db

IPN = "http://testserver/payments/ipn/"
RETURN = "http://testserver/payments/return/"


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.MOTCUA_PAYMENT_RECONCILE_AFTER_MINUTES = 15
    settings.MOTCUA_PAYMENT_EXPIRE_AFTER_HOURS = 24


def pay_at_gateway(gateway_sim, fee, action: str = "pay") -> Payment:
    """Start an attempt, open the simulator's page and press its button, as the browser would."""
    payment, url = services.start_payment(fee, return_url=RETURN, ipn_url=IPN)
    assert requests.get(url, timeout=10).status_code == 200
    done = requests.post(
        f"{gateway_sim.base_url}/complete", data={"ref": payment.txn_ref, "action": action}, allow_redirects=False
    )
    assert done.status_code == 302
    return payment


def later(minutes: float):
    return timezone.now() + timedelta(minutes=minutes)


def test_lost_ipn_recovered_once_even_if_it_arrives_later(
    client, in_process, clerk, gateway_sim, django_capture_on_commit_callbacks
):
    fee = services.request_fee(in_process, actor=clerk)
    gateway_sim.behaviour["drop_ipn"] = True
    payment = pay_at_gateway(gateway_sim, fee)
    payment.refresh_from_db()
    assert payment.status == "pending" and gateway_sim.ipn_log == []

    assert services.reconcile_payments(now=later(5))["checked"] == 0  # too early to ask
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.reconcile_payments(now=later(16))
    assert counts["checked"] == 1 and counts["paid"] == 1 and gateway_sim.queries == [payment.txn_ref]
    payment.refresh_from_db()
    fee.refresh_from_db()
    in_process.refresh_from_db()
    assert payment.status == "paid" and fee.status == "paid" and in_process.status == "in_process"
    assert Receipt.objects.filter(fee_request=fee).count() == 1
    notice = PaymentNotification.objects.get(payment=payment)
    assert notice.outcome == "applied" and notice.detail == "query: paid" and notice.raw["_source"] == "query"

    # The next run has nothing to ask; the late IPN is a duplicate.
    assert services.reconcile_payments(now=later(30))["checked"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/payments/ipn/", gateway_sim.results[payment.txn_ref]).json()
    assert answer["Message"] == "duplicate"
    assert Receipt.objects.filter(fee_request=fee).count() == 1
    assert in_process.events.filter(action=DossierEvent.Action.FEE_PAID).count() == 1


def test_ipn_first_then_job_does_nothing(client, in_process, clerk, gateway_sim, django_capture_on_commit_callbacks):
    fee = services.request_fee(in_process, actor=clerk)
    with django_capture_on_commit_callbacks(execute=True):
        payment, url = services.start_payment(fee, return_url=RETURN, ipn_url=IPN)
        requests.get(url, timeout=10)
    notice = gateway_sim.notice_for(payment.txn_ref, "00", 2, "GW1")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/payments/ipn/", notice).json()["Message"] == "applied"
    assert services.reconcile_payments(now=later(60))["checked"] == 0 and gateway_sim.queries == []
    assert Receipt.objects.count() == 1


def test_failed_payment_found_by_query(in_process, clerk, gateway_sim):
    fee = services.request_fee(in_process, actor=clerk)
    gateway_sim.behaviour["drop_ipn"] = True
    payment = pay_at_gateway(gateway_sim, fee, action="cancel")
    counts = services.reconcile_payments(now=later(20))
    assert counts["failed"] == 1
    payment.refresh_from_db()
    fee.refresh_from_db()
    assert payment.status == "failed" and fee.status == "requested" and not Receipt.objects.exists()


def test_unanswered_attempt_expires_and_a_new_one_can_start(in_process, clerk, gateway_sim):
    fee = services.request_fee(in_process, actor=clerk)
    payment, url = services.start_payment(fee, return_url=RETURN, ipn_url=IPN)
    requests.get(url, timeout=10)  # the citizen opened the page and walked away
    assert services.reconcile_payments(now=later(20))["expired"] == 0
    payment.refresh_from_db()
    assert payment.status == "pending"
    counts = services.reconcile_payments(now=later(25 * 60))
    assert counts["expired"] == 1 and counts["paid"] == 0
    payment.refresh_from_db()
    fee.refresh_from_db()
    in_process.refresh_from_db()
    assert payment.status == "expired" and fee.status == "requested"
    assert in_process.status == "waiting_for_payment"
    again, _url = services.start_payment(fee, return_url=RETURN, ipn_url=IPN)
    assert again.status == "pending" and Payment.objects.filter(fee_request=fee).count() == 2
    assert services.reconcile_payments(now=later(26 * 60))["expired"] == 1  # only the new one is still pending


def test_gateway_down_or_forged_answer_changes_nothing(in_process, clerk, gateway_sim, settings):
    fee = services.request_fee(in_process, actor=clerk)
    gateway_sim.behaviour["drop_ipn"] = True
    payment = pay_at_gateway(gateway_sim, fee)
    gateway_sim.secret = "someone-else"  # the answers no longer carry our key
    counts = services.reconcile_payments(now=later(20))
    assert counts["errors"] == 1 and counts["paid"] == 0
    settings.MOTCUA_PAYMENT = {**settings.MOTCUA_PAYMENT, "base_url": "http://127.0.0.1:9", "timeout": 2}
    assert services.reconcile_payments(now=later(20))["errors"] == 1
    payment.refresh_from_db()
    fee.refresh_from_db()
    assert payment.status == "pending" and fee.status == FeeRequest.Status.REQUESTED
    assert not PaymentNotification.objects.exists() and not Receipt.objects.exists()


def test_the_job_is_scheduled_and_runs(in_process, clerk, gateway_sim):
    from motcua.integrations.models import JobRun
    from motcua.integrations.payments import tasks

    entry = schedule.by_name("payments_reconcile")
    assert entry is not None and entry.task == "motcua.integrations.payments.tasks.payments_reconcile"
    fee = services.request_fee(in_process, actor=clerk)
    gateway_sim.behaviour["drop_ipn"] = True
    pay_at_gateway(gateway_sim, fee)
    Payment.objects.update(created_at=timezone.now() - timedelta(minutes=20))
    result = tasks.payments_reconcile.enqueue()
    assert "paid 1" in result.return_value
    fee.refresh_from_db()
    assert fee.status == "paid" and JobRun.objects.filter(job__name="payments_reconcile").count() == 1
