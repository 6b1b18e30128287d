"""The citizen's dossier page leads to the payment: the fee due with its "Pay online" link, then the e-receipt.
Another citizen sees none of it."""

import pytest
import requests

from motcua.integrations.payments import services
from motcua.org.models import Role, User, UserRole
from motcua.portal.models import DossierOwner

pytestmark = pytest.mark.django_db

IPN = "http://testserver/payments/ipn/"
RETURN = "http://testserver/payments/return/"


def citizen(email: str) -> User:
    user = User.objects.create_user(email, "citizen-pass-2026", full_name="Nguyễn Văn An")
    UserRole.objects.create(user=user, role=Role.CITIZEN)
    return user


def test_the_citizen_page_shows_the_fee_due_its_pay_link_then_the_receipt(client, in_process, clerk, gateway_sim):
    owner, stranger = citizen("an@example.vn"), citizen("binh@example.vn")
    DossierOwner.objects.create(dossier=in_process, user=owner)
    page_url = f"/my/{in_process.pk}/"
    client.force_login(owner)
    assert 'id="fees"' not in client.get(page_url).content.decode()  # nothing asked yet

    fee = services.request_fee(in_process, actor=clerk)
    html = client.get(page_url).content.decode()
    assert 'id="fees"' in html and f'href="/payments/fees/{fee.pk}/"' in html and "Thanh toán trực tuyến" in html

    payment, url = services.start_payment(fee, return_url=RETURN, ipn_url=IPN)
    assert requests.get(url, timeout=10).status_code == 200
    assert client.post(IPN, gateway_sim.notice_for(payment.txn_ref, "00", 1, "GW1")).status_code == 200
    receipt = fee.receipts.get()
    html = client.get(page_url).content.decode()
    assert f'href="/payments/fees/{fee.pk}/"' not in html  # paid: no second payment offered
    assert f'href="/payments/receipts/{receipt.pk}.pdf"' in html and receipt.display_number in html

    client.force_login(stranger)
    assert client.get(page_url).status_code == 404
