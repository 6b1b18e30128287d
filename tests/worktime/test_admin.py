"""The desk pages: a district administrator works only inside their district."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from motcua.worktime import services
from motcua.worktime.models import CalendarException, WorkSchedule

from .conftest import Org

pytestmark = pytest.mark.django_db
WORKING_DAY = CalendarException.Kind.WORKING_DAY
DAY_OFF = CalendarException.Kind.DAY_OFF


@pytest.fixture
def exceptions(org: Org) -> tuple[CalendarException, CalendarException]:
    a = services.add_exception(org.district_a, date(2026, 3, 7), WORKING_DAY, "Làm bù Vĩnh Yên")
    b = services.add_exception(org.district_b, date(2026, 3, 9), DAY_OFF, "Nghỉ Bình Xuyên")
    return a, b


def _form(unit_id: int, day: str, kind: str, reason: str) -> dict:
    return {"unit": unit_id, "date": day, "kind": kind, "reason": reason}


def test_changelist_shows_only_the_own_district(client: Client, unit_admin_a, exceptions) -> None:
    client.force_login(unit_admin_a)
    response = client.get(reverse("admin:worktime_calendarexception_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Làm bù Vĩnh Yên" in page
    assert "Nghỉ Bình Xuyên" not in page
    filtered = client.get(reverse("admin:worktime_calendarexception_changelist"), {"year": "2026", "kind": "day_off"})
    assert filtered.status_code == 200 and "Làm bù Vĩnh Yên" not in filtered.content.decode()
    search = client.get(reverse("admin:worktime_calendarexception_changelist"), {"q": "Vĩnh Yên"})
    assert "Làm bù Vĩnh Yên" in search.content.decode()


def test_other_district_cannot_be_opened_or_changed(client: Client, unit_admin_a, exceptions) -> None:
    _, other = exceptions
    client.force_login(unit_admin_a)
    url = reverse("admin:worktime_calendarexception_change", args=[other.pk])
    assert client.get(url).status_code != 200
    client.post(url, _form(other.unit_id, "2026-03-09", WORKING_DAY, "Đổi trộm"))
    other.refresh_from_db()
    assert other.kind == DAY_OFF and other.reason == "Nghỉ Bình Xuyên"
    delete = reverse("admin:worktime_calendarexception_delete", args=[other.pk])
    client.post(delete, {"post": "yes"})
    assert CalendarException.objects.filter(pk=other.pk).exists()


def test_cannot_add_for_another_district(client: Client, org: Org, unit_admin_a) -> None:
    client.force_login(unit_admin_a)
    response = client.post(
        reverse("admin:worktime_calendarexception_add"), _form(org.district_b.pk, "2026-03-09", DAY_OFF, "Nghỉ")
    )
    assert response.status_code == 200  # the form again, with an error on the unit
    assert "unit" in response.context["adminform"].form.errors
    assert not CalendarException.objects.exists()


def test_add_in_own_district_records_the_author(client: Client, org: Org, unit_admin_a) -> None:
    client.force_login(unit_admin_a)
    response = client.post(
        reverse("admin:worktime_calendarexception_add"),
        _form(org.commune_a.pk, "2026-03-07", WORKING_DAY, "Làm bù   phường"),
    )
    assert response.status_code == 302, response.content
    exception = CalendarException.objects.get()
    assert exception.created_by == unit_admin_a and exception.reason == "Làm bù phường"
    assert exception.history.get().history_user == unit_admin_a


@pytest.mark.parametrize(
    ("day", "reason"),
    [("2026-03-07", ""), ("2026-03-07", "   "), ("2026-02-30", "Ngày sai")],
)
def test_bad_input_saves_nothing(client: Client, org: Org, unit_admin_a, day: str, reason: str) -> None:
    client.force_login(unit_admin_a)
    response = client.post(
        reverse("admin:worktime_calendarexception_add"), _form(org.district_a.pk, day, DAY_OFF, reason)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not CalendarException.objects.exists()


def test_duplicate_date_in_the_desk(client: Client, org: Org, unit_admin_a, exceptions) -> None:
    client.force_login(unit_admin_a)
    response = client.post(
        reverse("admin:worktime_calendarexception_add"), _form(org.district_a.pk, "2026-03-07", DAY_OFF, "Lần hai")
    )
    assert response.status_code == 200
    assert "đã có ngoại lệ" in response.content.decode()
    assert CalendarException.objects.filter(unit=org.district_a).count() == 1


def test_schedules_are_scoped_by_unit_or_agency(client: Client, org: Org, unit_admin_a) -> None:
    own_unit = services.set_schedule(unit=org.district_a)
    own_agency = services.set_schedule(agency=org.agency_a)
    other_unit = services.set_schedule(unit=org.district_b)
    other_agency = services.set_schedule(agency=org.agency_b)
    province = services.set_schedule(unit=org.province)
    client.force_login(unit_admin_a)
    response = client.get(reverse("admin:worktime_workschedule_changelist"))
    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert shown == {own_unit.pk, own_agency.pk}
    for hidden in (other_unit, other_agency, province):
        assert client.get(reverse("admin:worktime_workschedule_change", args=[hidden.pk])).status_code != 200
    assert client.get(reverse("admin:worktime_workschedule_change", args=[own_agency.pk])).status_code == 200


def test_bad_schedule_in_the_desk_saves_nothing(client: Client, org: Org, unit_admin_a) -> None:
    client.force_login(unit_admin_a)
    response = client.post(
        reverse("admin:worktime_workschedule_add"),
        {
            "unit": org.district_a.pk,
            "agency": org.agency_a.pk,
            "morning_start": "11:30",
            "morning_end": "07:30",
            "afternoon_start": "13:30",
            "afternoon_end": "17:00",
            "works_monday": "on",
            "same_day_cutoff": "15:00",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not WorkSchedule.objects.exists()


def test_system_admin_sees_everything(client: Client, org: Org, exceptions, django_user_model) -> None:
    root = django_user_model.objects.create_superuser("root@vinhphuc.gov.vn", None, full_name="Root")
    client.force_login(root)
    page = client.get(reverse("admin:worktime_calendarexception_changelist")).content.decode()
    assert "Làm bù Vĩnh Yên" in page and "Nghỉ Bình Xuyên" in page
    assert client.get(reverse("admin:worktime_calendarexception_add")).status_code == 200
