"""The working-time rules of DESIGN.md as plain functions: no database, no Django."""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from motcua.worktime.calendar import (
    InvalidDuration,
    NaiveDatetimeError,
    Timeliness,
    WorkCalendar,
    make_calendar,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkCalendar()


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0, us: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, us, tzinfo=VN)


# 2 March 2026 is an ordinary Monday, 7 March a Saturday.
MON = (2026, 3, 2)
TUE = (2026, 3, 3)


# --- DESIGN.md "Default time rules" -------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (at(*MON, 9, 0), at(*TUE, 11, 30)),  # received 09:00 Monday, 1 day → end of Tuesday morning
        (at(*MON, 14, 0), at(*TUE, 17, 0)),  # received 14:00 Monday → 17:00 Tuesday
        (at(2026, 3, 7, 10, 0), at(2026, 3, 9, 17, 0)),  # online on Saturday → 17:00 Monday
        (at(2026, 3, 8, 23, 59), at(2026, 3, 9, 17, 0)),  # Sunday night too
        (at(*MON, 12, 0), at(*TUE, 11, 30)),  # during lunch: the afternoon is the first counted session
        (at(*MON, 18, 0), at(*TUE, 17, 0)),  # after 17:00
        (at(*MON, 7, 30), at(*TUE, 11, 30)),  # exactly at opening: the morning is charged to the receiver
        (at(*MON, 7, 0), at(*MON, 17, 0)),  # before opening: Monday itself counts
        (at(*MON, 13, 30), at(*TUE, 17, 0)),  # exactly when the afternoon starts
        (at(*MON, 11, 30), at(*TUE, 11, 30)),  # end of the morning = lunch
    ],
)
def test_one_working_day(start: datetime, due: datetime) -> None:
    assert CAL.due_moment(start, 1) == due
    assert CAL.add_sessions(start, 2) == due


def test_immediate_procedure_has_no_appointment() -> None:
    assert CAL.due_moment(at(*MON, 9), 0) is None
    assert CAL.due_moment(at(*MON, 9), Decimal("0.0")) is None
    assert CAL.add_sessions(at(*MON, 9), 0) == at(*MON, 9)


def test_results_are_in_vietnam_time_whatever_the_input_zone() -> None:
    due = CAL.due_moment(datetime(2026, 3, 2, 2, 0, tzinfo=UTC), 1)  # 09:00 in Hà Nội
    assert due == at(*TUE, 11, 30)
    assert due.utcoffset().total_seconds() == 7 * 3600


def test_three_days_are_six_sessions() -> None:
    assert CAL.sessions_for_days(3) == 6
    assert CAL.due_moment(at(*MON, 9), "3") == at(2026, 3, 5, 11, 30)


# --- half days --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (at(*MON, 9), "0.5", at(*MON, 17)),
        (at(*MON, 14), "0.5", at(*TUE, 11, 30)),
        (at(*MON, 12), "0.5", at(*MON, 17)),
        (at(*MON, 9), "1.5", at(*TUE, 17)),
        (at(2026, 3, 6, 14), Decimal("0.5"), at(2026, 3, 9, 11, 30)),  # Friday afternoon → Monday morning
    ],
)
def test_half_day_procedures(start: datetime, days: str, due: datetime) -> None:
    assert CAL.sessions_for_days(days) in (1, 3)
    assert CAL.due_moment(start, days) == due


@pytest.mark.parametrize(
    ("days", "code"),
    [
        ("-1", "negative"),
        (Decimal("-0.5"), "negative"),
        ("1000", "too_long"),
        ("365.5", "too_long"),
        ("0.3", "not_a_session"),
        ("1.25", "not_a_session"),
        ("abc", "not_a_number"),
        ("", "not_a_number"),
        ("NaN", "not_a_number"),
        ("Infinity", "not_a_number"),
    ],
)
def test_bad_durations_are_refused_with_a_code(days, code: str) -> None:
    with pytest.raises(InvalidDuration) as caught:
        CAL.sessions_for_days(days)
    assert caught.value.code == code
    assert isinstance(caught.value, ValueError)
    assert str(caught.value)  # a readable English sentence for logs; callers translate by code


def test_longest_allowed_duration() -> None:
    assert CAL.sessions_for_days(365) == 730
    assert CAL.due_moment(at(*MON, 9), 365) > at(2027, 3, 1)


