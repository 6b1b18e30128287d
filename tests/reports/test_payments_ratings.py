"""Online payment share and satisfaction on the known history, counted by hand; the current month
read so far; the incremental fold against the rebuild; the digest sent once per leader and day.

Added to the history of conftest.py (all in November 2026, the month of the payments and ratings,
which the gateway and the portal date "now"):
  land dossiers E1, E2, E3 received at the provincial centre for the Vĩnh Yên branch, in process,
  fee requested; E1 and E2 paid online through the gateway (simulator, signed notice), E3 paid at
  the counter (a fee_paid event naming the counter channel) → fees paid 3, online 2 → 66.67 %;
  A1 (already returned) rated 5, A2 and A5 returned then rated 4 and 2 → 3 ratings, 2 satisfied
  (score ≥ 4) → 66.67 %, average (5 + 4 + 2) ÷ 3 = 3.67.
"""

from datetime import date, timedelta

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from motcua.dossiers import services as dossier_services
from motcua.dossiers.lifecycle import Status
from motcua.integrations.payments import services as payments
from motcua.integrations.payments.simulator import GatewaySimulator
from motcua.org.models import User
from motcua.portal import services as portal
from motcua.portal.models import DossierOwner
from motcua.reports import selectors, services, tasks
from motcua.reports.figures import rate
from motcua.reports.models import DigestDelivery, DossierBooking
from motcua.reports.periods import Period
from tests.reports.conftest import BRANCH_VY, _receive, at, summary_rows, user

pytestmark = pytest.mark.django_db
SECRET = "test-secret-123"
IPN, RETURN = "http://testserver/payments/ipn/", "http://testserver/payments/return/"


@pytest.fixture
def gateway_sim(settings):
    sim = GatewaySimulator(secret=SECRET).start()
    settings.MOTCUA_PAYMENT = {"base_url": sim.base_url, "merchant_code": "MOTCUA", "secret": SECRET}
    yield sim
    sim.stop()


def pay_online(sim, fee) -> None:
    payment, url = payments.start_payment(fee, return_url=RETURN, ipn_url=IPN)
    assert requests.get(url, timeout=10).status_code == 200  # the browser opens the gateway page
    assert payments.handle_notice(sim.notice_for(payment.txn_ref, "00", 1, f"GW{payment.pk}")) == "applied"


def pay_at_counter(fee, clerk) -> None:
    """A fee paid in cash at the counter, through the payments app's counter service."""
    payments.record_counter_payment(fee, actor=clerk, method="cash")


@pytest.fixture
def paid_and_rated(history, gateway_sim):
    centre = user("motcua.tinh")
    now = timezone.now()
    extra = {}
    for n, key in enumerate(("E1", "E2", "E3")):
        dossier = _receive(centre, history.land, now - timedelta(minutes=30), 30 + n, competent=BRANCH_VY)
        dossier_services.start_processing(dossier, actor=centre)
        fee = payments.request_fee(dossier, actor=centre)
        if key == "E3":
            pay_at_counter(fee, centre)
        else:
            pay_online(gateway_sim, fee)
        extra[key] = dossier
    citizen = User.objects.create_user(email="cong.dan@example.vn", password="x")
    lienbao = user("motcua.lienbao")
    for key, score in (("A1", 5), ("A2", 4), ("A5", 2)):
        dossier = history.dossiers[key]
        if dossier.status != Status.RETURNED:
            dossier_services.return_result(dossier, actor=lienbao)
            dossier.refresh_from_db()
        DossierOwner.objects.create(dossier=dossier, user=citizen)
        portal.rate(citizen, dossier, score=score)
    return history, extra


def admin_scope():
    return selectors.resolve_scope(user("admin"), {})


def this_month() -> Period:
    today = timezone.localdate()
    return selectors.resolve_period({"period": f"month-{today.year}-{today.month}"})


def test_payment_share_and_satisfaction_match_the_hand_count(paid_and_rated):
    figures = selectors.figures(admin_scope(), this_month())
    paid = rate(figures, "online_payment")
    assert (figures.fees_paid, figures.paid_online) == (3, 2)
    assert (paid.numerator, paid.denominator, str(paid.value)) == (2, 3, "66.67")
    satisfaction = rate(figures, "satisfaction")
    assert (satisfaction.numerator, satisfaction.denominator, str(satisfaction.value)) == (2, 3, "66.67")
    assert str(figures.average_score) == "3.67" and figures.rating_score_sum == 11
    # The other formula of the payment indicator: paid online ÷ received dossiers with a fee.
    assert rate(figures, "online_payment", "with_fee").denominator == figures.received_with_fee
    # Scoped: the payments belong to the Vĩnh Yên branch, the ratings to Liên Bảo; Tam Hợp has none.
    tamhop = selectors.figures(selectors.resolve_scope(user("admin"), {"agency": "000.22.32.H62"}), this_month())
    assert (tamhop.fees_paid, tamhop.ratings) == (0, 0)
    branch = selectors.figures(selectors.resolve_scope(user("admin"), {"agency": BRANCH_VY}), this_month())
    assert (branch.fees_paid, branch.paid_online, branch.ratings) == (3, 2, 0)


