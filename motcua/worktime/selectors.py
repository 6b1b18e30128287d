"""Which calendar applies to an agency or a unit.

The calendar is public information (citizens see their appointment dates), so these look-ups
are not scoped to a caller. Calendars are cached in the process and rebuilt when any exception
or schedule changes, so an API call costs two small aggregate queries, not a holidays build.
"""

import threading
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Count, Max

from motcua.org.models import AdministrativeUnit, Agency
from motcua.worktime.calendar import WorkCalendar, make_calendar
from motcua.worktime.models import CalendarException, WorkSchedule

_lock = threading.Lock()
_cache: dict = {"stamp": None, "calendars": {}}


def unit_ids_up(unit: AdministrativeUnit) -> list[int]:
    """Primary keys from the top of the tree down to ``unit``, read from its materialised path."""
    ids = [int(part) for part in (unit.path or "").strip("/").split("/") if part]
    return ids or [unit.pk]


def version_stamp() -> tuple:
    """Changes whenever an exception or a schedule is added, edited or deleted (in any process)."""
    exceptions = CalendarException.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    schedules = WorkSchedule.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    return (exceptions["n"], exceptions["at"], schedules["n"], schedules["at"])


def default_calendar(**overrides) -> WorkCalendar:
    """The calendar of settings.MOTCUA_WORKTIME (DESIGN.md defaults) with optional overrides."""
    config = settings.MOTCUA_WORKTIME
    values = {
        "sessions": config.get("SESSIONS", (("07:30", "11:30"), ("13:30", "17:00"))),
        "working_weekdays": config.get("WORKING_WEEKDAYS", (0, 1, 2, 3, 4)),
        "same_day_cutoff": config.get("SAME_DAY_CUTOFF", "15:00"),
        "country": config.get("HOLIDAY_COUNTRY", "VN"),
        "tz": settings.TIME_ZONE,
    }
    values.update(overrides)
    return make_calendar(**values)


def _nearest_schedule(agency_id: int | None, unit_ids: list[int]) -> WorkSchedule | None:
    if agency_id is not None:
        schedule = WorkSchedule.objects.filter(agency_id=agency_id).first()
        if schedule is not None:
            return schedule
    by_unit = {s.unit_id: s for s in WorkSchedule.objects.filter(unit_id__in=unit_ids)}
    for unit_id in reversed(unit_ids):
        if unit_id in by_unit:
            return by_unit[unit_id]
    return None


def _exceptions(unit_ids: list[int]) -> tuple[set, set]:
    """(extra working days, extra days off); on a clash the exception of the lower unit wins."""
    depth = {unit_id: i for i, unit_id in enumerate(unit_ids)}
    chosen: dict = {}
    rows: Iterable = CalendarException.objects.filter(unit_id__in=unit_ids).values_list("unit_id", "date", "kind")
    for unit_id, day, kind in rows:
        if day not in chosen or depth[unit_id] > chosen[day][0]:
            chosen[day] = (depth[unit_id], kind)
    working = {day for day, (_, kind) in chosen.items() if kind == CalendarException.Kind.WORKING_DAY}
    off = {day for day, (_, kind) in chosen.items() if kind == CalendarException.Kind.DAY_OFF}
    return working, off


def _build(agency_id: int | None, unit_ids: list[int]) -> WorkCalendar:
    schedule = _nearest_schedule(agency_id, unit_ids)
    working, off = _exceptions(unit_ids)
    overrides: dict = {"extra_working_days": working, "extra_days_off": off}
    if schedule is not None:
        overrides.update(
            sessions=schedule.sessions, working_weekdays=schedule.weekdays, same_day_cutoff=schedule.same_day_cutoff
        )
    return default_calendar(**overrides)


def _cached(key: tuple, agency_id: int | None, unit_ids: list[int]) -> WorkCalendar:
    stamp = version_stamp()
    with _lock:
        if _cache["stamp"] != stamp:
            _cache["stamp"], _cache["calendars"] = stamp, {}
        calendar = _cache["calendars"].get(key)
    if calendar is None:
        calendar = _build(agency_id, unit_ids)
        with _lock:
            if _cache["stamp"] == stamp:
                _cache["calendars"][key] = calendar
    return calendar


def calendar_for_agency(agency: Agency) -> WorkCalendar:
    """The agency's calendar: its own hours, else the nearest unit's up the tree, else the defaults;
    with the exceptions of its unit and every unit above it."""
    unit = agency.unit
    return _cached(("agency", agency.pk, unit.path), agency.pk, unit_ids_up(unit))


def calendar_for_unit(unit: AdministrativeUnit) -> WorkCalendar:
    """The calendar of a unit when no agency is involved (e.g. reports of a whole commune)."""
    return _cached(("unit", unit.pk, unit.path), None, unit_ids_up(unit))


def agency_by_code(code: str) -> Agency | None:
    return Agency.objects.select_related("unit").filter(code=code.strip().upper()).first()


def clear_cache() -> None:
    """Forget cached calendars (tests and the demo loader call it; normal code relies on the stamp)."""
    with _lock:
        _cache["stamp"], _cache["calendars"] = None, {}
