"""Phone log-in for local citizen accounts: sign-up with a mobile number, a 6-digit code by SMS (through the
messaging SMS adapter and its simulator on 127.0.0.1), hashed, expiring, limited in tries and resends."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from motcua.integrations.messaging.simulators import SmsSimulator
from motcua.org.models import Role, User
from motcua.portal import services
from motcua.portal.models import Citizen, PhoneCode

pytestmark = pytest.mark.django_db

PASSWORD = "dung-mat-khau-2026"
PHONE_ONLY = {"email": "", "full_name": "Phạm Văn Dũng", "phone": "+84 912 345 678", "password": PASSWORD}


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
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return _post


def codes_sent(sim: SmsSimulator, phone: str = "0912345678") -> list[str]:
    return [re.search(r"\b(\d{6})\b", m["Content"]).group(1) for m in sim.delivered.values() if m["Phone"] == phone]


def login(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("portal:login"), {"username": username, "password": password})


def test_phone_signup_code_then_login(sms_sim, post):
    client = Client()
    response = post(client, reverse("portal:signup"), PHONE_ONLY)
    assert response.status_code == 302 and response["Location"] == reverse("portal:verify-phone")
    user = User.objects.get()
    citizen = user.citizen
    assert not user.is_active and user.has_role(Role.CITIZEN) and mail.outbox == []
    assert citizen.login_phone == "0912345678" and citizen.phone_verified_at is None
    assert user.email.endswith(".invalid")
    [code] = codes_sent(sms_sim)
    row = PhoneCode.objects.get()
    assert code not in (row.code_hash, row.salt) and len(row.code_hash) == 64
    assert "Mã xác thực" in next(iter(sms_sim.delivered.values()))["Content"]

    # Not verified yet: a clear message and the way to the code page; no session.
    refused = login(client, "0912345678")
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    text = refused.content.decode()
    assert "chưa được xác thực" in text and 'id="verify-phone-link"' in text
    # A wrong password says nothing about the account.
    assert "chưa được xác thực" not in login(client, "0912345678", "sai-mat-khau-99").content.decode()

    page = client.get(reverse("portal:verify-phone"))
    assert 'value="0912345678"' in page.content.decode()  # kept from the sign-up
    wrong = "000000" if code != "000000" else "111111"
    bad = post(client, reverse("portal:verify-phone"), {"phone": "0912345678", "code": wrong, "action": "verify"})
    assert bad.status_code == 422 and "Mã xác thực không đúng" in bad.content.decode()
    assert PhoneCode.objects.get().attempts == 1
    ok = post(client, reverse("portal:verify-phone"), {"phone": "0912 345 678", "code": code, "action": "verify"})
    assert ok.status_code == 200 and 'id="phone-verified"' in ok.content.decode()
    user.refresh_from_db()
    assert user.is_active and user.citizen.phone_verified_at is not None

    again = post(client, reverse("portal:verify-phone"), {"phone": "0912345678", "code": code, "action": "verify"})
    assert again.status_code == 422 and "đã được sử dụng" in again.content.decode()  # single use
    response = login(Client(), "+84912345678")
    assert response.status_code == 302 and response["Location"] == reverse("portal:my")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "12"}, "số điện thoại di động"),
        ({"phone": "02113845678"}, "số điện thoại di động"),  # a landline cannot receive the code
        ({"phone": "0112345678"}, "số điện thoại di động"),
        ({"phone": "", "email": ""}, "địa chỉ e-mail hoặc số điện thoại di động"),
        ({"full_name": ""}, "họ và tên"),
        ({"password": "123"}, ""),
    ],
)
def test_bad_signups_create_nothing(sms_sim, post, changes, message):
    response = post(Client(), reverse("portal:signup"), {**PHONE_ONLY, **changes})
    assert response.status_code == 422
    assert message.lower() in response.content.decode().lower()
    assert not User.objects.exists() and not PhoneCode.objects.exists() and sms_sim.requests == []


def test_duplicate_phone_refused(sms_sim, post):
    post(Client(), reverse("portal:signup"), PHONE_ONLY)
    code = codes_sent(sms_sim)[0]
    services.verify_phone("0912345678", code)
    response = post(Client(), reverse("portal:signup"), {**PHONE_ONLY, "phone": "0912.345.678", "full_name": "Khác"})
    assert response.status_code == 422 and "đã có tài khoản" in response.content.decode()
    assert User.objects.count() == 1 and PhoneCode.objects.count() == 1


def test_unverified_number_is_held_then_released(sms_sim, post):
    post(Client(), reverse("portal:signup"), PHONE_ONLY)
    first = User.objects.get()
    # Within the hold time nobody else may take the number.
    assert post(Client(), reverse("portal:signup"), {**PHONE_ONLY, "full_name": "Khác"}).status_code == 422
    User.objects.filter(pk=first.pk).update(date_joined=timezone.now() - timedelta(hours=25))
    response = post(Client(), reverse("portal:signup"), {**PHONE_ONLY, "full_name": "Chủ thật"})
    assert response.status_code == 302
    assert Citizen.objects.get(user=first).login_phone is None
    assert Citizen.objects.get(login_phone="0912345678").full_name == "Chủ thật"
    # The first account's code no longer verifies the number.
    old_code = codes_sent(sms_sim)[0]
    with pytest.raises(Exception, match=r"không đúng|đã hết hạn|đã được sử dụng"):
        services.verify_phone("0912345678", old_code)


def test_expired_code_and_a_new_one(sms_sim, post):
    client = Client()
    post(client, reverse("portal:signup"), PHONE_ONLY)
    code = codes_sent(sms_sim)[0]
    PhoneCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = post(client, reverse("portal:verify-phone"), {"phone": "0912345678", "code": code, "action": "verify"})
    assert expired.status_code == 422 and "hết hạn" in expired.content.decode()
    assert not User.objects.get().is_active
    PhoneCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))  # past the resend interval
    resent = post(client, reverse("portal:verify-phone"), {"phone": "0912345678", "action": "resend"})
    assert resent.status_code == 200 and len(codes_sent(sms_sim)) == 2
    new_code = codes_sent(sms_sim)[1]
    if new_code != code:  # the old code is replaced by the new one
        with pytest.raises(Exception, match="không đúng"):
            services.verify_phone("0912345678", code)
    assert services.verify_phone("0912345678", new_code).is_active


def test_too_many_wrong_codes(sms_sim, post):
    post(Client(), reverse("portal:signup"), PHONE_ONLY)
    code = codes_sent(sms_sim)[0]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(Exception, match="không đúng"):
            services.verify_phone("0912345678", wrong)
    assert PhoneCode.objects.get().attempts == 5
    with pytest.raises(Exception, match="Nhập sai quá nhiều lần"):
        services.verify_phone("0912345678", code)  # even the right code is refused now
    for bad in ("12345", "abcdef", "", "1234567"):
        with pytest.raises(Exception, match="6 chữ số"):
            services.verify_phone("0912345678", bad)
    assert not User.objects.get().is_active


def test_resend_is_rate_limited(sms_sim, post):
    client = Client()
    post(client, reverse("portal:signup"), PHONE_ONLY)
    url = reverse("portal:verify-phone")
    too_soon = post(client, url, {"phone": "0912345678", "action": "resend"})
    assert too_soon.status_code == 429 and PhoneCode.objects.count() == 1
    start = timezone.now()
    for minute in range(1, 5):  # one code a minute is fine, up to five an hour
        assert services.send_phone_code("0912345678", now=start + timedelta(minutes=minute))
    with pytest.raises(services.RateLimited, match="một giờ"):
        services.send_phone_code("0912345678", now=start + timedelta(minutes=6))
    assert PhoneCode.objects.count() == 5
    assert services.send_phone_code("0912345678", now=start + timedelta(minutes=70))


def test_resend_for_unknown_number_says_the_same(sms_sim, post):
    response = post(Client(), reverse("portal:verify-phone"), {"phone": "0987000111", "action": "resend"})
    assert response.status_code == 200 and "mã mới" in response.content.decode()
    assert sms_sim.requests == [] and not PhoneCode.objects.exists()
    bad = post(Client(), reverse("portal:verify-phone"), {"phone": "abc", "action": "resend"})
    assert bad.status_code == 422


def test_email_and_phone_each_verified_for_its_own_login(sms_sim, post):
    client = Client()
    data = {**PHONE_ONLY, "email": "Dung@Example.vn"}
    post(client, reverse("portal:signup"), data)
    assert len(mail.outbox) == 1 and len(codes_sent(sms_sim)) == 1
    link = re.search(r"http://testserver(/verify/\S+/)", mail.outbox[0].body).group(1)
    assert client.get(link).status_code == 200
    # The e-mail is verified, the phone is not: log in by e-mail only.
    assert login(Client(), "dung@example.vn")["Location"] == reverse("portal:my")
    refused = login(Client(), "0912345678")
    assert refused.status_code == 200 and "chưa được xác thực" in refused.content.decode()
    services.verify_phone("0912345678", codes_sent(sms_sim)[0])
    assert login(Client(), "0912345678").status_code == 302
    # The applicant form of a phone-only account does not offer the placeholder address.
    assert not User.objects.filter(email__endswith=".invalid").exists()
