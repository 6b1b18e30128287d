"""The staff "request the fee" button on the dossier page: who sees it, what it does, bad posts change nothing;
the fee states on the page (waiting, paid with the receipt link, cancelled) and the staff cancel."""

import pytest
from django.test import Client
from django.urls import reverse

from motcua.dossiers.models import DossierEvent
from motcua.integrations.payments import services
from motcua.integrations.payments.models import FeeRequest
from tests.dossiers.conftest import user

pytestmark = pytest.mark.django_db


def page(client: Client, dossier) -> str:
    response = client.get(reverse("dossiers:detail", args=[dossier.code]))
    assert response.status_code == 200
    return response.content.decode()


def staff_client(account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def test_clerk_requests_the_fee_from_the_page(in_process, clerk):
    client = staff_client(clerk)
    html = page(client, in_process)
    assert "Yêu cầu nộp phí" in html and 'id="fee-total">10000<' in html and "Lệ phí 1" in html
    response = client.post(reverse("payments:staff-request", args=[in_process.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("dossiers:detail", args=[in_process.code])
    in_process.refresh_from_db()
    assert in_process.status == "waiting_for_payment"
    fee = FeeRequest.objects.get(dossier=in_process)
    assert fee.amount == 10000 and fee.requested_by == clerk
    assert in_process.events.filter(action=DossierEvent.Action.FEE_REQUESTED, actor=clerk).count() == 1
    html = page(client, in_process)
    assert 'id="request-fee"' not in html and f'data-fee="{fee.pk}" data-status="requested"' in html
    assert "Đã yêu cầu nộp phí" in html  # the flash message
    # A second press: refused with a message, nothing more written.
    client.post(reverse("payments:staff-request", args=[in_process.pk]))
    assert FeeRequest.objects.count() == 1
    assert in_process.events.filter(action=DossierEvent.Action.FEE_REQUESTED).count() == 1


def test_officer_of_the_competent_agency_may_request(in_process):
    specialist = user("chuyenvien.lienbao")
    assert in_process.competent_agency_id == specialist.agency_id
    client = staff_client(specialist)
    assert 'id="request-fee"' in page(client, in_process)
    client.post(reverse("payments:staff-request", args=[in_process.pk]))
    assert FeeRequest.objects.filter(dossier=in_process, requested_by=specialist).exists()


def test_who_may_not_request(in_process, clerk_tamhop):
    monitor = user("giamsat.lienbao")
    client = staff_client(monitor)
    assert 'id="request-fee"' not in page(client, in_process)
    client.post(reverse("payments:staff-request", args=[in_process.pk]))
    # Out of scope: not found, not even a hint.
    outsider = staff_client(clerk_tamhop)
    assert outsider.post(reverse("payments:staff-request", args=[in_process.pk])).status_code == 404
    assert Client().post(reverse("payments:staff-request", args=[in_process.pk])).status_code == 302  # log in
    in_process.refresh_from_db()
    assert in_process.status == "in_process" and not FeeRequest.objects.exists()


def test_get_and_missing_csrf_refused(in_process, clerk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    assert client.get(reverse("payments:staff-request", args=[in_process.pk])).status_code == 405
    assert client.post(reverse("payments:staff-request", args=[in_process.pk])).status_code == 403
    assert not FeeRequest.objects.exists()


def test_no_button_without_a_fee_or_before_processing(receive, clerk, birth):
    dossier = receive()  # received, not in process; the procedure has no fee
    client = staff_client(clerk)
    assert 'id="fees"' not in page(client, dossier)
    client.post(reverse("payments:staff-request", args=[dossier.pk]))
    assert not FeeRequest.objects.exists()


def test_paid_fee_shows_its_receipt(in_process, clerk, gateway_sim, settings, django_capture_on_commit_callbacks):
    import requests

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    fee = services.request_fee(in_process, actor=clerk)
    payment, url = services.start_payment(fee, return_url="http://testserver/r/", ipn_url="http://testserver/i/")
    requests.get(url, timeout=10)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.handle_notice(gateway_sim.notice_for(payment.txn_ref, "00", 2, "GW9")) == "applied"
    html = page(staff_client(clerk), in_process)
    receipt = fee.receipts.get()
    assert 'data-status="paid"' in html and reverse("payments:receipt", args=[receipt.pk]) in html
    assert 'id="request-fee"' not in html


def test_staff_cancel_fee(in_process, clerk):
    fee = services.request_fee(in_process, actor=clerk)
    client = staff_client(clerk)
    url = reverse("payments:staff-cancel", args=[fee.pk])
    client.post(url, {"reason": "   "})
    fee.refresh_from_db()
    assert fee.status == "requested"
    assert not in_process.events.filter(action=DossierEvent.Action.FEE_CANCELLED).exists()
    client.post(url, {"reason": "Được miễn lệ phí"})
    fee.refresh_from_db()
    in_process.refresh_from_db()
    assert fee.status == "cancelled" and in_process.status == "in_process"
    event = in_process.events.get(action=DossierEvent.Action.FEE_CANCELLED)
    assert event.actor == clerk and event.data["reason"] == "Được miễn lệ phí"
    html = page(client, in_process)
    assert 'data-status="cancelled"' in html and 'id="request-fee"' in html  # may be asked again
    client.post(url, {"reason": "lần nữa"})  # already cancelled: nothing more
    assert in_process.events.filter(action=DossierEvent.Action.FEE_CANCELLED).count() == 1
