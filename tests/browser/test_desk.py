"""A province administrator logs into the desk, in Vietnamese, and finds the organisation."""

import pytest

from motcua.org.demo import DEMO_DOMAIN, DEMO_PASSWORD, demo_email
from motcua.org.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(live_server, demo_org, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    return live_server.url + "/admin/"


def log_in(page, url: str, email: str) -> None:
    page.goto(url)
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")


def test_province_admin_logs_in_and_sees_the_desk_in_vietnamese(page, desk):
    log_in(page, desk, f"admin@{DEMO_DOMAIN}")
    page.wait_for_url("**/admin/")
    body = page.inner_text("body")
    assert "Cơ quan" in body  # "Agencies" in the sidebar, translated
    page.goto(desk + "org/agency/?q=H62")
    assert "Trung tâm Phục vụ hành chính công tỉnh Vĩnh Phúc" in page.inner_text("body")


def test_wrong_password_is_refused_with_a_vietnamese_message(page, desk):
    page.goto(desk)
    page.fill("input[name=username]", f"admin@{DEMO_DOMAIN}")
    page.fill("input[name=password]", "sai-mat-khau")
    page.click("button[type=submit]")
    assert "mật khẩu" in page.inner_text("body").lower()


def test_unit_admin_sees_only_their_district_in_the_user_list(page, desk):
    log_in(page, desk, demo_email(Role.UNIT_ADMIN, "vinhyen"))
    page.wait_for_url("**/admin/")
    page.goto(desk + "org/user/?all=")
    text = page.inner_text("body")
    assert demo_email(Role.CLERK, "lienbao") in text
    assert demo_email(Role.CLERK, "tamhop") not in text