# --- holidays 2026 ----------------------------------------------------------------------------


def test_tet_2026_is_off() -> None:
    for day in range(16, 21):
        assert not CAL.is_working_day(date(2026, 2, day)), day
    assert CAL.is_working_day(date(2026, 2, 13))
    assert CAL.is_working_day(date(2026, 2, 23))


def test_due_date_jumps_over_tet_2026() -> None:
    # Thursday afternoon is the receiver's; Friday 13 gives two sessions, Monday 23 the last two.
    assert CAL.due_moment(at(2026, 2, 12, 14), 2) == at(2026, 2, 23, 17)
    assert CAL.due_moment(at(2026, 2, 13, 9), "0.5") == at(2026, 2, 13, 17)
    assert CAL.due_moment(at(2026, 2, 13, 14), "0.5") == at(2026, 2, 23, 11, 30)
    assert CAL.due_moment(at(2026, 2, 17, 9), 1) == at(2026, 2, 23, 17)  # received online during Tết


def test_hung_kings_2026_with_day_in_lieu() -> None:
    assert not CAL.is_working_day(date(2026, 4, 26))  # Sunday, the holiday itself
    assert not CAL.is_working_day(date(2026, 4, 27))  # Monday in lieu
    assert CAL.is_working_day(date(2026, 4, 28))
    # Friday 24 April 09:00, 1 day: Friday afternoon, then Tuesday morning.
    assert CAL.due_moment(at(2026, 4, 24, 9), 1) == at(2026, 4, 28, 11, 30)


def test_other_2026_holidays() -> None:
    for day in (date(2026, 1, 1), date(2026, 4, 30), date(2026, 5, 1), date(2026, 9, 1), date(2026, 9, 2)):
        assert not CAL.is_working_day(day), day
    assert not CAL.is_working_day(date(2026, 11, 24))  # Vietnamese Culture Day, from 2026
    # The announced National Day swap: Monday 31 Aug off, Saturday 22 Aug worked.
    assert not CAL.is_working_day(date(2026, 8, 31))
    assert CAL.is_working_day(date(2026, 8, 22))
    assert CAL.due_moment(at(2026, 8, 21, 14), 1) == at(2026, 8, 22, 17)


# --- holidays 2027 ----------------------------------------------------------------------------


def test_tet_2027_is_off() -> None:
    for day in range(4, 11):
        assert not CAL.is_working_day(date(2027, 2, day)), day
    assert CAL.is_working_day(date(2027, 2, 3))
    assert CAL.is_working_day(date(2027, 2, 11))
    assert CAL.due_moment(at(2027, 2, 3, 10), 1) == at(2027, 2, 11, 11, 30)


def test_hung_kings_2027() -> None:
    assert not CAL.is_working_day(date(2027, 4, 16))
    assert CAL.due_moment(at(2027, 4, 15, 14), 1) == at(2027, 4, 19, 17)


def test_due_date_crosses_into_next_year() -> None:
    # Wed 30 Dec 2026 09:00 + 10 days; 1 Jan 2027 is a holiday.
    assert CAL.due_moment(at(2026, 12, 30, 9), 10) == at(2027, 1, 14, 11, 30)
    fresh = WorkCalendar()  # nothing loaded yet: the later year is loaded on demand
    assert fresh.due_moment(at(2027, 12, 30, 9), 5) == at(2028, 1, 7, 11, 30)


# --- administrator exceptions -----------------------------------------------------------------


def test_make_up_saturday_counts() -> None:
    cal = WorkCalendar(extra_working_days=frozenset({date(2026, 3, 7)}))
    assert cal.is_working_day(date(2026, 3, 7))
    assert cal.due_moment(at(2026, 3, 6, 14), 1) == at(2026, 3, 7, 17)
    assert cal.due_moment(at(2026, 3, 7, 9), 1) == at(2026, 3, 9, 11, 30)  # received on the working Saturday


def test_extra_day_off() -> None:
    cal = WorkCalendar(extra_days_off=frozenset({date(2026, 3, 9)}))
    assert not cal.is_working_day(date(2026, 3, 9))
    assert cal.due_moment(at(2026, 3, 7, 10), 1) == at(2026, 3, 10, 17)


