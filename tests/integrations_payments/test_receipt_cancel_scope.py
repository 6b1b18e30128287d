"""F15: an e-receipt is cancelled only by the issuing agency's fee handlers, and the cancellation
is an event of the dossier, shown on its timeline in Vietnamese."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from motcua.api import services as token_services
from motcua.dossiers.models import DossierEvent
from motcua.integrations.payments import services
from motcua.integrations.payments.models import Receipt
from tests.dossiers.conftest import user

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipt(in_process, clerk) -> Receipt:
    """Liên Bảo's desk collected the fee at the counter and issued the e-receipt."""
    fee = services.request_fee(in_process, actor=clerk)
    return services.record_counter_payment(fee, actor=clerk, method="cash")


def api(local: str) -> Client:
    _token, plaintext = token_services.issue_token(user(local), "tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_ACCEPT_LANGUAGE="vi")


def cancel(client: Client, receipt: Receipt, reason: str = "Sai tên người nộp"):
    return client.post(
        f"/api/v1/payments/receipts/{receipt.pk}/cancel", {"reason": reason}, content_type="application/json"
    )


def events(receipt: Receipt):
    return DossierEvent.objects.filter(dossier=receipt.fee_request.dossier, action="receipt_cancelled")


@pytest.mark.parametrize("local", ["motcua.vinhyen", "lanhdao.vinhyen", "chuyenvien.vinhyen", "motcua.tinh"])
def test_staff_of_the_subtree_outside_the_issuing_agency_cannot_cancel(receipt, local):
    response = cancel(api(local), receipt)
    assert response.status_code in (403, 404), response.content
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.ISSUED and receipt.cancelled_by is None
    assert not events(receipt).exists()


def test_the_service_refuses_with_a_vietnamese_message(receipt):
    from django.utils import translation

    with translation.override("vi"), pytest.raises(PermissionDenied, match="Chỉ cơ quan đã phát hành"):
        services.cancel_receipt(receipt, actor=user("motcua.vinhyen"), reason="x")


def test_the_issuing_desk_cancels_and_the_timeline_shows_it(receipt, clerk):
    dossier = receipt.fee_request.dossier
    dossier.refresh_from_db()
    status = dossier.status
    response = cancel(api("motcua.lienbao"), receipt)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    event = events(receipt).get()
    assert (event.actor, event.actor_role, event.agency) == (clerk, "clerk", clerk.agency)
    assert event.data["reason"] == "Sai tên người nộp" and event.data["receipt"] == str(receipt)
    assert event.from_status == event.to_status == status
    dossier.refresh_from_db()
    assert dossier.status == status

    page = Client(HTTP_ACCEPT_LANGUAGE="vi")
    page.force_login(clerk)
    html = page.get(reverse("dossiers:detail", args=[dossier.code])).content.decode()
    assert "đã hủy biên lai điện tử" in html.lower() and "Sai tên người nộp" in html

    # A second cancellation is refused and writes nothing more.
    assert cancel(api("motcua.lienbao"), receipt).status_code in (409, 422)
    assert events(receipt).count() == 1
