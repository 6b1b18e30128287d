"""Phone accounts on django-allauth: sign-up with a Vietnamese mobile number, a 6-digit code sent by SMS from a
task after the commit (through the messaging SMS adapter and its simulator on 127.0.0.1), wrong and expired
codes, too many tries, rate limits, duplicate numbers, and log-in by phone only once the number is verified."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from motcua.integrations.messaging.simulators import SmsSimulator
from motcua.org.models import Role, User
from motcua.portal.models import Citizen

pytestmark = pytest.mark.django_db

PASSWORD = "dung-mat-khau-2026"
PHONE_ONLY = {"email": "", "full_name": "Phạm Văn Dũng", "phone": "+84 912 345 678", "password1": PASSWORD}
SIGNUP = "/accounts/signup/"
LOGIN = "/accounts/login/"
VERIFY = "/accounts/phone/verify/"


@pytest.fixture
def sms_sim():
    sim = SmsSimulator().start()
    yield sim
    sim.stop()


@pytest.fixture(autouse=True)
def _sms_settings(settings, sms_sim):
    settings.MOTCUA_MESSAGING = {
        "sms": {"backend": "http", "url": f"{sms_sim.base_url}/send", "brandname": "MOTCUA"},
        "timeout": 5,
    }
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """POST with the after-commit callbacks run, so the SMS task really calls the simulator."""

    def _post(client: Client, url: str, data: dict):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(url, data)
        response.callbacks = callbacks
        return response

    return _post


def texts(sim: SmsSimulator, phone: str = "0912345678") -> list[str]:
    return [m["Content"] for m in sim.delivered.values() if m["Phone"] == phone]


def codes_sent(sim: SmsSimulator, phone: str = "0912345678") -> list[str]:
    return [m.group(1) for t in texts(sim, phone) if (m := re.search(r"\b(\d{6})\b", t))]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_phone_signup_code_then_login(sms_sim, post):
    client = Client()
    response = post(client, SIGNUP, PHONE_ONLY)
    assert response.status_code == 302 and response["Location"] == VERIFY
    user = User.objects.get()
    citizen = user.citizen
    assert user.has_role(Role.CITIZEN) and mail.outbox == [] and user.email.endswith("@phone.invalid")
    assert citizen.login_phone == "0912345678" and citizen.phone_verified_at is None and citizen.full_name
    assert "_auth_user_id" not in client.session
    # The SMS left from a task after the commit, not inside the request's transaction.
    assert len(response.callbacks) == 1
    [code] = codes_sent(sms_sim)
    assert "Mã xác thực" in texts(sms_sim)[0]
    page = client.get(VERIFY)
    assert "0912345678" in page.content.decode() and 'id="code-sent"' in page.content.decode()

    bad = post(client, VERIFY, {"code": wrong(code)})
    assert bad.status_code == 200 and "Mã xác thực không đúng" in bad.content.decode()
    assert "_auth_user_id" not in client.session
    ok = post(client, VERIFY, {"code": code})
    assert ok.status_code == 302 and ok["Location"] == reverse("portal:my")
    assert client.get(reverse("portal:my")).status_code == 200
    citizen.refresh_from_db()
    assert citizen.phone_verified_at is not None

    # Verified: log in by phone (any spelling) and password, no code needed.
    response = Client().post(LOGIN, {"login": "+84912345678", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("portal:my")
    assert len(codes_sent(sms_sim)) == 1


def test_unverified_phone_login_is_refused_until_the_code(sms_sim, post, settings):
    post(Client(), SIGNUP, PHONE_ONLY)
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "verify_phone": "10/m/key"}
    client = Client()
    refused = post(client, LOGIN, {"login": "0912 345 678", "password": PASSWORD})
    assert refused.status_code == 302 and refused["Location"] == VERIFY
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("portal:my")).status_code == 302  # still not logged in
    code = codes_sent(sms_sim)[-1]
    assert len(codes_sent(sms_sim)) == 2
    assert post(client, VERIFY, {"code": code})["Location"] == reverse("portal:my")
    # A wrong password says nothing about the account and sends nothing.
    wrong_password = post(Client(), LOGIN, {"login": "0912345678", "password": "sai-mat-khau-99"})
    assert wrong_password.status_code == 200 and "không đúng" in wrong_password.content.decode()
    assert len(codes_sent(sms_sim)) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "12"}, "số điện thoại di động"),
        ({"phone": "02113845678"}, "số điện thoại di động"),  # a landline cannot receive the code
        ({"phone": "0112345678"}, "số điện thoại di động"),
        ({"phone": "abc"}, "số điện thoại di động"),
        ({"phone": "", "email": ""}, "địa chỉ e-mail hoặc số điện thoại di động"),
        ({"full_name": ""}, "họ và tên"),
        ({"password1": "123"}, "mật khẩu"),
    ],
)
def test_bad_signups_create_nothing(sms_sim, post, changes, message):
    response = post(Client(), SIGNUP, {**PHONE_ONLY, **changes})
    assert response.status_code == 200
    assert message.lower() in response.content.decode().lower()
    assert not User.objects.exists() and not Citizen.objects.exists() and sms_sim.requests == []


def test_duplicate_phone_creates_nothing_and_tells_the_holder(sms_sim, post, settings):
    client = Client()
    post(client, SIGNUP, PHONE_ONLY)
    post(client, VERIFY, {"code": codes_sent(sms_sim)[0]})
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "verify_phone": "10/m/key"}
    other = Client()
    response = post(other, SIGNUP, {**PHONE_ONLY, "phone": "0912.345.678", "full_name": "Người khác"})
    # The same answer as a new sign-up (no account enumeration); no second account; the holder is told.
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert User.objects.count() == 1 and Citizen.objects.get().full_name == "Phạm Văn Dũng"
    assert "đã có tài khoản" in texts(sms_sim)[-1] and len(codes_sent(sms_sim)) == 1
    # No code exists for the intruder: whatever is typed, nothing is logged in.
    attempt = post(other, VERIFY, {"code": codes_sent(sms_sim)[0]})
    assert "_auth_user_id" not in other.session and attempt.status_code in (200, 302)


def test_unverified_number_is_held_then_released(sms_sim, post, settings):
    post(Client(), SIGNUP, PHONE_ONLY)
    first = User.objects.get()
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "verify_phone": "10/m/key"}
    # Within the hold time nobody else may take the number.
    post(Client(), SIGNUP, {**PHONE_ONLY, "full_name": "Khác"})
    assert User.objects.count() == 1
    User.objects.filter(pk=first.pk).update(date_joined=timezone.now() - timedelta(hours=25))
    client = Client()
    response = post(client, SIGNUP, {**PHONE_ONLY, "full_name": "Chủ thật"})
    assert response["Location"] == VERIFY and User.objects.count() == 2
    assert Citizen.objects.get(user=first).login_phone is None
    assert Citizen.objects.get(login_phone="0912345678").full_name == "Chủ thật"
    assert post(client, VERIFY, {"code": codes_sent(sms_sim)[-1]})["Location"] == reverse("portal:my")
    # The number now logs in the account that proved it, not the first one.
    other = Client()
    assert post(other, LOGIN, {"login": "0912345678", "password": PASSWORD})["Location"] == reverse("portal:my")
    assert int(other.session["_auth_user_id"]) != first.pk


def test_expired_code_is_refused(sms_sim, post, settings):
    client = Client()
    post(client, SIGNUP, PHONE_ONLY)
    code = codes_sent(sms_sim)[0]
    settings.ACCOUNT_PHONE_VERIFICATION_TIMEOUT = -1  # the code is past its validity
    expired = post(client, VERIFY, {"code": code})
    assert expired.status_code == 302 and expired["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    assert Citizen.objects.get().phone_verified_at is None


def test_too_many_wrong_codes_end_the_attempt(sms_sim, post):
    client = Client()
    post(client, SIGNUP, PHONE_ONLY)
    code = codes_sent(sms_sim)[0]
    for _ in range(4):
        assert post(client, VERIFY, {"code": wrong(code)}).status_code == 200
    last = post(client, VERIFY, {"code": wrong(code)})  # the fifth wrong code ends the attempt
    assert last.status_code == 302 and last["Location"].startswith(LOGIN)
    late = post(client, VERIFY, {"code": code})  # even the right code is refused now
    assert late.status_code == 302 and "_auth_user_id" not in client.session
    assert Citizen.objects.get().phone_verified_at is None


def test_new_codes_are_rate_limited(sms_sim, post):
    client = Client()
    post(client, SIGNUP, PHONE_ONLY)
    # A new code within the minute: refused with a message, nothing sent.
    again = post(client, VERIFY, {"action": "resend"})
    assert again.status_code == 302 and len(codes_sent(sms_sim)) == 1
    assert "Quá nhiều yêu cầu" in client.get(VERIFY).content.decode()
    login_again = post(Client(), LOGIN, {"login": "0912345678", "password": PASSWORD})
    assert login_again.status_code == 429 and len(codes_sent(sms_sim)) == 1


def test_a_new_code_after_the_minute_replaces_the_old_one(sms_sim, post, settings):
    client = Client()
    post(client, SIGNUP, PHONE_ONLY)
    first = codes_sent(sms_sim)[0]
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "verify_phone": "10/m/key"}
    assert 'id="resend"' in client.get(VERIFY).content.decode()
    assert post(client, VERIFY, {"action": "resend"}).status_code == 302
    second = codes_sent(sms_sim)[1]
    if second != first:
        assert post(client, VERIFY, {"code": first}).status_code == 200  # the old code no longer works
    assert post(client, VERIFY, {"code": second})["Location"] == reverse("portal:my")


def test_email_and_phone_are_both_verified_before_login(sms_sim, post):
    client = Client()
    response = post(client, SIGNUP, {**PHONE_ONLY, "email": "Dung@Example.vn"})
    assert response["Location"] == VERIFY and len(codes_sent(sms_sim)) == 1
    after_code = post(client, VERIFY, {"code": codes_sent(sms_sim)[0]})
    # The phone is verified; the e-mail is next: still not logged in.
    assert after_code["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session and len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body).group(1)
    assert client.post(link)["Location"] == reverse("portal:my")
    user = User.objects.get(email="dung@example.vn")
    assert user.citizen.phone_verified_at is not None and user.phone == "0912345678"
    assert Client().post(LOGIN, {"login": "0912345678", "password": PASSWORD})["Location"] == reverse("portal:my")
