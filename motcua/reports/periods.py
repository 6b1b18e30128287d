"""Reporting periods: month, quarter, 6 months, 9 months, year (pure, no Django).

A period is a range of local days ``[start, end)``. By default a month is the calendar month.
Some provinces close the monthly figures on the 14th (data from the 15th of the previous month
to the 14th of the month; from memory of Decree 09/2019/NĐ-CP, unconfirmed): ``first_day=15``
gives that cut, and the quarter, 6-, 9-month and yearly periods follow it.

A period not yet closed is read "so far" (``clamp``): it ends with today (``until``), so its
stocks are those at the end of today rather than a forecast for the end of the month.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

KINDS = ("month", "quarter", "half", "nine", "year")
#: months covered by each kind; quarter numbers 1–4, half and nine always start in January.
SPAN = {"month": 1, "quarter": 3, "half": 6, "nine": 9, "year": 12}
MAX_NUMBER = {"month": 12, "quarter": 4, "half": 1, "nine": 1, "year": 1}


class PeriodError(ValueError):
    """A period that does not exist (kind, year or number out of range)."""


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def month_start(year: int, month: int, first_day: int = 1) -> date:
    """First day of reporting month (year, month): the calendar month's first day, or the
    ``first_day`` of the previous calendar month when the month is cut on another day."""
    if first_day == 1:
        return date(year, month, 1)
    y, m = add_months(year, month, -1)
    return date(y, m, first_day)


@dataclass(frozen=True)
class Period:
    kind: str
    year: int
    number: int = 1
    first_day: int = 1
    until: date | None = None  # the last day read, for a period not yet closed (see ``clamp``)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise PeriodError(f"Unknown period kind {self.kind!r}.")
        if not 2000 <= self.year <= 2100:
            raise PeriodError(f"The year {self.year} is out of range.")
        if not 1 <= self.number <= MAX_NUMBER[self.kind]:
            raise PeriodError(f"{self.kind} {self.number} does not exist.")
        if not 1 <= self.first_day <= 28:
            raise PeriodError("A reporting month starts on a day from 1 to 28.")

    @property
    def first_month(self) -> int:
        if self.kind == "month":
            return self.number
        if self.kind == "quarter":
            return 3 * (self.number - 1) + 1
        return 1

    @property
    def months(self) -> list[tuple[int, int]]:
        """(year, month) of every reporting month in the period."""
        return [(self.year, self.first_month + i) for i in range(SPAN[self.kind])]

    @property
    def start(self) -> date:
        return month_start(self.year, self.first_month, self.first_day)

    @property
    def natural_end(self) -> date:
        """The day after the period's last day once it is closed."""
        y, m = add_months(self.year, self.first_month, SPAN[self.kind])
        return month_start(y, m, self.first_day)

    @property
    def end(self) -> date:
        """The day after the last day read (today's morrow for a period read so far)."""
        if self.until is not None and self.until + timedelta(days=1) < self.natural_end:
            return max(self.start, self.until + timedelta(days=1))
        return self.natural_end

    @property
    def so_far(self) -> bool:
        return self.end < self.natural_end

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def key(self) -> str:
        return f"{self.kind}-{self.year}-{self.number}"

    def month_periods(self) -> list[Period]:
        return [Period("month", y, m, self.first_day, self.until) for y, m in self.months]


def clamp(period: Period, today: date) -> Period:
    """``period`` read up to ``today`` when it is not closed yet (and unchanged otherwise)."""
    if period.start <= today < period.natural_end - timedelta(days=1):
        return replace(period, until=today)
    return period


def parse_key(key: str, first_day: int = 1) -> Period:
    """``month-2026-11`` → Period; raises PeriodError for anything else."""
    try:
        kind, year, number = key.strip().split("-")
        return Period(kind, int(year), int(number), first_day)
    except (ValueError, AttributeError) as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError(f"{key!r} is not a period such as month-2026-11.") from None


def containing(day: date, first_day: int = 1) -> Period:
    """The reporting month that contains ``day``."""
    if first_day == 1 or day.day < first_day:
        return Period("month", day.year, day.month, first_day)
    y, m = add_months(day.year, day.month, 1)
    return Period("month", y, m, first_day)


def trailing_months(last: Period, count: int) -> list[Period]:
    """``count`` reporting months ending with the month ``last`` (oldest first)."""
    out = []
    for back in range(count - 1, -1, -1):
        y, m = add_months(last.year, last.first_month + SPAN[last.kind] - 1, -back)
        out.append(Period("month", y, m, last.first_day))
    return out


def whole_months(start: date, end: date) -> tuple[list[date], list[tuple[date, date]]]:
    """Split ``[start, end)`` into calendar months lying wholly inside it (their first days) and
    the leftover day ranges, so sums can read monthly rows for the former and daily rows for the
    latter."""
    months: list[date] = []
    partial: list[tuple[date, date]] = []
    cursor = start
    while cursor < end:
        y, m = add_months(cursor.year, cursor.month, 1)
        next_month = date(y, m, 1)
        if cursor.day == 1 and next_month <= end:
            months.append(cursor)
            cursor = next_month
        else:
            stop = min(next_month, end)
            partial.append((cursor, stop))
            cursor = stop
    return months, partial
