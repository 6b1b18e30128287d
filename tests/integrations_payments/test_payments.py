"""Fee request, IPN exactly once (repeated, out of order), bad checksums, retries, receipts."""

import logging
from decimal import Decimal
from urllib.parse import parse_qsl, urlparse

import pytest
import requests
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from motcua.dossiers.models import Dossier, DossierEvent
from motcua.integrations.payments import services
from motcua.integrations.payments.gateway import signed
from motcua.integrations.payments.models import FeeRequest, Payment, PaymentNotification, Receipt
from motcua.integrations.payments.rendering import receipt_html, receipt_pdf
from motcua.org.models import User
from tests.integrations_payments.conftest import SECRET

pytestmark = pytest.mark.django_db

IPN = "http://testserver/payments/ipn/"
RETURN = "http://testserver/payments/return/"


def _open_order(gateway_sim, fee):
    """Start an attempt and open the simulator's payment page, as the browser would."""
    payment, url = services.start_payment(fee, return_url=RETURN, ipn_url=IPN)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and payment.txn_ref in page.text
    return payment


def test_request_fee_moves_dossier_and_copies_lines(in_process, clerk):
    fee = services.request_fee(in_process, actor=clerk)
    in_process.refresh_from_db()
    assert in_process.status == "waiting_for_payment"
    assert fee.amount == 10000 and [line["amount"] for line in fee.lines] == ["8000", "2000"]
    event = in_process.events.get(action=DossierEvent.Action.FEE_REQUESTED)
    assert event.actor == clerk and event.data["amount"] == "10000"
    with pytest.raises(Exception):  # noqa: B017 - IllegalTransition: already waiting
        services.request_fee(in_process, actor=clerk)
    assert FeeRequest.objects.filter(dossier=in_process).count() == 1


def test_no_fee_refused_nothing_saved(receive, clerk, birth):
    from motcua.dossiers import services as dossier_services

    dossier = receive()
    dossier_services.start_processing(dossier, actor=clerk)
    with pytest.raises(ValidationError, match="không có phí, lệ phí"):
        services.request_fee(dossier, actor=clerk)
    dossier.refresh_from_db()
    assert dossier.status == "in_process" and not FeeRequest.objects.exists()


def test_other_agency_cannot_request(in_process, clerk_tamhop):
    with pytest.raises(PermissionDenied):
        services.request_fee(in_process, actor=clerk_tamhop)
    assert not FeeRequest.objects.exists()


