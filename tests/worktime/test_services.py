"""Calendar data in the database: exceptions, working hours, which calendar applies, the demo."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from motcua.worktime import demo, selectors, services
from motcua.worktime.models import CalendarException, WorkSchedule

from .conftest import Org, make_user

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DAY_OFF = CalendarException.Kind.DAY_OFF
WORKING_DAY = CalendarException.Kind.WORKING_DAY
SATURDAY = date(2026, 3, 7)
MONDAY = date(2026, 3, 9)

pytestmark = pytest.mark.django_db


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


def test_defaults_without_any_data(org: Org) -> None:
    cal = selectors.calendar_for_agency(org.agency_a)
    assert cal.due_moment(at(2026, 3, 2, 9), 1) == at(2026, 3, 3, 11, 30)
    assert not cal.is_working_day(date(2026, 2, 17))


def test_make_up_saturday_entered_by_the_province_applies_below(org: Org) -> None:
    admin = make_user("tinh@vinhphuc.gov.vn", org.province)
    exception = services.add_exception(org.province, SATURDAY, WORKING_DAY, "  Làm bù   theo thông báo  ", admin)
    assert exception.reason == "Làm bù theo thông báo"  # normalised
    assert exception.created_by == admin
    assert exception.history.get().history_user == admin
    for agency in (org.agency_a, org.agency_b, org.province_agency):
        cal = selectors.calendar_for_agency(agency)
        assert cal.is_working_day(SATURDAY)
        assert cal.due_moment(at(2026, 3, 6, 14), 1) == at(2026, 3, 7, 17)


def test_extra_day_off_of_a_district_stays_in_that_district(org: Org) -> None:
    services.add_exception(org.district_a, MONDAY, DAY_OFF, "Nghỉ bầu cử bổ sung")
    assert not selectors.calendar_for_agency(org.agency_a).is_working_day(MONDAY)  # commune below district A
    assert selectors.calendar_for_agency(org.agency_b).is_working_day(MONDAY)
    assert selectors.calendar_for_agency(org.province_agency).is_working_day(MONDAY)
    assert selectors.calendar_for_agency(org.agency_a).due_moment(at(2026, 3, 7, 10), 1) == at(2026, 3, 10, 17)


def test_lower_unit_wins_a_clash(org: Org) -> None:
    services.add_exception(org.province, MONDAY, DAY_OFF, "Tỉnh nghỉ")
    services.add_exception(org.district_a, MONDAY, WORKING_DAY, "Huyện vẫn làm việc")
    assert selectors.calendar_for_agency(org.agency_a).is_working_day(MONDAY)
    assert not selectors.calendar_for_agency(org.agency_b).is_working_day(MONDAY)


def test_administrator_makes_a_holiday_a_working_day(org: Org) -> None:
    services.add_exception(org.province, date(2026, 2, 20), WORKING_DAY, "Trực Tết")
    assert selectors.calendar_for_agency(org.agency_a).is_working_day(date(2026, 2, 20))


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reason_is_required_and_nothing_is_saved(org: Org, reason) -> None:
    with pytest.raises(ValidationError) as caught:
        services.add_exception(org.province, SATURDAY, WORKING_DAY, reason)
    assert "reason" in caught.value.message_dict
    assert not CalendarException.objects.exists()


def test_duplicate_date_is_refused_and_nothing_changes(org: Org) -> None:
    services.add_exception(org.province, SATURDAY, WORKING_DAY, "Làm bù")
    with pytest.raises(ValidationError) as caught:
        services.add_exception(org.province, SATURDAY, DAY_OFF, "Nghỉ")
    assert "already has an exception" in str(caught.value) or "đã có" in str(caught.value)
    assert list(CalendarException.objects.values_list("kind", "reason")) == [(WORKING_DAY, "Làm bù")]
    # The same date in another unit is fine.
    services.add_exception(org.district_b, SATURDAY, DAY_OFF, "Huyện nghỉ")
    assert CalendarException.objects.count() == 2


def test_unknown_kind_is_refused(org: Org) -> None:
    with pytest.raises(ValidationError):
        services.add_exception(org.province, SATURDAY, "holiday", "Sai loại")
    assert not CalendarException.objects.exists()


def test_database_refuses_an_empty_reason_too(org: Org) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarException.objects.create(unit=org.province, date=SATURDAY, kind=WORKING_DAY, reason="")


def test_upsert_is_idempotent(org: Org) -> None:
    first = services.upsert_exception(org.province, SATURDAY, WORKING_DAY, "Làm bù")
    again = services.upsert_exception(org.province, SATURDAY, WORKING_DAY, "Làm bù")
    assert first.pk == again.pk and first.history.count() == 1
    changed = services.upsert_exception(org.province, SATURDAY, DAY_OFF, "Đổi thành nghỉ")
    assert changed.pk == first.pk and changed.kind == DAY_OFF
    assert CalendarException.objects.count() == 1


def test_calendar_cache_follows_changes(org: Org) -> None:
    first = selectors.calendar_for_agency(org.agency_a)
    assert selectors.calendar_for_agency(org.agency_a) is first  # cached, no rebuild
    exception = services.add_exception(org.province, SATURDAY, WORKING_DAY, "Làm bù")
    second = selectors.calendar_for_agency(org.agency_a)
    assert second is not first and second.is_working_day(SATURDAY)
    exception.reason = "Làm bù (sửa)"
    services.save_exception(exception)
    assert selectors.calendar_for_agency(org.agency_a) is not second
    services.delete_exception(exception)
    assert not selectors.calendar_for_agency(org.agency_a).is_working_day(SATURDAY)


# --- working hours ----------------------------------------------------------------------------


def test_agency_schedule_overrides_the_unit_and_the_defaults(org: Org) -> None:
    services.set_schedule(unit=org.province, sessions=((time(7), time(11)), (time(13), time(16, 30))))
    services.set_schedule(
        agency=org.agency_a,
        sessions=((time(8), time(12)), (time(13, 30), time(17, 30))),
        weekdays={0, 1, 2, 3, 4, 5},
        same_day_cutoff=time(16),
    )
    cal_a = selectors.calendar_for_agency(org.agency_a)
    assert cal_a.due_moment(at(2026, 3, 2, 14), 1) == at(2026, 3, 3, 17, 30)
    assert cal_a.due_moment(at(2026, 3, 7, 9), 1) == at(2026, 3, 9, 12)  # works Saturdays; Sunday skipped
    assert cal_a.same_day_due(at(2026, 3, 2, 15, 30)) == at(2026, 3, 2, 17, 30)
    cal_b = selectors.calendar_for_agency(org.agency_b)  # inherits the province's hours
    assert cal_b.due_moment(at(2026, 3, 2, 14), 1) == at(2026, 3, 3, 16, 30)
    assert not cal_b.is_working_day(date(2026, 3, 7))


def test_nearest_unit_schedule_wins(org: Org) -> None:
    services.set_schedule(unit=org.province, sessions=((time(7), time(11)), (time(13), time(16, 30))))
    services.set_schedule(unit=org.district_a, sessions=((time(7, 30), time(11, 30)), (time(14), time(17, 30))))
    assert selectors.calendar_for_agency(org.agency_a).due_moment(at(2026, 3, 2, 15), 1) == at(2026, 3, 3, 17, 30)
    assert selectors.calendar_for_unit(org.district_b).sessions[1] == (time(13), time(16, 30))


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"morning_start": time(11, 30), "morning_end": time(7, 30)}, "morning_end"),
        ({"afternoon_start": time(17), "afternoon_end": time(13, 30)}, "afternoon_end"),
        ({"morning_end": time(14)}, "afternoon_start"),
        (
            {
                "works_monday": False,
                "works_tuesday": False,
                "works_wednesday": False,
                "works_thursday": False,
                "works_friday": False,
            },
            "works_monday",
        ),
    ],
)
def test_bad_schedule_is_refused_and_nothing_saved(org: Org, values: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.save_schedule(WorkSchedule(unit=org.province, **values))
    assert field in caught.value.message_dict
    assert not WorkSchedule.objects.exists()


def test_schedule_needs_exactly_one_owner(org: Org) -> None:
    with pytest.raises(ValidationError):
        services.save_schedule(WorkSchedule())
    with pytest.raises(ValidationError):
        services.save_schedule(WorkSchedule(unit=org.province, agency=org.agency_a))
    with pytest.raises(ValidationError):
        services.set_schedule()
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkSchedule.objects.create()
    assert not WorkSchedule.objects.exists()


def test_schedule_messages_are_vietnamese_by_default(org: Org) -> None:
    with pytest.raises(ValidationError) as caught:
        services.save_schedule(WorkSchedule(unit=org.province, morning_start=time(12)))
    assert "Buổi sáng" in caught.value.message_dict["morning_end"][0]


# --- demo data ---------------------------------------------------------------------------------


def test_demo_load_is_idempotent(org: Org) -> None:
    demo.load(org.province)
    counts = (CalendarException.objects.count(), WorkSchedule.objects.count())
    demo.load(org.province)
    assert (CalendarException.objects.count(), WorkSchedule.objects.count()) == counts == (len(demo.EXCEPTIONS), 1)
    assert {e.date.year for e in CalendarException.objects.all()} == {2026, 2027}
    assert all(e.reason for e in CalendarException.objects.all())
    cal = selectors.calendar_for_agency(org.agency_a)
    assert not cal.is_working_day(date(2027, 2, 11)) and cal.is_working_day(date(2027, 1, 30))
    # Tết 2027 with the demo swap: closed from Thursday 4 to Friday 12 February.
    assert cal.due_moment(at(2027, 2, 3, 10), 1) == at(2027, 2, 15, 11, 30)
