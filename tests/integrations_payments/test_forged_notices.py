"""Review F1: the gateway's secret comes from the environment only; a notice forged with the old built-in
"change-me", signed for another merchant, or arriving while no secret is set is refused and pays nothing."""

import pytest

from motcua.integrations.payments import services
from motcua.integrations.payments.gateway import default_gateway, signed
from motcua.integrations.payments.models import PaymentNotification, Receipt
from tests.integrations_payments.conftest import SECRET, paid_notice

pytestmark = pytest.mark.django_db


def _attempt(in_process, clerk):
    fee = services.request_fee(in_process, actor=clerk)
    payment, _url = services.start_payment(fee, return_url="http://testserver/r", ipn_url="http://testserver/i")
    return fee, payment


def _forged(payment, secret: str, **changes) -> dict:
    fields = {k: v for k, v in paid_notice(payment).items() if k != "secure_hash"}
    return signed({**fields, **changes}, secret)


def _nothing_paid(fee, payment) -> None:
    fee.refresh_from_db()
    payment.refresh_from_db()
    assert fee.status == "requested" and payment.status == "pending"
    assert not Receipt.objects.exists()
    assert not fee.dossier.events.filter(action="fee_paid").exists()


def test_a_notice_signed_with_the_old_default_secret_is_refused(client, in_process, clerk):
    fee, payment = _attempt(in_process, clerk)
    response = client.post("/payments/ipn/", _forged(payment, "change-me"))
    assert response.status_code == 400 and response.json()["RspCode"] == "97"
    _nothing_paid(fee, payment)
    assert PaymentNotification.objects.get().outcome == "rejected"


def test_a_notice_for_another_merchant_is_refused(client, in_process, clerk):
    """Correctly signed (same gateway account), but for a merchant code that is not ours."""
    fee, payment = _attempt(in_process, clerk)
    response = client.post("/payments/ipn/", _forged(payment, SECRET, merchant_code="OTHER-UNIT"))
    assert response.status_code == 400
    assert PaymentNotification.objects.get().detail == "merchant code mismatch"
    _nothing_paid(fee, payment)
    assert client.post("/payments/ipn/", paid_notice(payment)).json()["Message"] == "applied"  # ours still pays


@pytest.mark.parametrize("secret", ["", "change-me"])
def test_without_a_configured_secret_nothing_is_trusted(client, in_process, clerk, settings, secret):
    """No MOTCUA_PAYMENT_SECRET (a dev server started without one): no value is made up, every notice is
    refused — whatever key signed it — and starting a payment is refused with a message, not a 500."""
    fee, payment = _attempt(in_process, clerk)
    settings.MOTCUA_PAYMENT = {**settings.MOTCUA_PAYMENT, "secret": ""}
    assert default_gateway().config.secret == ""
    assert client.post("/payments/ipn/", _forged(payment, secret)).status_code == 400
    assert PaymentNotification.objects.get().detail.startswith("payment gateway not configured")
    _nothing_paid(fee, payment)


def test_starting_a_payment_without_a_gateway_is_a_message(in_process, clerk, settings):
    from django.core.exceptions import ValidationError

    fee = services.request_fee(in_process, actor=clerk)
    settings.MOTCUA_PAYMENT = {"base_url": "", "merchant_code": "", "secret": ""}
    with pytest.raises(ValidationError, match="Hiện chưa thể thanh toán trực tuyến"):
        services.start_payment(fee, return_url="http://testserver/r", ipn_url="http://testserver/i")


def test_no_secret_is_made_up_when_the_setting_is_absent(settings):
    del settings.MOTCUA_PAYMENT
    gateway = default_gateway()
    assert (gateway.config.secret, gateway.config.merchant_code, gateway.configured) == ("", "", False)
