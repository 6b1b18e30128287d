"""A one-stop clerk works the counter screen in Chromium: receive, ask to complete, refuse, find all three.

The demo province is loaded as `make run` loads it; the clerk of Phường Liên Bảo uses only the
keyboard where the screen offers it (search, arrows, Enter, Alt+1/2/3, Esc), and the test checks
what the screen shows against the database: the code's shape, and the due moment computed here
with the agency's working calendar and the procedure's rule from the stored moment of receipt.
"""

import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier
from motcua.org.demo import DEMO_DOMAIN, DEMO_PASSWORD
from motcua.worktime.selectors import calendar_for_agency

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIENBAO = "000.21.31.H62"
PROCEDURE = "Cấp bản sao trích lục hộ tịch"  # demo procedure 2.000635: 0.5 working day
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def site(live_server, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    call_command("load_demo", "--quiet-accounts", verbosity=0)
    return live_server.url


def log_in(page, site: str, email: str, path: str = "/counter/") -> None:
    page.goto(site + path)
    expect(page).to_have_url(re.compile(r"/staff/login/\?next="))
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")


def open_procedure(page, words: str) -> None:
    """From the search box: type without diacritics, ↓, Enter — the form appears in place."""
    search = page.locator("#counter-search")
    expect(search).to_be_focused()
    search.press("Control+a")
    page.keyboard.type(words)
    results = page.locator(f'#counter-results ul[data-q="{words}"]')  # the answer to this search, not the last one
    expect(results.locator("[role=option]").filter(has_text=PROCEDURE)).to_have_count(1)
    page.keyboard.press("ArrowDown")
    expect(page.locator("#counter-results [role=option]").first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(page.locator("#intake h1")).to_have_text(PROCEDURE)
    expect(page.locator("input[name='applicant-full_name']")).to_be_focused()


def fill_applicant(page, name: str, id_number: str) -> None:
    page.keyboard.type(name)  # the applicant's name has the focus when the form opens
    page.fill("input[name='applicant-id_number']", id_number)
    page.fill("input[name='applicant-phone']", "0912345678")
    page.fill("input[name='applicant-address']", "Phường Liên Bảo, thành phố Vĩnh Yên")


def receive_extract(page, name: str, id_number: str) -> str:
    """Receive a civil-status extract request (demo 2.000635) with its scan; returns the code shown."""
    open_procedure(page, "trich luc")
    fill_applicant(page, name, id_number)
    page.fill("input[name='form-ho_ten']", name)
    page.fill("input[name='form-so_dinh_danh']", id_number)
    page.select_option("select[name='form-loai_trich_luc']", "Khai sinh")
    page.fill("input[name='form-so_ban']", "2")
    page.check("input[name='doc-0-received']")
    page.set_input_files(
        "input[name='doc-0-file']", files=[{"name": "to-khai.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.keyboard.press("Alt+1")
    expect(page.locator("#done-code")).to_be_visible()
    return page.inner_text("#done-code").strip()


def test_a_clerk_receives_guides_and_refuses_then_finds_all_three(page, site):
    log_in(page, site, f"motcua.lienbao@{DEMO_DOMAIN}")
    loaded = page.evaluate("performance.getEntriesByType('navigation').length")

    # 1. Receive: code of the right shape, due moment by the time rules, slip printed in one click.
    code = receive_extract(page, "Lường Thị Hoà", "026190003333")
    assert re.fullmatch(rf"{re.escape(LIENBAO)}-\d{{6}}-\d{{4,}}", code), code
    received = Dossier.objects.select_related("procedure_version", "competent_agency").get(code=code)
    version = received.procedure_version
    assert version.time_kind == "working_days" and received.status in (Status.RECEIVED, Status.IN_PROCESS)
    expected = calendar_for_agency(received.competent_agency).due_moment(received.received_at, version.resolution_days)
    assert received.due_at == expected
    assert page.inner_text("#done-due").strip() == timezone.localtime(expected).strftime("%d/%m/%Y %H:%M")
    assert received.documents.get().original_filename == "to-khai.pdf"

    expect(page.locator("#print-slip")).to_be_focused()
    with page.expect_popup() as popup_info:
        page.keyboard.press("Enter")  # "In phiếu": one key (or one click) opens the slip and prints it
    slip = popup_info.value
    slip.wait_for_load_state()
    assert "print=1" in slip.url
    slip_text = slip.inner_text("body")
    assert code in slip_text and "Lường Thị Hoà" in slip_text
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in slip_text  # upper-cased by the slip's style
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in slip_text
    expect(slip.locator("svg.segno")).to_have_count(1)
    slip.close()

    # 2. Ask to complete: the mandatory form is not ticked; the guidance names it and what else is missing.
    page.keyboard.press("Escape")
    open_procedure(page, "trich luc ho tich")
    fill_applicant(page, "Lường Văn Đức", "026090004444")
    page.fill("textarea[name=missing]", "Bản sao giấy khai sinh cần trích lục")
    page.fill("textarea[name=reason]", "Hồ sơ chưa đủ thành phần")
    page.keyboard.press("Alt+2")
    expect(page.locator("section.done.guidance #print-slip")).to_be_focused()
    guided = Dossier.objects.get(applicant_name="Lường Văn Đức")
    assert guided.status == Status.RETURNED_FOR_COMPLETION and guided.code is None and guided.due_at is None
    assert guided.events.get().data["missing"] == [
        "Tờ khai cấp bản sao trích lục hộ tịch theo mẫu",
        "Bản sao giấy khai sinh cần trích lục",
    ]

    # 3. Refuse: without a reason the screen says so next to the field and saves nothing; then with one.
    page.keyboard.press("Escape")
    open_procedure(page, "2.000635")
    fill_applicant(page, "Lường Minh Tâm", "026090005555")
    page.keyboard.press("Alt+3")
    reason_error = page.locator(".field.has-error").filter(has=page.locator("textarea[name=reason]"))
    expect(reason_error).to_contain_text("Nêu rõ lý do từ chối tiếp nhận hồ sơ")
    assert not Dossier.objects.filter(applicant_name="Lường Minh Tâm").exists()
    expect(page.locator("input[name='applicant-full_name']")).to_have_value("Lường Minh Tâm")
    page.fill("textarea[name=reason]", "Yêu cầu không thuộc thẩm quyền của UBND phường")
    page.keyboard.press("Alt+3")
    expect(page.locator("section.done.refuse #print-slip")).to_be_focused()
    refused = Dossier.objects.get(applicant_name="Lường Minh Tâm")
    assert refused.status == Status.REFUSED and refused.events.get().data["reason"].startswith("Yêu cầu không")

    # No page was reloaded between the steps.
    assert page.evaluate("performance.getEntriesByType('navigation').length") == loaded
    assert "/counter/" in page.url

    # 4. Find all three by a name typed without diacritics.
    page.goto(site + "/dossiers/")
    page.fill("#id_q", "luong")
    results = page.locator("#search-results")
    expect(results.locator("tbody tr")).to_have_count(3)
    for name in ["Lường Thị Hoà", "Lường Văn Đức", "Lường Minh Tâm"]:
        expect(results).to_contain_text(name)
    expect(page).to_have_url(re.compile(r"/dossiers/\?.*q=luong"))

    # 5. Scanning the slip's code at the counter opens the dossier page with its timeline.
    page.goto(site + "/counter/")
    expect(page.locator("#counter-search")).to_be_focused()
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/dossiers/{code}/")
    expect(page.locator("#dossier-code")).to_have_text(code)
    expect(page.locator("ol.timeline")).to_contain_text("Đã tiếp nhận")

    # 6. The clerk of another commune can neither open it nor find it.
    page.context.clear_cookies()
    log_in(page, site, f"motcua.tamhop@{DEMO_DOMAIN}", "/dossiers/")
    response = page.goto(site + f"/dossiers/{code}/")
    assert response.status == 404
    page.goto(site + "/dossiers/?q=luong")
    expect(page.locator("#result-count")).to_contain_text("0")
    expect(page.locator("#search-results tbody tr")).to_have_count(0)