def test_ipn_three_times_out_of_order_pays_once(
    client, in_process, clerk, gateway_sim, django_capture_on_commit_callbacks, settings
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    in_process.applicant_email = "an@example.vn"
    in_process.save(update_fields=["applicant_email"])
    fee = services.request_fee(in_process, actor=clerk)
    payment = _open_order(gateway_sim, fee)
    paid = gateway_sim.notice_for(payment.txn_ref, "00", 2, "GW1")
    pending = gateway_sim.notice_for(payment.txn_ref, "01", 1, "GW1")
    answers = []
    with django_capture_on_commit_callbacks(execute=True):
        for notice in (paid, pending, paid, paid):  # repeated and a stale one after the paid
            answers.append(client.post("/payments/ipn/", notice).json()["Message"])
    assert answers == ["applied", "stale", "duplicate", "duplicate"]
    fee.refresh_from_db()
    in_process.refresh_from_db()
    assert fee.status == "paid" and in_process.status == "in_process"
    assert Receipt.objects.filter(fee_request=fee).count() == 1
    assert in_process.events.filter(action=DossierEvent.Action.FEE_PAID).count() == 1
    assert PaymentNotification.objects.filter(payment=payment).count() == 4
    receipt = Receipt.objects.get()
    assert (receipt.number, receipt.total, receipt.method, receipt.payer_name) == (
        1,
        10000,
        "ATM/NAPAS",
        "Nguyễn Văn An",
    )
    # The receipt e-mail is a task enqueued after the commit; the immediate backend runs it here.
    assert [m.to for m in mail.outbox] == [["an@example.vn"]]
    assert mail.outbox[0].attachments[0][1].startswith(b"%PDF")


def test_wrong_checksum_rejected_and_logged(client, in_process, clerk, gateway_sim, caplog):
    fee = services.request_fee(in_process, actor=clerk)
    payment = _open_order(gateway_sim, fee)
    notice = gateway_sim.notice_for(payment.txn_ref, "00", 2, "GW1")
    forged = {**notice, "secure_hash": "0" * 64}
    altered = {**notice, "net_cost": "1"}  # hash no longer matches
    other_key = signed({k: v for k, v in notice.items() if k != "secure_hash"}, "not-the-secret")
    with caplog.at_level(logging.WARNING, logger="motcua.payments"):
        for bad in (forged, altered, other_key, {}):
            response = client.post("/payments/ipn/", bad)
            assert response.status_code == 400
    assert "rejected" in caplog.text
    assert PaymentNotification.objects.filter(outcome="rejected").count() == 4
    fee.refresh_from_db()
    payment.refresh_from_db()
    assert fee.status == "requested" and payment.status == "pending" and not Receipt.objects.exists()


def test_signed_but_wrong_amount_or_unknown_ref_rejected(client, in_process, clerk, gateway_sim):
    fee = services.request_fee(in_process, actor=clerk)
    payment = _open_order(gateway_sim, fee)
    notice = dict(gateway_sim.notice_for(payment.txn_ref, "00", 2, "GW1"))
    notice.pop("secure_hash")
    assert client.post("/payments/ipn/", signed({**notice, "net_cost": "10"}, SECRET)).status_code == 400
    assert client.post("/payments/ipn/", signed({**notice, "merchant_trans_id": "NOPE"}, SECRET)).status_code == 400
    fee.refresh_from_db()
    assert fee.status == "requested" and not Receipt.objects.exists()


def test_failed_payment_leaves_waiting_then_retry_pays(client, in_process, clerk, gateway_sim):
    fee = services.request_fee(in_process, actor=clerk)
    first = _open_order(gateway_sim, fee)
    assert client.post("/payments/ipn/", gateway_sim.notice_for(first.txn_ref, "24", 2, "GW1")).status_code == 200
    first.refresh_from_db()
    fee.refresh_from_db()
    in_process.refresh_from_db()
    assert first.status == "failed" and fee.status == "requested" and in_process.status == "waiting_for_payment"
    second = _open_order(gateway_sim, fee)
    client.post("/payments/ipn/", gateway_sim.notice_for(second.txn_ref, "00", 2, "GW2"))
    # A late success of the failed first attempt does not pay twice.
    late = client.post("/payments/ipn/", gateway_sim.notice_for(first.txn_ref, "00", 3, "GW1")).json()
    assert late["Message"] == "duplicate" or late["Message"] == "stale"
    fee.refresh_from_db()
    assert fee.status == "paid" and Receipt.objects.count() == 1
    assert Payment.objects.filter(fee_request=fee, status="paid").get() == Payment.objects.get(pk=second.pk)


def test_cancel_receipt_keeps_number(client, in_process, clerk, gateway_sim):
    fee = services.request_fee(in_process, actor=clerk)
    payment = _open_order(gateway_sim, fee)
    client.post("/payments/ipn/", gateway_sim.notice_for(payment.txn_ref, "00", 2, "GW1"))
    receipt = Receipt.objects.get()
    with pytest.raises(ValidationError, match="lý do hủy"):
        services.cancel_receipt(receipt, actor=clerk, reason="   ")
    with pytest.raises(PermissionDenied):
        services.cancel_receipt(receipt, actor=User.objects.get(email="motcua.tamhop@vinhphuc.gov.vn"), reason="x")
    services.cancel_receipt(receipt, actor=clerk, reason="Sai tên người nộp")
    receipt.refresh_from_db()
    assert (receipt.status, receipt.number, receipt.cancelled_by, receipt.cancel_reason) == (
        "cancelled",
        1,
        clerk,
        "Sai tên người nộp",
    )
    assert receipt.cancelled_at is not None
    with pytest.raises(ValidationError):
        services.cancel_receipt(receipt, actor=clerk, reason="again")
    assert "ĐÃ HỦY" in receipt_html(receipt) and "0000001" in receipt_html(receipt)
    assert receipt_pdf(receipt).startswith(b"%PDF")


def test_receipt_numbers_run_per_series(receive, clerk, birth, gateway_sim, client):
    from motcua.dossiers import services as dossier_services
    from tests.integrations_payments.conftest import set_fees

    set_fees(birth.version, [Decimal(5000)])
    numbers = []
    for _ in range(3):
        dossier = receive()
        dossier_services.start_processing(dossier, actor=clerk)
        fee = services.request_fee(dossier, actor=clerk)
        payment = _open_order(gateway_sim, fee)
        client.post("/payments/ipn/", gateway_sim.notice_for(payment.txn_ref, "00", 2, "GW"))
        numbers.append(Receipt.objects.get(fee_request=fee).number)
    assert numbers == [1, 2, 3]


def test_citizen_pages_refuse_strangers(client, in_process, clerk, clerk_tamhop, gateway_sim):
    fee = services.request_fee(in_process, actor=clerk)
    client.force_login(clerk_tamhop)
    assert client.get(f"/payments/fees/{fee.pk}/").status_code == 404
    assert client.post(f"/payments/fees/{fee.pk}/").status_code == 404
    assert not Payment.objects.exists()
    client.force_login(clerk)
    page = client.get(f"/payments/fees/{fee.pk}/")
    assert page.status_code == 200 and "10000" in page.content.decode()
    start = client.post(f"/payments/fees/{fee.pk}/")
    assert start.status_code == 302
    target = urlparse(start["Location"])
    assert f"{target.scheme}://{target.netloc}" == gateway_sim.base_url
    assert dict(parse_qsl(target.query))["net_cost"] == "10000"


def test_api_request_fee(client, in_process, clerk, clerk_tamhop):
    client.force_login(clerk_tamhop)
    assert client.post(f"/api/v1/payments/dossiers/{in_process.pk}/fee").status_code == 404
    client.force_login(clerk)
    response = client.post(f"/api/v1/payments/dossiers/{in_process.pk}/fee")
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == 10000
    again = client.post(f"/api/v1/payments/dossiers/{in_process.pk}/fee")
    assert again.status_code == 409
    assert Dossier.objects.get(pk=in_process.pk).status == "waiting_for_payment"


def test_api_cancel_receipt(client, in_process, clerk, clerk_tamhop, gateway_sim):
    fee = services.request_fee(in_process, actor=clerk)
    payment = _open_order(gateway_sim, fee)
    client.post("/payments/ipn/", gateway_sim.notice_for(payment.txn_ref, "00", 2, "GW1"))
    receipt = Receipt.objects.get()
    url = f"/api/v1/payments/receipts/{receipt.pk}/cancel"
    client.force_login(clerk_tamhop)
    assert client.post(url, {"reason": "x"}, content_type="application/json").status_code == 404
    client.force_login(clerk)
    empty = client.post(url, {"reason": " "}, content_type="application/json")
    assert empty.status_code == 422 and "lý do hủy" in empty.json()["detail"] + str(empty.json()["errors"])
    assert client.post(url, {}, content_type="application/json").status_code == 422
    ok = client.post(url, {"reason": "Thu nhầm"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "cancelled" and ok.json()["number"] == "0000001"


def test_desk_pages(admin_client, in_process, clerk, gateway_sim, client):
    fee = services.request_fee(in_process, actor=clerk)
    payment = _open_order(gateway_sim, fee)
    client.post("/payments/ipn/", gateway_sim.notice_for(payment.txn_ref, "00", 2, "GW1"))
    for model in ("receipt", "feerequest", "payment", "paymentnotification", "collectingunit"):
        assert admin_client.get(f"/admin/payments/{model}/").status_code == 200, model
