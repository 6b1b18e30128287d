"""Working-time API: the appointment date a counter, the portal or a partner would print.

Public (the calendar is public); parameters arrive as text and are checked here so every
mistake gets a readable sentence in the request's language instead of a schema dump.
"""

import re
from datetime import datetime, time
from decimal import Decimal

from django.http import HttpRequest
from ninja import Router, Schema

from motcua.api.errors import ApiError
from motcua.worktime import messages, selectors
from motcua.worktime.calendar import InvalidDuration

router = Router()

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


@router.get("/due", response=DueOut, auth=None, summary="Due moment of a time limit")
def due(
    request: HttpRequest,
    agency: str,
    start: str,
    days: str | None = None,
    same_day: bool = False,
    cutoff: str | None = None,
) -> dict:
    """Due moment for ``days`` working days from ``start`` at ``agency`` (naive times are Vietnam time).

    ``same_day=true`` asks for a same-day procedure instead (due at the end of the day when
    received before ``cutoff``, default that of the agency's schedule). ``days=0`` is immediate:
    no appointment, ``due`` is null.
    """
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
