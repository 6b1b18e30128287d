"""The fee paid at the counter (cash, transfer, card at the desk): the same path as an online payment
(a paid payment row, one e-receipt with the method printed on it, the dossier back in process, a
FEE_PAID event naming the counter channel, the receipt mailed), who may record it, refusals that
change nothing, a late gateway notice for an older attempt, the staff form, and the reports."""

import shutil
import subprocess
import unicodedata
from datetime import date, timedelta

import pytest
import requests
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from motcua.dossiers.models import DossierEvent
from motcua.integrations.payments import services
from motcua.integrations.payments.models import FeeRequest, Payment, PaymentNotification, Receipt
from tests.dossiers.conftest import MONDAY, user

pytestmark = pytest.mark.django_db

FEE_PAID = DossierEvent.Action.FEE_PAID
LATER = MONDAY + timedelta(hours=2)  # the fixture receives the dossier on Monday 30/11/2026 09:00


def letters(text: str) -> str:
    """NFC text without white space: pdftotext may drop or add spaces between Vietnamese letters."""
    return "".join(unicodedata.normalize("NFC", text).split())


def pdf_text(data: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext is missing: run `make browser` (installs poppler-utils).")
    path = tmp_path / "receipt.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def staff_client(account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def page(client: Client, dossier) -> str:
    response = client.get(reverse("dossiers:detail", args=[dossier.code]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def waiting(in_process, clerk):
    """The dossier of ``in_process`` (10 000 VND) with its fee requested: it waits for payment."""
    in_process.applicant_email = "an@example.vn"
    in_process.save(update_fields=["applicant_email"])
    fee = services.request_fee(in_process, actor=clerk, now=MONDAY + timedelta(hours=1))
    in_process.refresh_from_db()
    assert in_process.status == "waiting_for_payment"
    return fee


def assert_unchanged(fee: FeeRequest) -> None:
    """A refused call wrote nothing: the fee still waits, no payment, receipt or payment event."""
    fee.refresh_from_db()
    fee.dossier.refresh_from_db()
    assert fee.status == "requested" and fee.paid_at is None
    assert fee.dossier.status == "waiting_for_payment"
    assert not Payment.objects.filter(fee_request=fee, status="paid").exists()
    assert not Receipt.objects.exists()
    assert not fee.dossier.events.filter(action=FEE_PAID).exists()


def test_cash_at_the_counter_pays_issues_receipt_and_mails_it(
    waiting, clerk, settings, django_capture_on_commit_callbacks, tmp_path
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        receipt = services.record_counter_payment(waiting, actor=clerk, method="cash", ip="203.0.113.9", now=LATER)
    waiting.refresh_from_db()
    dossier = waiting.dossier
    dossier.refresh_from_db()
    assert (waiting.status, waiting.paid_at) == ("paid", LATER)
    assert dossier.status == "in_process"
    payment = Payment.objects.get(fee_request=waiting)
    assert (payment.status, payment.channel, payment.method, payment.collected_by, payment.amount) == (
        "paid",
        "counter",
        "Tiền mặt",
        clerk,
        10000,
    )
    assert (receipt.number, receipt.display_number, receipt.method, receipt.total, receipt.payment) == (
        1,
        "0000001",
        "Tiền mặt",
        10000,
        payment,
    )
    assert receipt.payer_name == "Nguyễn Văn An" and receipt.issued_at == LATER
    event = dossier.events.get(action=FEE_PAID)
    assert (event.actor, event.actor_role, event.from_status, event.to_status) == (
        clerk,
        "clerk",
        "waiting_for_payment",
        "in_process",
    )
    assert event.data["channel"] == "counter" and event.data["method"] == "Tiền mặt"
    assert event.data["amount"] == "10000" and event.data["receipt"] == str(receipt)
    assert "txn_ref" not in event.data and event.client_address == "203.0.113.9"
    # The e-mail is a task enqueued after the commit; the immediate backend runs it here.
    assert [m.to for m in mail.outbox] == [["an@example.vn"]]
    assert mail.outbox[0].attachments[0][1].startswith(b"%PDF")
    # The receipt PDF, as served to staff, prints the method.
    response = staff_client(clerk).get(reverse("payments:receipt", args=[receipt.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = letters(pdf_text(response.content, tmp_path))
    assert letters("Hình thức thanh toán: Tiền mặt") in text
    assert "0000001" in text and letters("Nguyễn Văn An") in text and "10000" in text


@pytest.mark.parametrize(("method", "printed"), [("transfer", "Chuyển khoản"), ("card", "Thẻ")])
def test_transfer_and_card_are_printed(waiting, clerk, method, printed, tmp_path):
    from motcua.integrations.payments.rendering import receipt_pdf

    receipt = services.record_counter_payment(waiting, actor=clerk, method=method, now=LATER)
    assert receipt.method == printed
    assert letters(f"Hình thức thanh toán: {printed}") in letters(pdf_text(receipt_pdf(receipt), tmp_path))


def test_officer_of_the_competent_agency_may_collect(waiting):
    specialist = user("chuyenvien.lienbao")
    services.record_counter_payment(waiting, actor=specialist, method="card", now=LATER)
    event = waiting.dossier.events.get(action=FEE_PAID)
    assert event.actor == specialist and event.actor_role == "specialist"


def test_wrong_role_out_of_scope_or_bad_method_change_nothing(waiting, clerk, clerk_tamhop):
    with pytest.raises(PermissionDenied):
        services.record_counter_payment(waiting, actor=user("giamsat.lienbao"), method="cash")  # a monitor
    with pytest.raises(PermissionDenied):
        services.record_counter_payment(waiting, actor=clerk_tamhop, method="cash")  # another commune
    for bad in ("", "bitcoin", "Tiền mặt", None):
        with pytest.raises(ValidationError, match="hình thức nộp phí"):
            services.record_counter_payment(waiting, actor=clerk, method=bad)
    assert_unchanged(waiting)
    assert not Payment.objects.exists()


def test_second_call_is_already_paid(waiting, clerk):
    receipt = services.record_counter_payment(waiting, actor=clerk, method="cash", now=LATER)
    with pytest.raises(ValidationError, match="đã được nộp"):
        services.record_counter_payment(waiting, actor=clerk, method="cash", now=LATER)
    assert list(Receipt.objects.all()) == [receipt]
    assert Payment.objects.count() == 1
    assert waiting.dossier.events.filter(action=FEE_PAID).count() == 1


def test_fee_paid_online_first_then_counter_is_refused(waiting, clerk, gateway_sim):
    payment, url = services.start_payment(waiting, return_url="http://testserver/r/", ipn_url="http://testserver/i/")
    assert requests.get(url, timeout=10).status_code == 200  # the browser opens the gateway page
    assert services.handle_notice(gateway_sim.notice_for(payment.txn_ref, "00", 2, "GW1")) == "applied"
    with pytest.raises(ValidationError, match="đã được nộp"):
        services.record_counter_payment(waiting, actor=clerk, method="cash")
    assert Receipt.objects.count() == 1 and Payment.objects.count() == 1
    event = waiting.dossier.events.get(action=FEE_PAID)
    # The online event names its channel too (the reports read it first, then the gateway reference).
    assert event.data["channel"] == "online" and event.data["txn_ref"] == payment.txn_ref


def test_cancelled_fee_is_refused(waiting, clerk):
    services.cancel_fee(waiting, actor=clerk, reason="Được miễn lệ phí")
    with pytest.raises(ValidationError, match="không ở trạng thái chờ thanh toán"):
        services.record_counter_payment(waiting, actor=clerk, method="cash")
    waiting.refresh_from_db()
    assert waiting.status == "cancelled" and not Payment.objects.exists() and not Receipt.objects.exists()


def test_gateway_paid_notice_for_an_older_attempt_does_not_pay_twice(client, waiting, clerk, gateway_sim):
    """The citizen opened the gateway, then paid cash at the desk; the gateway's "paid" notice comes later."""
    attempt, url = services.start_payment(waiting, return_url="http://testserver/r/", ipn_url="http://testserver/i/")
    assert requests.get(url, timeout=10).status_code == 200
    receipt = services.record_counter_payment(waiting, actor=clerk, method="cash", now=LATER)  # not blocked
    answers = [
        client.post("/payments/ipn/", gateway_sim.notice_for(attempt.txn_ref, "00", 2, "GW7")).json()["Message"]
        for _ in range(2)
    ]
    assert answers == ["stale", "stale"]
    waiting.refresh_from_db()
    attempt.refresh_from_db()
    assert waiting.status == "paid" and waiting.paid_at == LATER
    assert list(Receipt.objects.all()) == [receipt]
    assert Payment.objects.filter(fee_request=waiting, status="paid").get().channel == "counter"
    # The money trail is kept (the gateway's transaction on the attempt, the notices); refund is manual.
    assert (attempt.status, attempt.gateway_trans_id) == ("failed", "GW7")
    notices = PaymentNotification.objects.filter(payment=attempt)
    assert {(n.outcome, n.detail) for n in notices} == {("stale", "fee already paid by another attempt")}
    assert waiting.dossier.events.filter(action=FEE_PAID).count() == 1


# --- the staff fee card -------------------------------------------------------------------------------


def test_form_on_the_card_collects_and_then_shows_the_receipt(waiting, clerk):
    client = staff_client(clerk)
    html = page(client, waiting.dossier)
    assert f'id="collect-fee-{waiting.pk}"' in html and "Thu tại quầy" in html
    assert '<option value="cash">Tiền mặt</option>' in html and "Chuyển khoản" in html
    url = reverse("payments:staff-counter", args=[waiting.pk])
    response = client.post(url, {"method": "cash"})
    assert response.status_code == 302
    assert response["Location"] == reverse("dossiers:detail", args=[waiting.dossier.code])
    receipt = Receipt.objects.get(fee_request=waiting)
    html = page(client, waiting.dossier)
    assert f'data-fee="{waiting.pk}" data-status="paid"' in html
    assert reverse("payments:receipt", args=[receipt.pk]) in html
    assert f'id="collect-fee-{waiting.pk}"' not in html and "nộp tại quầy · Tiền mặt" in html
    assert "Đã thu phí, lệ phí tại quầy" in html  # the flash message
    # The timeline says it in words: the fee lines asked, then the amount, method and receipt paid.
    timeline = html[html.index('class="timeline"') :]
    for label in ("Phí, lệ phí", "Số tiền (đồng)", "Hình thức thanh toán", "Biên lai điện tử"):
        assert f"<dt>{label}</dt>" in timeline, label
    assert "<dd>Tiền mặt</dd>" in timeline and f"<dd>{receipt}</dd>" in timeline
    # A second press: refused with a message, nothing more written.
    client.post(url, {"method": "cash"})
    assert "đã được nộp" in page(client, waiting.dossier)
    assert Receipt.objects.count() == 1 and waiting.dossier.events.filter(action=FEE_PAID).count() == 1


def test_form_refuses_bad_method_with_a_message(waiting, clerk):
    client = staff_client(clerk)
    client.post(reverse("payments:staff-counter", args=[waiting.pk]), {"method": "vàng"})
    assert "Hãy chọn hình thức nộp phí" in page(client, waiting.dossier)
    assert_unchanged(waiting)


def test_form_scope_role_get_and_csrf(waiting, clerk, clerk_tamhop):
    url = reverse("payments:staff-counter", args=[waiting.pk])
    # Out of scope: not found, not even a hint; a missing fee likewise.
    assert staff_client(clerk_tamhop).post(url, {"method": "cash"}).status_code == 404
    assert (
        staff_client(clerk).post(reverse("payments:staff-counter", args=[999999]), {"method": "cash"}).status_code
        == 404
    )
    # Not logged in: to the login page.
    assert Client().post(url, {"method": "cash"}).status_code == 302
    # A monitor sees the dossier but no form, and a post is refused.
    monitor = staff_client(user("giamsat.lienbao"))
    assert f'id="collect-fee-{waiting.pk}"' not in page(monitor, waiting.dossier)
    monitor.post(url, {"method": "cash"})
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(clerk)
    assert csrf.get(url).status_code == 405
    assert csrf.post(url, {"method": "cash"}).status_code == 403
    assert_unchanged(waiting)


# --- the reports --------------------------------------------------------------------------------------


def test_reports_count_it_as_paid_at_the_counter(waiting, clerk):
    from motcua.reports import selectors as reports

    services.record_counter_payment(waiting, actor=clerk, method="cash", now=LATER)
    scope = reports.resolve_scope(clerk, {})
    figures = reports.figures_between(scope, date(2026, 11, 30), date(2026, 12, 1))
    assert (figures.fees_paid, figures.paid_online) == (1, 0)
