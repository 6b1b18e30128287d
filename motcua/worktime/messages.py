"""Readable sentences about working time for people, in the active language.

The pure calendar raises English errors with a ``code``; the API, the counter and imports turn
them into a sentence here, so the Vietnamese wording lives in this app's catalogue once.
"""

from django.utils.translation import gettext as _

from motcua.worktime.calendar import MAX_DAYS, InvalidDuration


def invalid_duration(error: InvalidDuration, raw: object) -> str:
    if error.code == "negative":
        return _("The number of days cannot be negative.")
    if error.code == "too_long":
        return _("The number of days is too large (at most %(max)s working days).") % {"max": MAX_DAYS}
    if error.code == "not_a_session":
        return _("The number of days must be a multiple of half a day (0.5).")
    return _("“%(value)s” is not a number of days.") % {"value": raw}


def days_missing() -> str:
    return _("Give the time limit in working days, or same_day=true.")


def unknown_agency(code: str) -> str:
    return _("No agency has the code “%(code)s”.") % {"code": code}


def bad_moment(raw: str) -> str:
    return _("“%(value)s” is not a date and time; use the form 2026-03-02T09:00.") % {"value": raw}


def moment_out_of_range(raw: str) -> str:
    return _("The date “%(value)s” is outside the years the calendar covers (1901–2100).") % {"value": raw}


def bad_time_of_day(raw: str) -> str:
    return _("“%(value)s” is not a time of day; use the form 15:00.") % {"value": raw}
