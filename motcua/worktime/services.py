"""The only code that writes calendar exceptions and working hours.

Every function validates fully before writing and runs in one transaction, so bad input (no
reason, a second exception on the same day) raises a ValidationError and saves nothing.
"""

from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from motcua.org.models import AdministrativeUnit, Agency
from motcua.text import normalize
from motcua.worktime.models import WEEKDAY_FIELDS, CalendarException, WorkSchedule


def _attach_actor(instance, actor) -> None:
    # simple-history records who made the change even outside a request.
    if actor is not None and getattr(actor, "pk", None):
        instance._history_user = actor


@transaction.atomic
def save_exception(exception: CalendarException, actor=None) -> CalendarException:
    """Validate and save a new or edited exception (the desk calls this from save_model)."""
    exception.reason = normalize(exception.reason or "")
    if exception.pk is None and exception.created_by_id is None and actor is not None and actor.pk:
        exception.created_by = actor
    exception.full_clean()
    _attach_actor(exception, actor)
    exception.save()
    return exception


def add_exception(unit: AdministrativeUnit, date: date, kind: str, reason: str, actor=None) -> CalendarException:
    """Record an extra day off or a make-up working day for ``unit`` and the units below it."""
    if kind not in CalendarException.Kind.values:
        raise ValidationError({"kind": _("Choose whether the day is a day off or a working day.")})
    return save_exception(CalendarException(unit=unit, date=date, kind=kind, reason=reason), actor)


@transaction.atomic
def upsert_exception(unit: AdministrativeUnit, date: date, kind: str, reason: str, actor=None) -> CalendarException:
    """Create or update the exception of ``unit`` on ``date`` (idempotent, for loaders and imports)."""
    exception = CalendarException.objects.filter(unit=unit, date=date).first()
    if exception is None:
        return add_exception(unit, date, kind, reason, actor)
    if exception.kind == kind and exception.reason == normalize(reason or ""):
        return exception
    exception.kind, exception.reason = kind, reason
    return save_exception(exception, actor)


@transaction.atomic
def delete_exception(exception: CalendarException, actor=None) -> None:
    _attach_actor(exception, actor)
    exception.delete()


@transaction.atomic
def save_schedule(schedule: WorkSchedule, actor=None) -> WorkSchedule:
    """Validate and save working hours (model constraints and ``clean`` give the messages)."""
    schedule.full_clean()
    _attach_actor(schedule, actor)
    schedule.save()
    return schedule


@transaction.atomic
def set_schedule(
    *,
    unit: AdministrativeUnit | None = None,
    agency: Agency | None = None,
    sessions: tuple[tuple[time, time], tuple[time, time]] | None = None,
    weekdays: frozenset[int] | set[int] | None = None,
    same_day_cutoff: time | None = None,
    actor=None,
) -> WorkSchedule:
    """Create or update the working hours of exactly one unit or agency; omitted values keep theirs."""
    if (unit is None) == (agency is None):
        raise ValidationError(_("Choose either an administrative unit or an agency, not both."))
    lookup = {"unit": unit} if unit is not None else {"agency": agency}
    schedule = WorkSchedule.objects.filter(**lookup).first() or WorkSchedule(**lookup)
    if sessions is not None:
        (schedule.morning_start, schedule.morning_end), (schedule.afternoon_start, schedule.afternoon_end) = sessions
    if weekdays is not None:
        for index, name in enumerate(WEEKDAY_FIELDS):
            setattr(schedule, name, index in weekdays)
    if same_day_cutoff is not None:
        schedule.same_day_cutoff = same_day_cutoff
    return save_schedule(schedule, actor)


@transaction.atomic
def delete_schedule(schedule: WorkSchedule, actor=None) -> None:
    _attach_actor(schedule, actor)
    schedule.delete()