def test_administrator_wins_over_the_holidays_package() -> None:
    cal = WorkCalendar(extra_working_days=frozenset({date(2026, 2, 20)}))
    assert cal.is_working_day(date(2026, 2, 20))
    assert not cal.is_working_day(date(2026, 2, 19))
    # And an administrator can cancel the package's make-up Saturday.
    assert not WorkCalendar(extra_days_off=frozenset({date(2026, 8, 22)})).is_working_day(date(2026, 8, 22))


def test_a_day_cannot_be_both_off_and_working() -> None:
    with pytest.raises(ValueError, match="both"):
        WorkCalendar(extra_working_days={date(2026, 3, 7)}, extra_days_off={date(2026, 3, 7)})


def test_calendar_without_the_holidays_package() -> None:
    cal = WorkCalendar(country=None, holidays=frozenset({date(2026, 3, 3)}))
    assert cal.is_working_day(date(2026, 2, 17))  # no Tết without the package
    assert not cal.is_working_day(date(2026, 3, 3))


# --- same-day procedures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (at(*MON, 10), at(*MON, 17)),
        (at(*MON, 12), at(*MON, 17)),  # lunch, still before the cut-off
        (at(*MON, 14, 59, 59), at(*MON, 17)),
        (at(*MON, 15, 0), at(*TUE, 17)),  # at the cut-off is not before it
        (at(*MON, 18), at(*TUE, 17)),
        (at(2026, 3, 7, 9), at(2026, 3, 9, 17)),  # Saturday receipt → Monday 17:00
        (at(2026, 2, 13, 14), at(2026, 2, 13, 17)),  # eve of Tết, before the cut-off
        (at(2026, 2, 13, 15, 30), at(2026, 2, 23, 17)),  # eve of Tết after 15:00 → first day after Tết
        (at(2027, 2, 3, 15, 30), at(2027, 2, 11, 17)),
        (at(2026, 4, 24, 16), at(2026, 4, 28, 17)),  # before Hùng Kings' day in lieu
    ],
)
def test_same_day_due(start: datetime, due: datetime) -> None:
    assert CAL.same_day_due(start) == due


def test_same_day_cutoff_is_configurable() -> None:
    assert CAL.same_day_due(at(*MON, 15, 30), cutoff=time(16, 0)) == at(*MON, 17)
    assert CAL.same_day_due(at(*MON, 15, 30), cutoff="16:00") == at(*MON, 17)
    assert WorkCalendar(same_day_cutoff=time(11, 0)).same_day_due(at(*MON, 11, 0)) == at(*TUE, 17)


# --- pauses -----------------------------------------------------------------------------------


def test_pause_across_tet_moves_the_due_date() -> None:
    start = at(2026, 2, 10, 9)  # Tuesday; 3 days = 6 sessions → Friday 13 Feb 11:30
    due = CAL.due_moment(start, 3)
    assert due == at(2026, 2, 13, 11, 30)
    paused, resumed = at(2026, 2, 11, 10), at(2026, 2, 24, 14)
    # Left at the pause: Wednesday afternoon, Thursday ×2, Friday morning = 4 sessions.
    assert CAL.count_sessions(paused, due) == 4
    new_due = CAL.resume_due(due, paused, resumed)
    assert new_due == at(2026, 2, 26, 17)  # counted again from Wednesday 25 Feb
    assert CAL.due_after_pauses(start, 6, [(paused, resumed)]) == new_due


def test_open_pause_has_no_due_date() -> None:
    assert CAL.due_after_pauses(at(*MON, 9), 4, [(at(*MON, 10), None)]) is None


def test_two_pauses_in_any_order() -> None:
    start = at(*MON, 9)  # 2 days → Wednesday 11:30
    pauses = [(at(2026, 3, 4, 14), at(2026, 3, 9, 8)), (at(*MON, 10), at(*TUE, 9))]
    # First pause (Mon 10:00 → Tue 09:00): all 4 sessions left → Tue afternoon … Thu morning 11:30.
    # Second (Wed 14:00 → Mon 9 08:00): Thu morning left; Monday morning had begun → Monday 17:00.
    assert CAL.due_after_pauses(start, 4, pauses[1:]) == at(2026, 3, 5, 11, 30)
    assert CAL.due_after_pauses(start, 4, pauses) == at(2026, 3, 9, 17)


def test_pause_inside_the_last_session_and_after_the_due_moment() -> None:
    due = at(*TUE, 17)
    assert CAL.resume_due(due, at(*TUE, 14), at(2026, 3, 5, 9)) == at(2026, 3, 5, 9)  # nothing left
    assert CAL.resume_due(due, at(2026, 3, 4, 9), at(2026, 3, 5, 9)) == due  # already overdue


