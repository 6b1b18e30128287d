"""Scope (invariant 5) and search: diacritic-insensitive names, exact keys, status, dates, timeliness."""

from datetime import date

import pytest

from motcua.dossiers import services
from motcua.dossiers.selectors import dossiers_visible_to, get_dossier, search_dossiers, with_timeliness
from motcua.org.models import User
from tests.dossiers.conftest import LIENBAO, applicant, at, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_communes(receive, clerk_tamhop):
    lienbao = receive(applicant=applicant(full_name="Nguyễn Văn An", id_number="026090001234", phone="0912345678"))
    tamhop = receive(
        clerk=clerk_tamhop,
        applicant=applicant(full_name="Đặng Thị Hồng", id_number="026190005678", phone="0387654321"),
        now=at(1, 9, month=12),
    )
    services.start_processing(tamhop, actor=clerk_tamhop, now=at(1, 10, month=12))
    return lienbao, tamhop


def test_a_commune_clerk_sees_only_their_commune(two_communes, clerk):
    lienbao, tamhop = two_communes
    assert list(dossiers_visible_to(clerk)) == [lienbao]
    assert get_dossier(clerk, lienbao.code) == lienbao
    assert get_dossier(clerk, tamhop.code) is None
    assert not search_dossiers(clerk, code=tamhop.code).exists()
    assert not search_dossiers(clerk, q="dang thi hong").exists()
    assert not search_dossiers(clerk, id_number="026190005678").exists()


def test_the_district_admin_sees_the_communes_below(two_communes):
    lienbao, tamhop = two_communes
    vinhyen_admin = user("quantri.vinhyen")
    assert list(dossiers_visible_to(vinhyen_admin)) == [lienbao]
    assert set(dossiers_visible_to(user("quantri.binhxuyen"))) == {tamhop}
    assert set(dossiers_visible_to(user("admin"))) == {lienbao, tamhop}


def test_citizens_see_nothing_here(two_communes):
    citizen = User.objects.get(email="nguyenvanan@example.vn")
    assert not dossiers_visible_to(citizen).exists()
    assert get_dossier(citizen, two_communes[0].code) is None


def test_a_dossier_received_elsewhere_is_visible_to_the_competent_commune(clerk_centre, birth, clerk):
    from tests.dossiers.conftest import FORM

    dossier = services.receive_at_counter(
        clerk=clerk_centre,
        procedure_code=birth.code,
        applicant=applicant(),
        form_data=FORM,
        documents=birth.documents(),
        competent_agency=LIENBAO,
        now=at(30, 9),
    )
    assert get_dossier(clerk, dossier.code) == dossier
    assert get_dossier(user("motcua.tichson"), dossier.code) is None


@pytest.mark.parametrize(
    "filters",
    [
        {"q": "nguyen van an"},
        {"q": "NGUYỄN an"},
        {"q": "VĂN"},
        {"q": "0912345678"},
        {"code": f" {LIENBAO}-261130-0001 ".lower()},
        {"id_number": "0260 9000 1234"},
        {"phone": "+84 912 345 678"},
        {"procedure": "1.001193.000.00.00.H62", "status": "received"},
        {"status": "received"},
        {"received_from": date(2026, 11, 30), "received_to": date(2026, 11, 30)},
        {"received_to": date(2026, 11, 30)},
    ],
)
def test_search_finds(two_communes, filters):
    lienbao, _ = two_communes
    assert list(search_dossiers(user("admin"), **filters)) == [lienbao]


def test_search_combines_and_orders_newest_first(two_communes):
    lienbao, tamhop = two_communes
    admin = user("admin")
    assert list(search_dossiers(admin, procedure="1.001193")) == [tamhop, lienbao]
    assert list(search_dossiers(admin, status=["received", "in_process"])) == [tamhop, lienbao]
    assert list(search_dossiers(admin, received_from=date(2026, 12, 1))) == [tamhop]


@pytest.mark.parametrize(
    "filters",
    [
        {"q": "nguyen van binh"},
        {"code": f"{LIENBAO}-261130-0002"},
        {"id_number": "026090001235"},
        {"status": "in_process"},
        {"received_from": date(2026, 12, 1)},
        {"received_to": date(2026, 11, 29)},
        {"timeliness": "nonsense"},
    ],
)
def test_search_misses(two_communes, clerk, filters):
    assert not search_dossiers(clerk, **filters).exists()


def test_search_by_timeliness(receive, clerk):
    # All received Monday 30/11 09:00 with 1 working day: due Tuesday 01/12 11:30.
    early, on_time, late, open_ok, open_late, paused = (receive() for _ in range(6))
    for dossier in (early, on_time, late, open_late, paused):
        services.start_processing(dossier, actor=clerk, now=at(30, 9, 30))
    services.mark_result_ready(early, actor=clerk, now=at(30, 16))
    services.mark_result_ready(on_time, actor=clerk, now=at(1, 11, month=12))
    services.mark_result_ready(late, actor=clerk, now=at(1, 14, month=12))
    services.request_supplement(paused, actor=clerk, reason="Thiếu", now=at(30, 10))
    now = at(2, 9, month=12)  # Wednesday: open_ok and open_late are past due, the paused one is not

    def found(value, moment=now):
        return set(search_dossiers(clerk, timeliness=value, now=moment))

    assert found("early") == {early}
    assert found("on_time") == {on_time}
    assert found("late") == {late}
    assert found("overdue") == {open_ok, open_late}
    assert found("within_time") == {paused}
    assert found("within_time", at(1, 11, 30, month=12)) == {open_ok, open_late, paused}  # due moment inclusive
    annotated = with_timeliness(search_dossiers(clerk), now).get(pk=paused.pk)
    assert annotated.timeliness_now == "within_time"
