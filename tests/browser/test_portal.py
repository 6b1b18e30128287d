"""The citizen portal in Chromium: SSO login at the simulated national provider, online submission with uploads,
receipt from the clerk's online queue, the supplement answer, the public look-up; axe-core on every portal page.
The whole journey with the fee and the signed result is test_citizen_journey.py.

The SSO simulator is a real OpenID Connect provider on 127.0.0.1 (motcua/portal/simulators/sso.py);
the browser follows the real redirects between it and the live server.
"""

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from motcua.catalog.models import ProcedureVersion
from motcua.dossiers import services
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier
from motcua.org.demo import DEMO_PASSWORD
from motcua.org.models import User
from motcua.portal.simulators.sso import SSOServer
from motcua.settings import sso_providers
from tests.dossiers.conftest import PDF, make_procedure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIENBAO = "000.21.31.H62"
CLERK = "motcua.lienbao@vinhphuc.gov.vn"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


@pytest.fixture
def sso():
    server = SSOServer().start()
    yield server
    server.stop()


@pytest.fixture
def site(live_server, settings, sso, tmp_path):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SOCIALACCOUNT_PROVIDERS = sso_providers(
        {"server_url": sso.url, "client_id": sso.client_id, "client_secret": sso.client_secret}
    )
    call_command("load_demo", "--quiet-accounts", verbosity=0)
    return live_server.url


@pytest.fixture
def procedure(site):
    proc = make_procedure("1.009999", name="Đăng ký khai sinh trực tuyến", agencies=(LIENBAO,))
    ProcedureVersion.objects.filter(pk=proc.version.pk).update(online_level=ProcedureVersion.OnlineLevel.FULL)
    return proc


def check_accessibility(page) -> None:
    """axe-core (vendored, MPL-2.0): no serious or critical violation on the page as shown."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: {json.dumps(bad, ensure_ascii=False)}"


def test_citizen_submits_online_clerk_receives_citizen_supplements_public_lookup(browser, site, procedure, tmp_path):
    scan = tmp_path / "to-khai.pdf"
    scan.write_bytes(PDF)

    # 1. The citizen finds the procedure without diacritics, then logs in through the national SSO.
    citizen = browser.new_context(locale="vi-VN")
    page = citizen.new_page()
    page.goto(site + "/?q=dang+ky+khai+sinh+truc+tuyen")
    check_accessibility(page)
    page.get_by_role("link", name="Đăng ký khai sinh trực tuyến").click()
    expect(page.locator("h1")).to_have_text("Đăng ký khai sinh trực tuyến")
    check_accessibility(page)
    page.goto(site + "/signup/")  # allauth's sign-up in the portal's layout
    expect(page.locator("h1")).to_have_text("Tạo tài khoản")
    check_accessibility(page)
    page.goto(site + "/login/")
    check_accessibility(page)
    page.get_by_role("link", name=re.compile("VNeID")).click()
    check_accessibility(page)  # allauth's confirmation step: a POST with CSRF before leaving for the provider
    page.get_by_role("button", name=re.compile("VNeID")).click()
    page.wait_for_url(re.compile(r"/my/$"))
    check_accessibility(page)

    # 2. Online submission with uploads: save a draft, check, send.
    page.goto(f"{site}/procedures/{procedure.code}/apply/")
    expect(page.locator("#id_full_name")).to_have_value("Nguyễn Văn An")
    expect(page.locator("#id_id_number")).to_have_value("026090001234")
    page.fill("#id_phone", "0912345678")
    page.fill("#id_f-ho_ten_tre", "Nguyễn Văn Bình")
    page.fill("#id_f-ngay_sinh_tre", "2026-11-20")
    page.set_input_files(f"#doc_{procedure.components[0].pk}", str(scan))
    check_accessibility(page)
    page.get_by_role("button", name="Lưu nháp").click()
    expect(page.locator(".notice")).to_contain_text("Đã lưu bản nháp")
    page.set_input_files(f"#doc_{procedure.components[1].pk}", str(scan))
    page.get_by_role("button", name="Lưu và kiểm tra trước khi nộp").click()
    expect(page.locator("h1")).to_have_text("Kiểm tra và nộp")
    check_accessibility(page)
    page.get_by_role("button", name="Nộp hồ sơ").click()
    expect(page.locator("#status")).to_have_text(re.compile("đã nộp trực tuyến", re.I))
    dossier = Dossier.objects.get()
    assert dossier.status == Status.SUBMITTED_ONLINE and dossier.documents.exclude(file="").count() == 2

    # 3. The clerk receives it from the queue of online submissions.
    staff = browser.new_context(locale="vi-VN")
    desk = staff.new_page()
    desk.goto(site + "/staff/login/?next=/online/")
    desk.fill("input[name=username]", CLERK)
    desk.fill("input[name=password]", DEMO_PASSWORD)
    desk.click("button[type=submit]")
    desk.wait_for_url("**/online/")
    desk.get_by_role("link", name="Đăng ký khai sinh trực tuyến").click()
    desk.locator("button[value=receive]").click()
    dossier.refresh_from_db()
    assert dossier.status == Status.RECEIVED and dossier.code
    desk.wait_for_url(re.compile(re.escape(dossier.code)))

    # 4. The agency asks for a supplement (its own screens belong to the workflow); the citizen answers.
    clerk = User.objects.get(email=CLERK)
    services.start_processing(dossier, actor=clerk)
    services.request_supplement(dossier, actor=clerk, reason="Bổ sung bản sao giấy chứng sinh")
    page.goto(f"{site}/my/{dossier.pk}/")
    expect(page.locator("#status")).to_have_text(re.compile("chờ bổ sung", re.I))
    check_accessibility(page)
    page.set_input_files("#files", str(scan))
    page.get_by_role("button", name="Gửi bổ sung").click()
    expect(page.locator("#status")).to_have_text(re.compile("đang giải quyết", re.I))
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_PROCESS and dossier.paused_at is None

    # 5. The public look-up: status, due date, next step; nothing personal.
    public = browser.new_context(locale="vi-VN").new_page()
    public.goto(site + "/lookup/")
    check_accessibility(public)
    public.fill("#code", dossier.code)
    public.fill("#digits", "5678")
    public.get_by_role("button", name="Tra cứu").click()
    result = public.locator("#result")
    expect(result).to_contain_text(dossier.code)
    expect(result).to_contain_text(re.compile("đang giải quyết", re.I))
    body = public.content()
    for personal in ("Nguyễn Văn An", "0912345678", "026090001234", "Nguyễn Văn Bình"):
        assert personal not in body
    check_accessibility(public)
