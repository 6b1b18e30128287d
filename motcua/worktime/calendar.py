"""Working-time arithmetic: sessions, working days, due dates, pauses and timeliness.

Pure Python on purpose (no Django): the rules in DESIGN.md "Default time rules" are the heart of
every appointment date and every monthly report, so they are tested as plain functions and run
the same in the web process, the workers and the benchmarks.

The counting rule: a working day is cut into sessions, half-open intervals [start, end). The
session that contains the start moment is charged to the current holder, so counting begins with
the first session that starts *strictly after* the start moment; ``add_sessions(start, n)`` is
the end of the n-th session counted that way and ``count_sessions`` is its exact inverse.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

VIETNAM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_SESSIONS: tuple[tuple[time, time], ...] = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
DEFAULT_WEEKDAYS: frozenset[int] = frozenset({0, 1, 2, 3, 4})
DEFAULT_SAME_DAY_CUTOFF = time(15, 0)
#: Longest time limit accepted, in working days; anything longer is a typing mistake.
MAX_DAYS = Decimal(365)
MAX_SESSIONS = 24

Session = tuple[time, time]
Pause = tuple[datetime, datetime | None]


class InvalidDuration(ValueError):
    """A time limit that cannot be counted in sessions; ``code`` lets callers translate the message."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone: guessing its zone would silently shift appointments."""


class Timeliness(StrEnum):
    """Verdicts of the monthly report: the first three for finished dossiers, the last two for open ones."""

    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"
    WITHIN_TIME = "within_time"
    OVERDUE = "overdue"


def parse_time(value: time | str) -> time:
    """Accept ``time`` objects or "HH:MM" strings (settings and admin forms use the latter)."""
    if isinstance(value, time):
        return value
    return time.fromisoformat(value.strip())