def test_bad_pauses_are_refused() -> None:
    with pytest.raises(ValueError):
        CAL.resume_due(at(*TUE, 17), at(*TUE, 9), at(*MON, 9))
    with pytest.raises(ValueError):
        CAL.due_after_pauses(at(*TUE, 9), 4, [(at(*MON, 9), at(*TUE, 8))])


# --- early, on time, late ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finished", "verdict"),
    [
        (at(*MON, 16), Timeliness.EARLY),
        (at(*TUE, 0, 0), Timeliness.ON_TIME),
        (at(*TUE, 11, 29), Timeliness.ON_TIME),
        (at(*TUE, 11, 30), Timeliness.ON_TIME),  # exactly at the due moment
        (at(*TUE, 11, 30, 0, 1), Timeliness.LATE),
        (at(*TUE, 14), Timeliness.LATE),
        (at(2026, 3, 4, 8), Timeliness.LATE),
        (datetime(2026, 3, 2, 20, 0, tzinfo=UTC), Timeliness.ON_TIME),  # 03:00 Tuesday in Hà Nội
    ],
)
def test_classify_finish(finished: datetime, verdict: Timeliness) -> None:
    assert CAL.classify_finish(finished, at(*TUE, 11, 30)) is verdict


def test_classify_immediate_and_open() -> None:
    assert CAL.classify_finish(at(*MON, 9), None) is Timeliness.ON_TIME
    due = at(*TUE, 17)
    assert CAL.classify_open(at(*TUE, 17), due) is Timeliness.WITHIN_TIME
    assert CAL.classify_open(at(*TUE, 17, 0, 1), due) is Timeliness.OVERDUE
    assert CAL.classify_open(at(2030, 1, 1), None) is Timeliness.WITHIN_TIME


# --- input checks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c, naive: c.add_sessions(naive, 2),
        lambda c, naive: c.due_moment(naive, 1),
        lambda c, naive: c.count_sessions(naive, at(*TUE, 17)),
        lambda c, naive: c.same_day_due(naive),
        lambda c, naive: c.classify_finish(naive, at(*TUE, 17)),
        lambda c, naive: c.classify_open(naive, None),
        lambda c, naive: c.resume_due(at(*TUE, 17), naive, at(*TUE, 9)),
    ],
)
def test_naive_datetimes_are_refused(call) -> None:
    with pytest.raises(NaiveDatetimeError, match="time zone"):
        call(CAL, datetime(2026, 3, 2, 9, 0))


def test_negative_session_count_is_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_sessions(at(*MON, 9), -1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sessions": ()},
        {"sessions": (("11:30", "07:30"),)},
        {"sessions": (("07:30", "12:00"), ("11:00", "17:00"))},
        {"working_weekdays": frozenset()},
        {"working_weekdays": frozenset({7})},
    ],
)
def test_bad_calendars_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        WorkCalendar(**kwargs)


def test_custom_schedule() -> None:
    # Saturday mornings, afternoon until 16:30.
    cal = make_calendar([("07:00", "11:00"), ("13:00", "16:30")], [0, 1, 2, 3, 4, 5])
    assert cal.is_working_day(date(2026, 3, 7))
    assert cal.due_moment(at(2026, 3, 7, 9), 1) == at(2026, 3, 9, 11, 0)  # Sunday skipped
    assert cal.due_moment(at(*MON, 14), 1) == at(*TUE, 16, 30)
    three = make_calendar([("07:00", "09:00"), ("09:00", "11:00"), ("13:00", "17:00")])
    assert three.sessions_for_days("1") == 3
    with pytest.raises(InvalidDuration):
        three.sessions_for_days("0.5")


def test_count_sessions_examples() -> None:
    assert CAL.count_sessions(at(*MON, 9), at(*TUE, 17)) == 3
    assert CAL.count_sessions(at(*MON, 7), at(*MON, 11, 30)) == 1
    assert CAL.count_sessions(at(*MON, 7), at(*MON, 11, 29)) == 0
    assert CAL.count_sessions(at(*TUE, 9), at(*MON, 9)) == 0
    assert CAL.count_sessions(at(2026, 2, 13, 12), at(2026, 2, 23, 12)) == 2
