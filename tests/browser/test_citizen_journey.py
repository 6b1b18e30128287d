"""The whole citizen journey in Chromium, on the demo data and the demo workflow of procedure 2.000635
(copy of a civil-status extract, 8 000 đ, fully online, at Liên Bảo ward):

log in through the simulated national SSO → submit online with an upload → the clerk receives it from the
online queue → the clerk asks for the fee on the dossier page → the citizen pays through the simulated
gateway → the specialist asks for a supplement and the citizen answers it → the leader's approval signs
the result and the document clerk seals it → the clerk hands it over → the citizen downloads the signed
result, verifies it on the public page, and rates the service → the public look-up shows the status and
nothing personal. axe-core checks the citizen's pages on the way.

Every outside service is a real server on 127.0.0.1 (SSO provider, payment gateway); signatures are real
(demo PKI, pyHanko). The officers' own screens have browser tests of their own (test_workflow_desk.py,
test_result_signing.py); here their moves go through ``workflow.services.act`` so that this test stays
about the citizen.
"""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection
from playwright.sync_api import expect

from motcua.documents import demo as pki_demo
from motcua.documents.models import IssuedDocument
from motcua.documents.selectors import trust_roots
from motcua.documents.verification import Outcome, verify_pdf
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier
from motcua.integrations.payments.models import Receipt
from motcua.integrations.payments.simulator import GatewaySimulator
from motcua.org.demo import DEMO_DOMAIN, DEMO_PASSWORD
from motcua.org.models import User
from motcua.portal.simulators.sso import SSOServer
from motcua.settings import sso_providers
from motcua.workflow import services as workflow
from tests.browser.test_portal import check_accessibility
from tests.dossiers.conftest import PDF
from tests.workflow.conftest import result_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROCEDURE = "2.000635"
LIENBAO = "000.21.31.H62"
SECRET = "journey-secret"


def staff(name: str) -> User:
    return User.objects.get(email=f"{name}@{DEMO_DOMAIN}")


