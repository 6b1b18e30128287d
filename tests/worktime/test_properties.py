"""Properties of the session arithmetic, checked by hypothesis over 2025–2028.

count_sessions must undo add_sessions exactly, or a pause and resume would gain or lose time;
add_sessions must never go backwards; and the fast day-skipping code must agree with a slow
session-by-session walk.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from motcua.worktime.calendar import WorkCalendar

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ZONES = st.sampled_from([VN, UTC, ZoneInfo("Europe/Paris")])
MOMENTS = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 6, 30), timezones=ZONES)
# Starts on the minute grid hit session boundaries (07:30, 11:30 …) often, where bugs live.
ON_THE_MINUTE = st.builds(
    lambda day, minute: datetime.combine(day, datetime.min.time(), tzinfo=VN) + timedelta(minutes=minute),
    st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 6, 30)),
    st.sampled_from([0, 450, 451, 449, 690, 810, 1020, 1019, 1021, 720, 900, 1439]),
)
STARTS = st.one_of(MOMENTS, ON_THE_MINUTE)
DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2029, 12, 31))
CALENDARS = st.builds(
    lambda working, off: WorkCalendar(extra_working_days=frozenset(working), extra_days_off=frozenset(off - working)),
    st.sets(DAYS, max_size=20),
    st.sets(DAYS, max_size=20),
)
DEFAULT = WorkCalendar()
FAST = settings(max_examples=150, deadline=None)


@FAST
@given(start=STARTS, n=st.integers(min_value=0, max_value=730))
def test_count_undoes_add(start: datetime, n: int) -> None:
    assert DEFAULT.count_sessions(start, DEFAULT.add_sessions(start, n)) == n


@FAST
@given(cal=CALENDARS, start=STARTS, n=st.integers(min_value=0, max_value=120))
def test_count_undoes_add_with_exceptions(cal: WorkCalendar, start: datetime, n: int) -> None:
    assert cal.count_sessions(start, cal.add_sessions(start, n)) == n


@FAST
@given(start=STARTS, n=st.integers(min_value=0, max_value=729))
def test_add_is_strictly_increasing_in_n(start: datetime, n: int) -> None:
    assert DEFAULT.add_sessions(start, n) < DEFAULT.add_sessions(start, n + 1)


@FAST
@given(a=STARTS, b=STARTS, n=st.integers(min_value=1, max_value=60))
def test_add_is_monotonic_in_start(a: datetime, b: datetime, n: int) -> None:
    early, late = sorted((a, b))
    assert DEFAULT.add_sessions(early, n) <= DEFAULT.add_sessions(late, n)


@FAST
@given(start=STARTS, n=st.integers(min_value=1, max_value=200))
def test_result_is_the_end_of_a_session_on_a_working_day(start: datetime, n: int) -> None:
    due = DEFAULT.add_sessions(start, n)
    assert due > start
    assert DEFAULT.is_working_day(due.date())
    assert due.time() in {end for _, end in DEFAULT.sessions}
    assert due.utcoffset() == timedelta(hours=7)


def _walk_count(cal: WorkCalendar, start: datetime, end: datetime) -> int:
    """The slow, obvious count: look at every session of every day in between."""
    s, e = start.astimezone(VN), end.astimezone(VN)
    total, day = 0, s.date()
    while day <= e.date():
        if cal.is_working_day(day):
            for begin, finish in cal.sessions:
                if datetime.combine(day, begin, tzinfo=VN) > s and datetime.combine(day, finish, tzinfo=VN) <= e:
                    total += 1
        day += timedelta(days=1)
    return total


@FAST
@given(cal=CALENDARS, start=STARTS, span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)))
def test_count_matches_a_slow_walk(cal: WorkCalendar, start: datetime, span: timedelta) -> None:
    assert cal.count_sessions(start, start + span) == _walk_count(cal, start, start + span)
