"""Local citizen accounts on django-allauth with an e-mail address: sign-up with bad input, the link by e-mail
before the first log-in, duplicates, CSRF, and the portal's short addresses."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from motcua.org.models import Role, User

GOOD = {"email": "Chi@Example.vn", "full_name": "Lê Thị Chi", "password1": "dung-mat-khau-2026"}
SIGNUP = "/accounts/signup/"
LOGIN = "/accounts/login/"


def confirm_link(message) -> str:
    return re.search(r"http://testserver(/accounts/confirm-email/\S+/)", message.body).group(1)


def login(client: Client, identifier: str, password: str = GOOD["password1"]):
    return client.post(LOGIN, {"login": identifier, "password": password})


def test_portal_addresses_lead_to_allauth(db):
    assert Client().get("/login/?next=/my/")["Location"] == f"{LOGIN}?next=%2Fmy%2F"
    assert Client().get("/signup/")["Location"] == SIGNUP
    assert Client().get(reverse("portal:my"))["Location"].startswith("/login/?next=")
    page = Client().get(SIGNUP)
    assert page.status_code == 200 and "Tạo tài khoản" in page.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "not-an-email"}, "e-mail"),
        ({"full_name": ""}, "họ và tên"),
        ({"full_name": "   "}, "họ và tên"),
        ({"password1": "123"}, "mật khẩu"),
        ({"password1": "1234567890"}, "mật khẩu"),
        ({"email": "", "phone": ""}, "địa chỉ e-mail hoặc số điện thoại di động"),
        ({"email": "x@phone.invalid"}, "thư điện tử hợp lệ"),
    ],
)
def test_bad_signups_save_nothing(db, changes, message):
    response = Client().post(SIGNUP, {**GOOD, "full_name": "<script>alert(1)</script>", **changes})
    text = response.content.decode()
    assert response.status_code == 200 and 'id="signup-errors"' in text
    assert message.lower() in text.lower() and "<script>alert" not in text
    assert not User.objects.exists() and not EmailAddress.objects.exists() and mail.outbox == []


def test_signup_verify_by_link_then_login(db):
    client = Client()
    response = client.post(SIGNUP, GOOD)
    assert response.status_code == 302 and response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session and len(mail.outbox) == 1
    assert mail.outbox[0].to == ["chi@example.vn"] and "Xác nhận địa chỉ e-mail" in mail.outbox[0].subject
    user = User.objects.get(email="chi@example.vn")
    assert user.has_role(Role.CITIZEN) and user.citizen.full_name == "Lê Thị Chi" and user.full_name == "Lê Thị Chi"
    assert not EmailAddress.objects.get(user=user).verified

    # Not verified: the log-in is refused (no session), the page says to check the mail.
    refused = login(Client(), "chi@example.vn")
    assert refused.status_code == 302 and refused["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    # A wrong password says nothing about the account.
    wrong = login(Client(), "chi@example.vn", "sai-mat-khau-99")
    assert wrong.status_code == 200 and "mật khẩu không đúng" in wrong.content.decode().lower()

    link = confirm_link(mail.outbox[0])
    bad = client.get(link.replace("/confirm-email/", "/confirm-email/x"))
    assert 'id="bad-link"' in bad.content.decode()
    assert client.get(link).status_code == 200  # a page with a button: GET changes nothing
    assert not EmailAddress.objects.get(user=user).verified
    done = client.post(link)
    assert done.status_code == 302 and done["Location"] == reverse("portal:my")
    assert EmailAddress.objects.get(user=user).verified and client.get(reverse("portal:my")).status_code == 200

    ok = login(Client(), "Chi@Example.vn")
    assert ok.status_code == 302 and ok["Location"] == reverse("portal:my")


def test_duplicate_email_creates_nothing(db):
    Client().post(SIGNUP, GOOD)
    mail.outbox.clear()
    again = Client().post(SIGNUP, {**GOOD, "full_name": "Người khác", "email": "CHI@example.vn"})
    assert again.status_code == 200 and "đã có tài khoản" in again.content.decode()
    assert User.objects.count() == 1 and User.objects.get().full_name == "Lê Thị Chi" and mail.outbox == []


def test_csrf_is_required(db):
    client = Client(enforce_csrf_checks=True)
    assert client.post(SIGNUP, GOOD).status_code == 403
    assert client.post(LOGIN, {"login": "chi@example.vn", "password": "x"}).status_code == 403
    assert not User.objects.exists()


def test_too_many_failed_logins_are_refused(db, settings):
    Client().post(SIGNUP, GOOD)
    user = User.objects.get()
    EmailAddress.objects.filter(user=user).update(verified=True)
    client = Client()
    for _ in range(5):
        assert login(client, "chi@example.vn", "sai-mat-khau-99").status_code == 200
    blocked = login(client, "chi@example.vn")  # even the right password, for a while
    assert blocked.status_code == 200 and "quá nhiều lần" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_log_in_at_the_desk_not_as_citizens(demo_org):
    from tests.portal.conftest import PASSWORD

    clerk = User.objects.get(email="motcua.lienbao@vinhphuc.gov.vn")
    clerk.set_password(PASSWORD)
    clerk.save()
    desk = Client().post("/staff/login/", {"username": clerk.email, "password": PASSWORD})
    assert desk.status_code == 302
    # The same account through the citizen log-in gets no citizen pages.
    client = Client()
    client.force_login(clerk)
    assert client.get(reverse("portal:my")).status_code == 403


def test_a_forgotten_password_is_reset_by_a_link_sent_to_the_verified_address(db):
    Client().post(SIGNUP, GOOD)
    address = EmailAddress.objects.get(email__iexact=GOOD["email"])
    Client().get(confirm_link(mail.outbox[0]))  # the page with the button
    Client().post(confirm_link(mail.outbox[0]))
    address.refresh_from_db()
    assert address.verified
    page = Client().get(LOGIN).content.decode()
    assert 'id="forgot-password"' in page and "Quên mật khẩu?" in page

    mail.outbox.clear()
    unknown = Client().post("/accounts/password/reset/", {"email": "khong-co@example.vn"})
    assert unknown.status_code == 302 and mail.outbox == []  # the same answer, and no mail to a stranger
    sent = Client().post("/accounts/password/reset/", {"email": GOOD["email"]}, follow=True)
    assert 'id="reset-sent"' in sent.content.decode()
    (message,) = mail.outbox
    assert message.subject == "Đặt mật khẩu mới" and "đặt mật khẩu mới" in message.body
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body).group(1)

    client = Client()
    form = client.get(link, follow=True)
    action = form.redirect_chain[-1][0] if form.redirect_chain else link
    mismatch = client.post(action, {"password1": "mat-khau-moi-2026", "password2": "khac-han-2026"})
    assert "Hai lần nhập mật khẩu phải giống nhau." in mismatch.content.decode()
    done = client.post(action, {"password1": "mat-khau-moi-2026", "password2": "mat-khau-moi-2026"}, follow=True)
    assert 'id="reset-done"' in done.content.decode()
    assert login(Client(), GOOD["email"], "mat-khau-moi-2026").status_code == 302
    assert login(Client(), GOOD["email"]).status_code == 200  # the old password no longer works
    reused = Client().get(link, follow=True).content.decode()
    assert 'id="bad-link"' in reused  # the link works once