@lru_cache(maxsize=512)
def _public_days(country: str, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off, weekend working days) the ``holidays`` package knows for one year.

    Cached for the process: building a country's holidays costs milliseconds and every
    calendar of the province shares the same public holidays.
    """
    if not 1 <= year <= 9999:
        return frozenset(), frozenset()
    country_days = holidays_lib.country_holidays(country, years=year)
    days_off = frozenset(d for d in country_days if d.year == year)
    # Announced make-up Saturdays (ngày làm bù), when the installed release knows them.
    workdays = frozenset(d for d in getattr(country_days, "weekend_workdays", ()) if d.year == year)
    return days_off, workdays


@dataclass(frozen=True, slots=True)
class _DayTable:
    """Working-day flags and sorted ordinals of the working days for years ``first``..``last``."""

    first: int
    last: int
    base: int  # ordinal of 1 January of ``first``
    top: int  # ordinal of 31 December of ``last``
    flags: bytes
    ordinals: list[int]


_BUILD_LOCK = threading.Lock()


@dataclass(frozen=True)
class WorkCalendar:
    """The working calendar of one agency: sessions, working weekdays, holidays and exceptions.

    Precedence for a date: an administrator's working day, then an administrator's day off, then
    explicit ``holidays`` and the ``country`` public holidays, then the package's make-up
    Saturdays, then the working weekdays. Public holidays are loaded lazily per year, so a due
    date may cross into a year nobody asked for yet.
    """

    sessions: tuple[Session, ...] = DEFAULT_SESSIONS
    working_weekdays: frozenset[int] = DEFAULT_WEEKDAYS
    tz: ZoneInfo = VIETNAM_TZ
    holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    extra_days_off: frozenset[date] = frozenset()
    country: str | None = "VN"
    same_day_cutoff: time = DEFAULT_SAME_DAY_CUTOFF
    # Memo state, not part of the value: the day table, session ends and parsed durations.
    _days: _DayTable | None = field(default=None, init=False, repr=False, compare=False, hash=False)
    _end_memo: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    _durations: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    _starts: tuple[time, ...] = field(default=(), init=False, repr=False, compare=False, hash=False)
    _ends: tuple[time, ...] = field(default=(), init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        sessions = tuple((parse_time(s), parse_time(e)) for s, e in self.sessions)
        if not 1 <= len(sessions) <= MAX_SESSIONS:
            raise ValueError(f"A working day needs between 1 and {MAX_SESSIONS} sessions.")
        for start, end in sessions:
            if start.tzinfo or end.tzinfo:
                raise ValueError("Session times are local times and must not carry a time zone.")
            if not start < end:
                raise ValueError(f"Session {start:%H:%M}–{end:%H:%M} must start before it ends.")
        for (_, end), (start, _) in itertools.pairwise(sessions):
            if start < end:
                raise ValueError("Sessions must be in order and must not overlap.")
        weekdays = frozenset(int(d) for d in self.working_weekdays)
        if not weekdays or not weekdays <= set(range(7)):
            raise ValueError("Working weekdays must be a non-empty set of numbers 0 (Monday) to 6 (Sunday).")
        extra_working = frozenset(self.extra_working_days)
        extra_off = frozenset(self.extra_days_off)
        if both := extra_working & extra_off:
            raise ValueError(f"A date cannot be both an extra working day and an extra day off: {sorted(both)}.")
        tz = self.tz if isinstance(self.tz, ZoneInfo) else ZoneInfo(str(self.tz))
        set_ = object.__setattr__
        set_(self, "sessions", sessions)
        set_(self, "working_weekdays", weekdays)
        set_(self, "tz", tz)
        set_(self, "holidays", frozenset(self.holidays))
        set_(self, "extra_working_days", extra_working)
        set_(self, "extra_days_off", extra_off)
        set_(self, "same_day_cutoff", parse_time(self.same_day_cutoff))
        set_(self, "_starts", tuple(s for s, _ in sessions))
        set_(self, "_ends", tuple(e for _, e in sessions))

    # --- days -------------------------------------------------------------------------------

    @property
    def sessions_per_day(self) -> int:
        return len(self.sessions)

    def _decide(self, day: date, public_off: frozenset[date], public_work: frozenset[date]) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.extra_days_off or day in self.holidays or day in public_off:
            return False
        if day in public_work:
            return True
        return day.weekday() in self.working_weekdays

    def _build(self, first: int, last: int) -> _DayTable:
        base = date(first, 1, 1).toordinal()
        flags = bytearray()
        for year in range(first, last + 1):
            public_off, public_work = _public_days(self.country, year) if self.country else (frozenset(), frozenset())
            day = date(year, 1, 1)
            while day.year == year:
                flags.append(self._decide(day, public_off, public_work))
                day += timedelta(days=1)
        ordinals = [base + i for i, flag in enumerate(flags) if flag]
        return _DayTable(first, last, base, base + len(flags) - 1, bytes(flags), ordinals)

    def _table(self, first: int, last: int) -> _DayTable:
        """The day table covering at least years ``first``..``last`` (built once, widened on demand)."""
        table = self._days
        if table is not None and table.first <= first and last <= table.last:
            return table
        with _BUILD_LOCK:
            table = self._days
            if table is not None:
                first, last = min(first, table.first), max(last, table.last)
                if table.first == first and table.last == last:
                    return table
            if not 1 <= first <= last <= 9998:
                raise ValueError("Dates outside the years 1–9998 cannot be counted.")
            table = self._build(first, last)
            object.__setattr__(self, "_days", table)
            return table

    def _covering(self, ordinal: int) -> _DayTable:
        table = self._days
        if table is None or not table.base <= ordinal <= table.top:
            year = date.fromordinal(ordinal).year
            table = self._table(year, year)
        return table

    def is_working_day(self, day: date) -> bool:
        """True when sessions run on ``day`` (see the class docstring for the precedence)."""
        if isinstance(day, datetime):
            day = self.localize(day).date()
        ordinal = day.toordinal()
        table = self._covering(ordinal)
        return bool(table.flags[ordinal - table.base])

    def _nth_after(self, ordinal: int, n: int) -> int:
        """Ordinal of the ``n``-th working day strictly after ``ordinal`` (n ≥ 1)."""
        table = self._covering(ordinal)
        while True:
            index = bisect.bisect_right(table.ordinals, ordinal) + n - 1
            if index < len(table.ordinals):
                return table.ordinals[index]
            table = self._table(table.first, table.last + 1 + n // 200)

    def next_working_day(self, day: date, n: int = 1) -> date:
        """The ``n``-th working day strictly after ``day`` (n ≥ 1)."""
        if n < 1:
            raise ValueError("n must be at least 1.")
        return date.fromordinal(self._nth_after(day.toordinal(), n))

    def working_days_between(self, first: date, last: date) -> int:
        """Working days strictly after ``first`` and strictly before ``last``."""
        if last <= first:
            return 0
        ordinals = self._table(first.year, last.year).ordinals
        return bisect.bisect_left(ordinals, last.toordinal()) - bisect.bisect_right(ordinals, first.toordinal())

    # --- moments ----------------------------------------------------------------------------

    def localize(self, moment: datetime) -> datetime:
        """``moment`` in the calendar's zone; naive datetimes are refused, not guessed."""
        zone = moment.tzinfo
        if zone is self.tz:
            return moment
        if zone is None or moment.utcoffset() is None:
            raise NaiveDatetimeError(
                f"{moment.isoformat()} has no time zone; pass an aware datetime (e.g. with tzinfo={self.tz.key})."
            )
        return moment.astimezone(self.tz)

    def _end(self, ordinal: int, index: int) -> datetime:
        """End of session ``index`` on day ``ordinal``, memoised: building aware datetimes dominates the cost."""
        key = ordinal * MAX_SESSIONS + index
        memo = self._end_memo
        moment = memo.get(key)
        if moment is None:
            if len(memo) > 100_000:
                memo.clear()
            moment = memo[key] = datetime.combine(date.fromordinal(ordinal), self._ends[index], tzinfo=self.tz)
        return moment

    def add_sessions(self, start: datetime, n: int) -> datetime:
        """End of the ``n``-th working session that starts strictly after ``start``.

        ``n == 0`` gives ``start`` back (in the calendar's zone): nothing to count.
        """
        local = start if start.tzinfo is self.tz else self.localize(start)
        if n <= 0:
            if n < 0:
                raise ValueError("The number of sessions cannot be negative.")
            return local
        ordinal = local.toordinal()
        table = self._covering(ordinal)
        per_day = len(self._ends)
        if table.flags[ordinal - table.base]:
            first = bisect.bisect_right(self._starts, local.time())
            left_today = per_day - first
            if n <= left_today:
                return self._end(ordinal, first + n - 1)
            n -= left_today
        whole, rest = divmod(n, per_day)
        if rest:
            return self._end(self._nth_after(ordinal, whole + 1), rest - 1)
        return self._end(self._nth_after(ordinal, whole), per_day - 1)

    def count_sessions(self, start: datetime, end: datetime) -> int:
        """Whole working sessions that start strictly after ``start`` and end at or before ``end``."""
        s, e = self.localize(start), self.localize(end)
        if e <= s:
            return 0
        s_day, e_day = s.date(), e.date()
        s_time, e_time = s.time(), e.time()
        per_day = len(self.sessions)
        if s_day == e_day:
            if not self.is_working_day(s_day):
                return 0
            first = bisect.bisect_right(self._starts, s_time)
            stop = bisect.bisect_right(self._ends, e_time)
            return max(0, stop - first)
        total = self.working_days_between(s_day, e_day) * per_day
        if self.is_working_day(s_day):
            total += per_day - bisect.bisect_right(self._starts, s_time)
        if self.is_working_day(e_day):
            total += bisect.bisect_right(self._ends, e_time)
        return total

    def end_of_day(self, day: date) -> datetime:
        """End of the last session of ``day`` (whether or not it is a working day)."""
        return self._end(day.toordinal(), len(self._ends) - 1)

    # --- time limits ------------------------------------------------------------------------

    def sessions_for_days(self, days: Decimal | int | str) -> int:
        """Sessions in a time limit of ``days`` working days (0.5 day = 1 session with two sessions a day).

        Raises InvalidDuration for negative, absurdly long or non-session-multiple limits.
        """
        known = self._durations
        try:
            return known[days]
        except (KeyError, TypeError):
            pass
        sessions = self._sessions_for_days(days)
        if len(known) < 4096:
            known[days] = sessions
        return sessions

    def _sessions_for_days(self, days: Decimal | int | str) -> int:
        per_day = len(self.sessions)
        try:
            value = days if isinstance(days, Decimal) else Decimal(str(days).strip())
        except (InvalidOperation, ValueError):
            raise InvalidDuration(f"The time limit “{days}” is not a number of days.", "not_a_number") from None
        if not value.is_finite():
            raise InvalidDuration(f"The time limit “{days}” is not a number of days.", "not_a_number")
        if value < 0:
            raise InvalidDuration("The time limit cannot be negative.", "negative")
        if value > MAX_DAYS:
            raise InvalidDuration(f"The time limit cannot be longer than {MAX_DAYS} working days.", "too_long")
        sessions = value * per_day
        if sessions != sessions.to_integral_value():
            step = "half a day" if per_day == 2 else f"1/{per_day} day"
            raise InvalidDuration(f"The time limit must be a whole number of sessions ({step} each).", "not_a_session")
        return int(sessions)

    def due_moment(self, start: datetime, days: Decimal | int | str) -> datetime | None:
        """Appointment for a time limit of ``days`` working days; None for an immediate procedure."""
        sessions = self.sessions_for_days(days)
        if sessions == 0:
            self.localize(start)  # still refuse a naive start
            return None
        return self.add_sessions(start, sessions)

    def same_day_due(self, start: datetime, cutoff: time | None = None) -> datetime:
        """Due moment of a same-day ("trong ngày") procedure.

        Received on a working day before the cut-off: the end of that day; otherwise the end of
        the next working day (a Saturday receipt is due on Monday, a receipt after the cut-off on
        the eve of Tết on the first working day after Tết).
        """
        local = self.localize(start)
        limit = self.same_day_cutoff if cutoff is None else parse_time(cutoff)
        day = local.date()
        if self.is_working_day(day) and local.time() < limit:
            return self.end_of_day(day)
        return self.end_of_day(self.next_working_day(day))

    # --- pauses -----------------------------------------------------------------------------

    def resume_due(self, current_due: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
        """New due moment after a pause for the applicant's supplement.

        The sessions left at the pause (counted like any hand-over) are counted again from the
        next session after the resume. A pause inside the last session leaves nothing, so the
        dossier is due at the resume moment itself; a pause that starts after the due moment
        changes nothing: the time was already used up.
        """
        due, paused, resumed = self.localize(current_due), self.localize(paused_at), self.localize(resumed_at)
        if resumed < paused:
            raise ValueError("A pause cannot end before it starts.")
        if paused >= due:
            return due
        return self.add_sessions(resumed, self.count_sessions(paused, due))

    def due_after_pauses(self, start: datetime, sessions: int, pauses: Sequence[Pause]) -> datetime | None:
        """Due moment of ``sessions`` sessions from ``start`` after each (paused_at, resumed_at) pause.

        Pauses are applied in time order; while the last one is still open (resumed_at None) the
        due moment is undefined and None is returned.
        """
        local_start = self.localize(start)
        if sessions == 0:
            return None
        due = self.add_sessions(local_start, sessions)
        previous_end = local_start
        for paused_at, resumed_at in sorted(pauses, key=lambda p: self.localize(p[0])):
            paused = self.localize(paused_at)
            if paused < previous_end:
                raise ValueError("Pauses must start after the start moment and must not overlap.")
            if resumed_at is None:
                return None
            due = self.resume_due(due, paused, resumed_at)
            previous_end = self.localize(resumed_at)
        return due

    # --- verdicts ---------------------------------------------------------------------------

    def classify_finish(self, finished: datetime, due: datetime | None) -> Timeliness:
        """Early (a calendar day before the due day), on time (due day, not after the due time) or late."""
        done = self.localize(finished)
        if due is None:
            return Timeliness.ON_TIME
        limit = self.localize(due)
        if done.date() < limit.date():
            return Timeliness.EARLY
        return Timeliness.ON_TIME if done <= limit else Timeliness.LATE

    def classify_open(self, now: datetime, due: datetime | None) -> Timeliness:
        """Within time until the due moment (inclusive), overdue after it."""
        moment = self.localize(now)
        if due is None or moment <= self.localize(due):
            return Timeliness.WITHIN_TIME
        return Timeliness.OVERDUE


def make_calendar(
    sessions: Iterable[tuple[time | str, time | str]] = DEFAULT_SESSIONS,
    working_weekdays: Iterable[int] = DEFAULT_WEEKDAYS,
    *,
    extra_working_days: Iterable[date] = (),
    extra_days_off: Iterable[date] = (),
    holidays: Iterable[date] = (),
    country: str | None = "VN",
    same_day_cutoff: time | str = DEFAULT_SAME_DAY_CUTOFF,
    tz: ZoneInfo | str = VIETNAM_TZ,
) -> WorkCalendar:
    """Build a calendar from loose values ("07:30" strings, lists) as settings and forms give them."""
    return WorkCalendar(
        sessions=tuple((parse_time(s), parse_time(e)) for s, e in sessions),
        working_weekdays=frozenset(working_weekdays),
        tz=tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz),
        holidays=frozenset(holidays),
        extra_working_days=frozenset(extra_working_days),
        extra_days_off=frozenset(extra_days_off),
        country=country,
        same_day_cutoff=parse_time(same_day_cutoff),
    )
