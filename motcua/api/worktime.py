"""Working-time API: the appointment date a counter, the portal or a partner would print.

Public (the calendar is public); parameters arrive as text and are checked here so every
mistake gets a readable sentence in the request's language instead of a schema dump.
"""

import re
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import StringConstraints

from motcua.api import params
from motcua.api.errors import COMMON, NOT_FOUND, ApiError, answers
from motcua.worktime import messages, selectors
from motcua.worktime.calendar import MAX_DAYS, InvalidDuration

router = Router()


def _moment_problem(raw: str) -> str:
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return messages.bad_moment(raw)
    return messages.bad_moment(raw) if 1901 <= moment.year <= 2100 else messages.moment_out_of_range(raw)


def _days_problem(raw: str) -> str:
    """Why ``raw`` is not a number of days, in the calendar's words."""
    try:
        value = Decimal(raw.strip())
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite() or not re.fullmatch(r"[0-9.+-]+", raw.strip()):
        code = "not_a_number"
    elif value < 0:
        code = "negative"
    elif value > MAX_DAYS:
        code = "too_long"
    elif value * 2 != (value * 2).to_integral_value():
        code = "not_a_session"
    else:
        code = "not_a_number"
    return messages.invalid_duration(InvalidDuration(raw, code), raw)


params.register_message(params.MOMENT, _moment_problem)
params.register_message(params.DAYS, _days_problem)
params.register_message(params.TIME_OF_DAY, messages.bad_time_of_day)


class DueQuery(Schema):
    agency: Annotated[str, StringConstraints(pattern=params.AGENCY_CODE)] = Field(
        description="Identification code of the agency whose calendar counts, e.g. 000.21.31.H62."
    )
    start: Annotated[str, StringConstraints(pattern=params.MOMENT)] = Field(
        description="Moment of receipt, 1901–2100: 2026-03-02T09:00, with an offset (+07:00, Z) or Vietnam time."
    )
    days: Annotated[str, StringConstraints(pattern=params.DAYS)] | None = Field(
        None, description="Working days, 0 to 365 in steps of half a day; required unless same_day=true."
    )
    same_day: bool = Field(False, description="A same-day procedure: due at the end of the day of receipt.")
    cutoff: Annotated[str, StringConstraints(pattern=params.TIME_OF_DAY)] | None = Field(
        None, description="HH:MM; with same_day, received later is due the next working day (default: the agency's)."
    )


# A "+" in a query string arrives as a space when the client forgot to encode it.
_SPACE_OFFSET = re.compile(r"^(?P<moment>.+T[\d:.]+) (?P<offset>\d{2}:?\d{2})$")


class DueOut(Schema):
    agency: str
    start: datetime
    days: str | None
    sessions: int | None
    due: datetime | None
    immediate: bool
    same_day: bool


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(message, status=422, errors=[{"field": field, "message": message}])


def _parse_start(raw: str, tz) -> datetime:
    text = raw.strip()
    if match := _SPACE_OFFSET.match(text):
        text = f"{match['moment']}+{match['offset']}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid("start", messages.bad_moment(raw)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)  # naive means local time of the office
    if not 1901 <= moment.year <= 2100:
        raise _invalid("start", messages.moment_out_of_range(raw))
    return moment.astimezone(tz)


def _parse_cutoff(raw: str | None) -> time | None:
    if raw is None or not raw.strip():
        return None
    try:
        return time.fromisoformat(raw.strip())
    except ValueError:
        raise _invalid("cutoff", messages.bad_time_of_day(raw)) from None


@router.get("/due", response=answers({200: DueOut}, COMMON, NOT_FOUND), auth=None, summary="Due moment of a time limit")
def due(request: HttpRequest, query: Query[DueQuery]) -> dict:
    """Due moment for ``days`` working days from ``start`` at ``agency`` (naive times are Vietnam time).

    ``same_day=true`` asks for a same-day procedure instead (due at the end of the day when
    received before ``cutoff``, default that of the agency's schedule). ``days=0`` is immediate:
    no appointment, ``due`` is null. An unknown agency is 404.
    """
    agency, start, days, same_day, cutoff = query.agency, query.start, query.days, query.same_day, query.cutoff
    found = selectors.agency_by_code(agency)
    if found is None:
        raise ApiError(messages.unknown_agency(agency), status=404)
    calendar = selectors.calendar_for_agency(found)
    moment = _parse_start(start, calendar.tz)
    result = {"agency": found.code, "start": moment, "same_day": same_day}
    if same_day:
        limit = _parse_cutoff(cutoff)
        return {
            **result,
            "days": None,
            "sessions": None,
            "immediate": False,
            "due": calendar.same_day_due(moment, limit),
        }
    if days is None or not days.strip():
        raise _invalid("days", messages.days_missing())
    try:
        sessions = calendar.sessions_for_days(days.strip())
    except InvalidDuration as error:
        raise _invalid("days", messages.invalid_duration(error, days)) from None
    value = Decimal(sessions) / calendar.sessions_per_day
    return {
        **result,
        "days": format(value.quantize(Decimal("0.1")), "f"),
        "sessions": sessions,
        "immediate": sessions == 0,
        "due": calendar.add_sessions(moment, sessions) if sessions else None,
    }
