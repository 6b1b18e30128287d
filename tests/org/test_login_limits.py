"""Staff log-in limits (review F2, F17): /staff/login/ and /admin/login/ lock an account after 5 wrong passwords
and an address after 20 (across accounts), even for the right password, until the cool-off ends or a unit
administrator unlocks it; the attempts are recorded; citizens' log-ins are left to allauth."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.test import Client
from django.utils import timezone

from motcua.org.demo import DEMO_PASSWORD, demo_email
from motcua.org.models import Role, User

STAFF_LOGIN = "/staff/login/"
DESK_LOGIN = "/admin/login/"
WRONG = "sai-mat-khau-2026"


def clerk(unit: str = "lienbao") -> str:
    return demo_email(Role.CLERK, unit)


def post_login(email: str, password: str, *, url: str = STAFF_LOGIN, ip: str = "127.0.0.1", **extra):
    client = Client(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="vi", **extra)
    return client, client.post(url, {"username": email, "password": password})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.MOTCUA_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 20
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.MOTCUA_TRUSTED_PROXIES = []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "email"),
    [(STAFF_LOGIN, clerk()), (DESK_LOGIN, demo_email(Role.UNIT_ADMIN, "vinhyen"))],
    ids=["staff", "desk"],
)
def test_wrong_passwords_lock_the_account_even_for_the_right_one(demo_org, url, email):
    for attempt in range(4):
        client, response = post_login(email, WRONG, url=url)
        assert response.status_code == 200 and not logged_in(client), attempt
    _client, fifth = post_login(email, WRONG, url=url)
    assert fifth.status_code == 429
    client, right = post_login(email, DEMO_PASSWORD, url=url)
    assert right.status_code == 429 and not logged_in(client)
    page = right.content.decode()
    assert 'id="login-locked"' in page
    assert "Vui lòng thử lại sau 15 phút" in page and "quản trị đơn vị" in page
    # The event is recorded: the counting row and one failure-log row per try, the last ones "locked out".
    attempt = AccessAttempt.objects.get(username=email)
    assert attempt.failures_since_start == 6 and attempt.path_info == url and attempt.ip_address == "127.0.0.1"
    assert DEMO_PASSWORD not in attempt.post_data and WRONG not in attempt.post_data  # masked by axes
    log = AccessFailureLog.objects.filter(username=email)
    assert log.count() == 6 and log.filter(locked_out=True).count() == 2
    assert not AccessLog.objects.filter(username=email).exists()


@pytest.mark.django_db
def test_the_e_mail_counts_however_it_is_typed(demo_org):
    for variant in ["Motcua.LienBao@vinhphuc.gov.vn", " motcua.lienbao@VINHPHUC.gov.vn ", clerk(), clerk(), clerk()]:
        post_login(variant, WRONG)
    _client, right = post_login(clerk(), DEMO_PASSWORD)
    assert right.status_code == 429


@pytest.mark.django_db
def test_an_account_is_locked_across_addresses(demo_org):
    for n in range(5):
        post_login(clerk(), WRONG, ip=f"192.0.2.{n + 1}")
    client, right = post_login(clerk(), DEMO_PASSWORD, ip="192.0.2.99")
    assert right.status_code == 429 and not logged_in(client)
    # Another account from the same addresses is not affected.
    client, other = post_login(clerk("tamhop"), DEMO_PASSWORD, ip="192.0.2.1")
    assert other.status_code == 302 and logged_in(client)


@pytest.mark.django_db
def test_an_address_is_locked_across_accounts(demo_org):
    accounts = [clerk(u) for u in ("lienbao", "tichson", "huongcanh", "tamhop", "vinhyen")]
    for email in accounts:  # 4 × 5 = 20 failures, none of the accounts at its own limit
        for _ in range(4):
            _client, response = post_login(email, WRONG, ip="198.51.100.7")
            assert response.status_code in (200, 429)
    client, right = post_login(demo_email(Role.SPECIALIST, "lienbao"), DEMO_PASSWORD, ip="198.51.100.7")
    assert right.status_code == 429 and not logged_in(client)
    # The same accounts from another address still log in.
    client, elsewhere = post_login(accounts[0], DEMO_PASSWORD, ip="198.51.100.8")
    assert elsewhere.status_code == 302 and logged_in(client)


@pytest.mark.django_db
def test_nineteen_failures_from_one_address_do_not_lock_it(demo_org):
    accounts = [clerk(u) for u in ("lienbao", "tichson", "huongcanh", "tamhop", "vinhyen")]
    for i in range(19):
        post_login(accounts[i % 5], WRONG, ip="198.51.100.9")
    client, right = post_login(demo_email(Role.SPECIALIST, "lienbao"), DEMO_PASSWORD, ip="198.51.100.9")
    assert right.status_code == 302 and logged_in(client)


@pytest.mark.django_db
def test_the_lock_ends_after_the_cool_off(demo_org, time_machine):
    time_machine.move_to(timezone.now(), tick=True)
    for _ in range(5):
        post_login(clerk(), WRONG)
    time_machine.shift(timedelta(minutes=10))
    assert post_login(clerk(), DEMO_PASSWORD)[1].status_code == 429  # still locked (and the lock restarts)
    time_machine.shift(timedelta(minutes=16))
    client, right = post_login(clerk(), DEMO_PASSWORD)
    assert right.status_code == 302 and logged_in(client)
    assert AccessLog.objects.filter(username=clerk()).count() == 1


@pytest.mark.django_db
def test_a_successful_log_in_forgets_only_that_accounts_failures(demo_org):
    for _ in range(4):
        post_login(clerk(), WRONG)
        post_login(clerk("tamhop"), WRONG)
    assert post_login(clerk(), DEMO_PASSWORD)[1].status_code == 302
    assert not AccessAttempt.objects.filter(username=clerk()).exists()
    # The other account's count is intact: one more failure locks it.
    post_login(clerk("tamhop"), WRONG)
    assert post_login(clerk("tamhop"), DEMO_PASSWORD)[1].status_code == 429


@pytest.mark.django_db
def test_a_unit_administrator_sees_and_unlocks_only_staff_of_their_scope(demo_org):
    for email in (clerk("lienbao"), clerk("tamhop"), "nobody@vinhphuc.gov.vn"):
        for _ in range(5):
            post_login(email, WRONG, ip="203.0.113.10")
    admin = Client(HTTP_ACCEPT_LANGUAGE="vi")
    admin.force_login(User.objects.get(email=demo_email(Role.UNIT_ADMIN, "vinhyen")))
    page = admin.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    html = page.content.decode()
    assert clerk("lienbao") in html and clerk("tamhop") not in html and "nobody@" not in html
    assert admin.get("/admin/axes/accessfailurelog/").status_code == 200

    ids = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = admin.post("/admin/axes/accessattempt/", {"action": "unlock_selected", "_selected_action": ids})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=clerk("lienbao")).exists()
    assert AccessAttempt.objects.filter(username=clerk("tamhop")).exists()  # outside the scope: untouched
    # Unlocked: the clerk logs in at once (from another PC, as the first one is near its address limit).
    client, right = post_login(clerk("lienbao"), DEMO_PASSWORD, ip="203.0.113.11")
    assert right.status_code == 302 and logged_in(client)
    # The failure log stays as the record.
    assert AccessFailureLog.objects.filter(username=clerk("lienbao")).count() == 5


@pytest.mark.django_db
def test_a_monitor_sees_the_records_but_cannot_unlock(demo_org):
    for _ in range(5):
        post_login(clerk(), WRONG)
    monitor = Client(HTTP_ACCEPT_LANGUAGE="vi")
    monitor.force_login(User.objects.get(email=demo_email(Role.MONITOR, "tinh")))
    assert monitor.get("/admin/axes/accessattempt/").status_code == 200
    ids = list(AccessAttempt.objects.values_list("pk", flat=True))
    monitor.post("/admin/axes/accessattempt/", {"action": "unlock_selected", "_selected_action": ids})
    assert AccessAttempt.objects.filter(username=clerk()).exists()


@pytest.mark.django_db
def test_citizen_log_ins_are_not_counted_here(demo_org):
    from tests.portal.conftest import make_citizen

    make_citizen("an@example.vn")
    for _ in range(8):
        Client().post("/accounts/login/", {"login": "an@example.vn", "password": WRONG})
    assert not AccessAttempt.objects.exists() and not AccessFailureLog.objects.exists()
    # A clerk on the same address is not locked out by a citizen's typos.
    client, right = post_login(clerk(), DEMO_PASSWORD)
    assert right.status_code == 302 and logged_in(client)


@pytest.mark.django_db
def test_the_test_clients_login_and_other_authenticate_calls_still_work(demo_org):
    client = Client()
    assert client.login(username=clerk(), password=DEMO_PASSWORD)
    assert not AccessLog.objects.exists() and not AccessAttempt.objects.exists()


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_address_counts_on_its_own(demo_org, settings):
    settings.MOTCUA_TRUSTED_PROXIES = ["127.0.0.1"]
    accounts = [clerk(u) for u in ("lienbao", "tichson", "huongcanh", "tamhop", "vinhyen")]
    for email in accounts:
        for _ in range(4):
            post_login(email, WRONG, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert AccessAttempt.objects.filter(ip_address="198.51.100.20").count() == 5
    locked = post_login(demo_email(Role.SPECIALIST, "lienbao"), DEMO_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert locked[1].status_code == 429
    # Another PC behind the same proxy is not locked out with it.
    client, other = post_login(
        demo_email(Role.SPECIALIST, "lienbao"), DEMO_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.21"
    )
    assert other.status_code == 302 and logged_in(client)


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(demo_org):
    for n in range(5):
        post_login(clerk(), WRONG, HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 30}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}
    assert post_login(clerk(), DEMO_PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99")[1].status_code == 429


@pytest.mark.django_db
def test_the_staff_page_says_whom_to_ask_for_a_forgotten_password(db):
    html = Client(HTTP_ACCEPT_LANGUAGE="vi").get(STAFF_LOGIN).content.decode()
    assert 'id="forgot-password"' in html and "Quên mật khẩu? Liên hệ quản trị đơn vị" in html
