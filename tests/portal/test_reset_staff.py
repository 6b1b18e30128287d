"""The portal never touches staff accounts (review F5, F12): its password reset mails nothing to a staff address and
answers as for an unknown one, its log-in refuses staff; staff get a new password from their unit administrator in
the desk; a citizen whose password expired changes it on a portal page."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from motcua.org.demo import DEMO_PASSWORD, demo_email
from motcua.org.models import Role, User
from tests.portal.conftest import PASSWORD, make_citizen

RESET = "/accounts/password/reset/"
LOGIN = "/accounts/login/"
CLERK = demo_email(Role.CLERK, "tichson")
NEW = "Mat-khau-moi-2027!"


def vi() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="vi")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "email", [CLERK, demo_email(Role.UNIT_ADMIN, "vinhyen"), "admin@vinhphuc.gov.vn"], ids=["clerk", "unit", "super"]
)
def test_a_staff_address_gets_the_unknown_address_answer_and_no_mail(demo_org, email):
    make_citizen("an@example.vn")
    mail.outbox.clear()
    unknown = vi().post(RESET, {"email": "khong-co@example.vn"})
    staff = vi().post(RESET, {"email": email})
    assert staff.status_code == unknown.status_code == 302 and staff.url == unknown.url
    assert mail.outbox == []
    # The positive control: a citizen's address gets its link.
    vi().post(RESET, {"email": "an@example.vn"})
    assert [m.to for m in mail.outbox] == [["an@example.vn"]]


@pytest.mark.django_db
def test_staff_cannot_log_in_at_the_portal_even_with_the_right_password(demo_org):
    mail.outbox.clear()
    right = vi().post(LOGIN, {"login": CLERK, "password": DEMO_PASSWORD})
    wrong = vi().post(LOGIN, {"login": CLERK, "password": "sai-mat-khau-2026"})
    assert right.status_code == wrong.status_code == 200
    assert "_auth_user_id" not in right.wsgi_request.session
    message = "E-mail, số điện thoại hoặc mật khẩu không đúng."
    assert message in right.content.decode() and message in wrong.content.decode()
    assert mail.outbox == []  # not even a confirmation mail to the staff address


@pytest.mark.django_db
def test_a_citizen_still_logs_in_at_the_portal(demo_org):
    make_citizen("an@example.vn")
    client = vi()
    response = client.post(LOGIN, {"login": "an@example.vn", "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session


@pytest.mark.django_db
def test_a_unit_administrator_sets_a_new_password_for_staff_of_their_scope(demo_org, settings):
    settings.MOTCUA_PASSWORD_MAX_AGE_DAYS = 180
    clerk = User.objects.get(email=CLERK)
    admin = vi()
    admin.force_login(User.objects.get(email=demo_email(Role.UNIT_ADMIN, "vinhyen")))
    page = admin.get(f"/admin/org/user/{clerk.pk}/password/")
    assert page.status_code == 200
    response = admin.post(
        f"/admin/org/user/{clerk.pk}/password/", {"password1": NEW, "password2": NEW, "usable_password": "true"}
    )
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.check_password(NEW) and clerk.password_changed_at is None

    # The clerk logs in with it and must first choose a password of their own.
    staff = vi()
    assert staff.post("/staff/login/", {"username": CLERK, "password": NEW}).status_code == 302
    response = staff.get("/counter/")
    assert response.status_code == 302 and response.url == "/staff/password/"

    # Outside the administrator's scope (another district, or a system administrator): nothing.
    outsider = User.objects.get(email=demo_email(Role.CLERK, "tamhop"))
    system = User.objects.get(email="admin@vinhphuc.gov.vn")
    for user in (outsider, system):
        refused = admin.post(f"/admin/org/user/{user.pk}/password/", {"password1": NEW, "password2": NEW})
        assert refused.status_code in (302, 403, 404)
        user.refresh_from_db()
        assert not user.check_password(NEW)


@pytest.mark.django_db
def test_a_new_password_from_the_administrator_also_unlocks_the_account(demo_org, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(5):
        Client().post("/staff/login/", {"username": CLERK, "password": "sai-mat-khau-2026"})
    assert Client().post("/staff/login/", {"username": CLERK, "password": DEMO_PASSWORD}).status_code == 429
    admin = vi()
    admin.force_login(User.objects.get(email=demo_email(Role.UNIT_ADMIN, "vinhyen")))
    clerk = User.objects.get(email=CLERK)
    admin.post(f"/admin/org/user/{clerk.pk}/password/", {"password1": NEW, "password2": NEW, "usable_password": "true"})
    assert Client().post("/staff/login/", {"username": CLERK, "password": NEW}).status_code == 302


@pytest.mark.django_db
def test_a_citizen_with_an_expired_password_changes_it_in_the_portal(demo_org, settings):
    settings.MOTCUA_PASSWORD_MAX_AGE_DAYS = 180
    citizen = make_citizen("an@example.vn")
    User.objects.filter(pk=citizen.pk).update(password_changed_at=timezone.now() - timedelta(days=181))
    client = vi()
    client.force_login(citizen)
    response = client.get("/my/")
    assert response.status_code == 302 and response.url == "/accounts/password/change/"
    page = client.get(response.url)
    html = page.content.decode()
    assert page.status_code == 200 and "Đổi mật khẩu" in html and 'id="change-notice"' in html
    assert "180 ngày" in html
    response = client.post(
        "/accounts/password/change/", {"oldpassword": PASSWORD, "password1": NEW, "password2": NEW}, follow=True
    )
    assert response.status_code == 200
    citizen.refresh_from_db()
    assert citizen.check_password(NEW) and timezone.now() - citizen.password_changed_at < timedelta(minutes=1)
    assert client.get("/my/").status_code == 200