def test_the_dossiers_behind_the_new_numbers(paid_and_rated):
    history, extra = paid_and_rated
    admin, scope, period = user("admin"), admin_scope(), this_month()

    def codes(measure):
        return {d.code for d in selectors.dossiers_behind(admin, scope, period, measure)}

    assert codes("paid_online") == {extra["E1"].code, extra["E2"].code}
    assert codes("fees_paid") == {d.code for d in extra.values()}
    assert codes("ratings") == {history.dossiers[k].code for k in ("A1", "A2", "A5")}
    assert codes("ratings_satisfied") == {history.dossiers[k].code for k in ("A1", "A2")}


def test_dashboard_shows_the_figures_with_formula_and_links(paid_and_rated, client):
    client.force_login(user("admin"))
    page = client.get("/reports/").content.decode()
    assert "66,67 %" in page and "3,67" in page
    assert "measure=paid_online" in page and "measure=fees_paid" in page and "measure=ratings_satisfied" in page
    assert "tháng này" in page.lower() or "đến nay" in page.lower()  # the current month, read so far
    assert "chưa ghi nhận" not in page  # the old "not recorded yet" note is gone


def _snapshot():
    bookings = {d: (c, s) for d, c, s in DossierBooking.objects.values_list("dossier_id", "contribution", "state")}
    return summary_rows(), bookings


def test_rebuild_gives_the_same_figures_and_positions_with_payments_ratings_and_a_late_event(paid_and_rated):
    history, _extra = paid_and_rated
    # An event dated before the last one folded (a withdrawal back-dated before the receipt's
    # clock ran) cannot be folded alone: the whole log is folded again.
    dossier_services.withdraw(history.dossiers["A9"], actor=user("motcua.lienbao"), reason="Rút", now=at(16, 11, 8))
    before = _snapshot()
    assert all(state for _c, state in before[1].values()), "every booking keeps its fold position"
    call_command("rebuild_report_summaries", verbosity=0)
    assert _snapshot() == before


def test_current_month_is_read_so_far():
    today = date(2026, 11, 20)
    from motcua.reports import periods

    so_far = periods.clamp(Period("month", 2026, 11), today)
    assert so_far.so_far and so_far.last_day == today and so_far.end == date(2026, 11, 21)
    assert so_far.key() == "month-2026-11"
    closed = periods.clamp(Period("month", 2026, 10), today)
    assert not closed.so_far and closed.last_day == date(2026, 10, 31)
    assert periods.clamp(Period("year", 2026), today).last_day == today
    assert periods.clamp(Period("month", 2026, 11), date(2026, 11, 30)).so_far is False  # last day: closed


def test_digest_is_sent_once_per_leader_and_day_whatever_the_job_outcome_says(history, mailoutbox):
    day = date(2026, 11, 17)
    first = tasks.send_daily_digest(day)
    sent = len(mailoutbox)
    assert sent > 0 and DigestDelivery.objects.filter(day=day, sent_at__isnull=False).count() == sent
    # A second run the same day sends nothing: the record is the delivery rows, not any outcome text.
    again = tasks.send_daily_digest(day)
    assert len(mailoutbox) == sent and "sent units []" in again and first != again
    # A leader added later the same day gets one mail; the others still none.
    unit = user("lanhdao.lienbao").unit
    newcomer = User.objects.create_user(email="lanhdao.moi@vinhphuc.gov.vn", password="x", unit=unit)
    newcomer.roles.create(role="leader")
    tasks.send_daily_digest(day)
    assert [m.to[0] for m in mailoutbox[sent:]] == ["lanhdao.moi@vinhphuc.gov.vn"]
    # The next day is a new day.
    tasks.send_daily_digest(date(2026, 11, 18))
    assert len(mailoutbox) == 2 * (sent + 1)


def test_a_failed_digest_mail_is_released_and_retried(history, mailoutbox, monkeypatch):
    real = tasks.send_mail

    def flaky(subject, body, sender, to):
        if to == ["lanhdao.lienbao@vinhphuc.gov.vn"]:
            raise ConnectionError("SMTP down")
        return real(subject, body, sender, to)

    monkeypatch.setattr(tasks, "send_mail", flaky)
    day = date(2026, 11, 17)
    assert "SMTP down" in tasks.send_daily_digest(day)
    leader = user("lanhdao.lienbao")
    assert not DigestDelivery.objects.filter(leader=leader, day=day).exists()
    monkeypatch.setattr(tasks, "send_mail", real)
    before = len(mailoutbox)
    tasks.send_daily_digest(day)
    assert [m.to[0] for m in mailoutbox[before:]] == ["lanhdao.lienbao@vinhphuc.gov.vn"]
    # A claim left by a run that died while sending is taken over once it is stale, not before.
    other = user("lanhdao.tichson")
    DigestDelivery.objects.filter(leader=other, day=day).update(sent_at=None, claimed_at=timezone.now())
    assert services.claim_digest(other, other.unit, day) is False
    assert services.claim_digest(other, other.unit, day, now=timezone.now() + timedelta(minutes=16)) is True
