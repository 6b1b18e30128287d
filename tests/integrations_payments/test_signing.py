"""The collector signs the e-receipt with their certificate (documents signing); the signed PDF is served."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from motcua.documents.models import DocumentSignature
from motcua.documents.verification import verify_pdf
from motcua.dossiers import services as dossier_services
from motcua.integrations.payments import services
from motcua.integrations.payments.gateway import signed
from motcua.integrations.payments.models import Receipt
from motcua.org import demo as org_demo
from motcua.org.models import Role, User
from tests.documents.conftest import (  # noqa: F401  (fixtures)
    _demo_module,
    _documents_settings,
    _fresh_calendars,
    clerk,
    demo_org,
    demo_pki,
    dossier,
    org,
    pki_files,
)
from tests.integrations_payments.conftest import SECRET, set_fees

pytestmark = pytest.mark.django_db


def test_collector_signs_receipt(settings, client, dossier, clerk, demo_pki):  # noqa: F811
    settings.MOTCUA_PAYMENT = {"base_url": "http://127.0.0.1:9", "merchant_code": "MOTCUA", "secret": SECRET}
    set_fees(dossier.procedure_version, [Decimal(20000)])
    dossier_services.start_processing(dossier, actor=clerk)
    fee = services.request_fee(dossier, actor=clerk)
    payment, _url = services.start_payment(fee, return_url="http://x/r", ipn_url="http://x/i")
    notice = {
        "merchant_code": "MOTCUA",
        "merchant_trans_id": payment.txn_ref,
        "net_cost": "20000",
        "trans_id": "GW",
        "response_code": "00",
        "method": "QR",
        "seq": "2",
    }
    assert services.handle_notice(signed(notice, SECRET)) == "applied"
    receipt = Receipt.objects.get()
    collector = User.objects.get(email=org_demo.demo_email(Role.DOCUMENT_CLERK, "lienbao"))
    services.sign_receipt(receipt, actor=collector)
    assert receipt.signed_document is not None
    assert DocumentSignature.objects.filter(document=receipt.signed_document).count() == 1
    with pytest.raises(ValidationError):
        services.sign_receipt(receipt, actor=collector)
    client.force_login(clerk)
    data = client.get(f"/payments/receipts/{receipt.pk}.pdf").content
    report = verify_pdf(data, trust_roots=[])
    assert report.signatures, report.message
