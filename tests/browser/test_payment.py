"""A citizen pays a fee through the simulated gateway in Chromium: abandons once, retries, pays,
and sees the fee paid and the e-receipt; the dossier is back in process; axe-core on our pages."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from motcua.dossiers import services as dossier_services
from motcua.integrations.payments import services
from motcua.integrations.payments.models import FeeRequest, Payment, Receipt
from motcua.integrations.payments.simulator import GatewaySimulator
from motcua.org.models import Role, User, UserRole
from tests.dossiers.conftest import FORM, MONDAY, applicant, make_procedure
from tests.integrations_payments.conftest import set_fees

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SECRET = "browser-secret"


def check_accessibility(page) -> None:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: {json.dumps(bad, ensure_ascii=False)}"


@pytest.fixture
def gateway(settings):
    sim = GatewaySimulator(secret=SECRET).start()
    settings.MOTCUA_PAYMENT = {"base_url": sim.base_url, "merchant_code": "MOTCUA", "secret": SECRET}
    yield sim
    sim.stop()


@pytest.fixture
def waiting(live_server, settings):
    """A citizen's dossier waiting for payment of 8 000 + 2 000 VND (built here, part A builds the portal)."""
    from motcua.org import demo
    from motcua.portal.models import DossierOwner

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    demo.load()
    proc = make_procedure("1.001193")
    set_fees(proc.version, [Decimal(8000), Decimal(2000)])
    clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
    dossier = dossier_services.receive_at_counter(
        clerk=clerk,
        procedure_code=proc.code,
        applicant=applicant(),
        form_data=FORM,
        documents=proc.documents(),
        now=MONDAY,
    )
    dossier_services.start_processing(dossier, actor=clerk)
    fee = services.request_fee(dossier, actor=clerk)
    citizen = User.objects.create_user("an@example.vn", "citizen-pass-2026", full_name="Nguyễn Văn An")
    UserRole.objects.create(user=citizen, role=Role.CITIZEN)
    DossierOwner.objects.create(dossier=dossier, user=citizen)
    return fee, citizen


def test_citizen_pays_after_an_abandoned_attempt(page, live_server, gateway, waiting):
    fee, citizen = waiting
    client = Client()
    client.force_login(citizen)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])

    page.goto(f"{live_server.url}/payments/fees/{fee.pk}/")
    expect(page.locator("#total")).to_have_text("10000")
    check_accessibility(page)
    page.get_by_role("button", name="Thanh toán trực tuyến").click()
    expect(page.locator("#amount")).to_have_text("10000")  # the gateway's page
    page.get_by_role("button", name="Hủy").click()  # abandon
    expect(page.get_by_role("alert")).to_contain_text("chưa hoàn tất")
    check_accessibility(page)
    fee.refresh_from_db()
    assert fee.status == "requested" and fee.dossier.status == "waiting_for_payment"

    page.get_by_role("link", name="Thanh toán lại").click()
    page.get_by_role("button", name="Thanh toán trực tuyến").click()
    page.get_by_role("button", name="Thanh toán", exact=True).click()
    expect(page.locator("#fee-status")).to_have_text("đã thanh toán")
    link = page.locator("#receipt-link")
    expect(link).to_contain_text("0000001")
    check_accessibility(page)
    pdf = page.request.get(live_server.url + link.get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    fee.refresh_from_db()
    assert fee.status == "paid" and fee.dossier.status == "in_process"
    assert list(Payment.objects.filter(fee_request=fee).values_list("status", flat=True).order_by("pk")) == [
        "failed",
        "paid",
    ]
    assert Receipt.objects.filter(fee_request=fee).count() == 1
    assert FeeRequest.objects.count() == 1
