"""A leader signs the result from the workflow in Chromium: opens the dossier from the inbox, takes
"Phê duyệt, ký", sees the signed result on the dossier page, and its public verification page says the
signature is valid, trusted and theirs (issue 5). Real PKI, pyHanko, live server and browser."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from motcua.documents import demo as pki_demo
from motcua.documents.models import IssuedDocument
from motcua.dossiers import services as dossier_services
from motcua.org.demo import DEMO_DOMAIN, DEMO_PASSWORD
from motcua.org.models import User
from motcua.workflow import services
from tests.workflow.conftest import FORM, LAND_CODE, land_procedure
from tests.workflow.test_result_signing import local_steps, result_pdf, vi

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server, demo_org, settings, tmp_path):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MOTCUA_PKI_DIR = tmp_path / "pki"
    pki_demo.load()
    return live_server.url


def test_a_leader_signs_the_result_and_sees_it_verified(page, site):
    page.set_default_timeout(30000)
    version = land_procedure()
    services.replace_definition(version, None, local_steps())
    clerk = User.objects.get(email=f"motcua.lienbao@{DEMO_DOMAIN}")
    dossier = dossier_services.receive_at_counter(
        clerk=clerk,
        procedure_code=LAND_CODE,
        applicant={"full_name": "Nguyễn Văn An", "id_number": "026090001234", "phone": "0912345678"},
        form_data=FORM,
        documents=[{"component": version.components.get().pk, "originals": 1}],
        now=timezone.now() - timedelta(hours=2),
    )
    specialist = User.objects.get(email=f"chuyenvien.lienbao@{DEMO_DOMAIN}")
    services.act(
        dossier,
        user=specialist,
        action="trinh",
        attachments=[{"name": "du-thao.pdf", "content": result_pdf(), "kind": "draft"}],
    )
    leader = User.objects.get(email=f"lanhdao.lienbao@{DEMO_DOMAIN}")

    page.goto(site + "/inbox/")
    page.fill("input[name=username]", leader.email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/inbox/")
    row = page.locator(f'tr[data-code="{dossier.code}"]')
    expect(row).to_contain_text("Lãnh đạo UBND phê duyệt, ký")
    row.get_by_role("link", name=dossier.code).click()
    expect(page.locator(".signing-note")).to_contain_text("Kết quả sẽ được ký số bằng chứng thư")
    page.fill("#act-comment", "Đồng ý, ký ban hành")
    page.get_by_role("button", name="Phê duyệt, ký").click()

    card = page.locator("#issued-documents")
    expect(card).to_contain_text(f"Kết quả giải quyết hồ sơ {dossier.code}")
    expect(card).to_contain_text(f"Ký: {leader.full_name}")
    expect(page.locator("#dossier-holder")).to_contain_text("Văn thư")
    page.screenshot(path="/tmp/result-signed.png", full_page=True)
    document = IssuedDocument.objects.get(dossier=dossier)

    with page.context.expect_page() as opened:
        card.locator("a.verify").click()
    verification = opened.value
    verification.wait_for_load_state()
    expect(verification.locator("body")).to_contain_text(
        vi("All %(count)s signature(s) are valid and trusted.", count=1)
    )
    expect(verification.locator("body")).to_contain_text(leader.full_name)
    assert verification.url.endswith(f"/verify/{document.token}/")