def off_the_browser_thread(function, *args, **kwargs):
    """Run ``function`` in a thread of its own: pyHanko signs and validates through ``asyncio.run``,
    which cannot run in this thread, where Playwright's sync API keeps an event loop going."""

    def call():
        try:
            return function(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


@pytest.fixture
def services_up(settings):
    sso, gateway = SSOServer().start(), GatewaySimulator(secret=SECRET).start()
    settings.SOCIALACCOUNT_PROVIDERS = sso_providers(
        {"server_url": sso.url, "client_id": sso.client_id, "client_secret": sso.client_secret}
    )
    settings.MOTCUA_PAYMENT = {"base_url": gateway.base_url, "merchant_code": "MOTCUA", "secret": SECRET}
    yield
    sso.stop()
    gateway.stop()


@pytest.fixture
def site(live_server, settings, services_up, tmp_path):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MOTCUA_PKI_DIR = tmp_path / "pki"
    call_command("load_demo", "--quiet-accounts", verbosity=0)
    pki_demo.load()
    return live_server.url


def test_a_citizen_submits_pays_supplements_and_verifies_the_signed_result(browser, site, tmp_path):
    scan = tmp_path / "to-khai.pdf"
    scan.write_bytes(PDF)

    # 1. Log in with the national SSO and submit online, with the form and an upload.
    citizen = browser.new_context(locale="vi-VN").new_page()
    citizen.set_default_timeout(30000)
    citizen.goto(site + "/login/")
    citizen.get_by_role("link", name=re.compile("VNeID")).click()
    citizen.get_by_role("button", name=re.compile("VNeID")).click()  # allauth's confirmation step (POST)
    citizen.wait_for_url(re.compile(r"/my/$"))
    citizen.goto(f"{site}/procedures/{PROCEDURE}/apply/")
    citizen.select_option("#agency", LIENBAO)
    citizen.fill("#id_phone", "0912345678")
    citizen.fill("#id_f-ho_ten", "Nguyễn Văn An")
    citizen.fill("#id_f-so_dinh_danh", "026090001234")
    citizen.select_option("#id_f-loai_trich_luc", "Khai sinh")
    citizen.fill("#id_f-so_ban", "1")
    citizen.locator("input[type=file][id^=doc_]").first.set_input_files(str(scan))
    citizen.get_by_role("button", name="Lưu và kiểm tra trước khi nộp").click()
    citizen.get_by_role("button", name="Nộp hồ sơ").click()
    expect(citizen.locator("#status")).to_have_text(re.compile("đã nộp trực tuyến", re.I))
    dossier = Dossier.objects.get()
    my_page = f"{site}/my/{dossier.pk}/"

    # 2. The clerk receives it from the online queue, then asks for the fee on the dossier page.
    desk = browser.new_context(locale="vi-VN").new_page()
    desk.set_default_timeout(30000)
    desk.goto(site + "/staff/login/?next=/online/")
    desk.fill("input[name=username]", f"motcua.lienbao@{DEMO_DOMAIN}")
    desk.fill("input[name=password]", DEMO_PASSWORD)
    desk.click("button[type=submit]")
    desk.wait_for_url("**/online/")
    desk.get_by_role("link", name="Cấp bản sao trích lục hộ tịch").click()
    desk.locator("button[value=receive]").click()
    dossier.refresh_from_db()
    assert dossier.code and dossier.status == Status.IN_PROCESS  # the workflow has started
    desk.wait_for_url(re.compile(re.escape(dossier.code)))
    desk.locator("#request-fee").click()
    expect(desk.locator("#dossier-status")).to_have_text("Chờ thực hiện nghĩa vụ tài chính")

    # 3. The citizen pays 8 000 đ through the gateway, from the dossier page.
    citizen.goto(my_page)
    check_accessibility(citizen)
    citizen.locator("#pay-fee").click()
    citizen.get_by_role("button", name="Thanh toán trực tuyến").click()
    expect(citizen.locator("#amount")).to_have_text("8000")  # the gateway's own page
    citizen.get_by_role("button", name="Thanh toán", exact=True).click()
    expect(citizen.locator("#fee-status")).to_have_text("đã thanh toán")
    receipt = Receipt.objects.get()
    assert receipt.total == 8000 and receipt.fee_request.dossier_id == dossier.pk
    citizen.goto(my_page)
    expect(citizen.locator("#fees .receipt-link")).to_contain_text(receipt.display_number)
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROCESS

    # 4. The specialist asks for a supplement; the citizen answers it and the clock resumes.
    specialist = staff("chuyenvien.lienbao")
    workflow.act(dossier, user=specialist, action="bo-sung", comment="Bổ sung bản sao giấy khai sinh")
    citizen.goto(my_page)
    expect(citizen.locator("#status")).to_have_text(re.compile("chờ bổ sung", re.I))
    citizen.set_input_files("#files", str(scan))
    citizen.get_by_role("button", name="Gửi bổ sung").click()
    expect(citizen.locator("#status")).to_have_text(re.compile("đang giải quyết", re.I))

    # 5. Draft → the leader's approval signs it → the document clerk seals it → handed over.
    workflow.act(
        dossier,
        user=specialist,
        action="trinh",
        attachments=[{"name": "ban-sao-trich-luc.pdf", "content": result_pdf("BẢN SAO TRÍCH LỤC"), "kind": "draft"}],
    )
    off_the_browser_thread(workflow.act, dossier, user=staff("lanhdao.lienbao"), action="phe-duyet")
    off_the_browser_thread(workflow.act, dossier, user=staff("vanthu.lienbao"), action="vao-so")
    workflow.act(dossier, user=staff("motcua.lienbao"), action=workflow.HAND_OVER)
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED
    result = IssuedDocument.objects.get(dossier=dossier, form_key="")
    assert result.signatures.count() == 2

    # 6. The citizen downloads the signed result and verifies it on the public page.
    citizen.goto(my_page)
    check_accessibility(citizen)
    link = citizen.get_by_role("link", name=result.title)
    download = citizen.request.get(site + link.get_attribute("href"))
    assert download.status == 200 and download.body().startswith(b"%PDF")
    signed = download.body()
    report = off_the_browser_thread(lambda: verify_pdf(signed, trust_roots=trust_roots()))
    assert report.outcome == Outcome.SIGNED and report.all_ok and len(report.signatures) == 2
    verifier = browser.new_context(locale="vi-VN").new_page()
    verifier.goto(site + "/verify/")
    verifier.locator("input[type=file]").set_input_files(
        {"name": "ket-qua.pdf", "mimeType": "application/pdf", "buffer": signed}
    )
    verifier.get_by_role("button", name="Kiểm tra", exact=True).click()
    expect(verifier.locator(".outcome.ok")).to_be_visible()
    expect(verifier.locator("section.sig")).to_have_count(2)
    leader_name = staff("lanhdao.lienbao").full_name
    expect(verifier.locator("section.sig").first).to_contain_text(leader_name)
    check_accessibility(verifier)

    # 7. The citizen rates the service.
    citizen.select_option("#score", "5")
    citizen.get_by_role("button", name=re.compile("Gửi đánh giá")).click()
    assert dossier.rating.score == 5

    # 8. The public look-up: status and next step, nothing personal.
    public = browser.new_context(locale="vi-VN").new_page()
    public.goto(site + "/lookup/")
    public.fill("#code", dossier.code)
    public.fill("#digits", "5678")
    public.get_by_role("button", name="Tra cứu").click()
    expect(public.locator("#result")).to_contain_text(dossier.code)
    body = public.content()
    for personal in ("Nguyễn Văn An", "0912345678", "026090001234"):
        assert personal not in body
    check_accessibility(public)
