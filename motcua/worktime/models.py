"""Calendar data the administrators keep: exception days and working hours.

Public holidays come from the ``holidays`` package; what it cannot know (a province's extra day
off, the announced make-up Saturdays, a later year's swaps) is entered here. Writes go through
``motcua.worktime.services``.
"""

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from motcua.org.models import AdministrativeUnit, Agency

WEEKDAY_FIELDS = (
    "works_monday",
    "works_tuesday",
    "works_wednesday",
    "works_thursday",
    "works_friday",
    "works_saturday",
    "works_sunday",
)


class CalendarException(models.Model):
    """A day that differs from the usual calendar in a unit and every unit below it."""

    class Kind(models.TextChoices):
        DAY_OFF = "day_off", _("Day off")
        WORKING_DAY = "working_day", _("Make-up working day")

    unit = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.CASCADE,
        related_name="calendar_exceptions",
        verbose_name=_("administrative unit"),
        help_text=_("Normally the province; the exception applies to this unit and all units below it."),
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    reason = models.CharField(
        _("reason"), max_length=255, help_text=_("For example the number of the notice that announced the swap.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "unit__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "date"],
                name="worktime_exception_unique_per_unit_date",
                violation_error_message=_("This unit already has an exception on that date."),
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="worktime_exception_reason_required",
                violation_error_message=_("Give the reason for the exception."),
            ),
        ]
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} – {self.get_kind_display()} ({self.unit})"

    def clean(self) -> None:
        if not (self.reason or "").strip():
            raise ValidationError({"reason": _("Give the reason for the exception.")})


class WorkSchedule(models.Model):
    """Office hours of a unit (and the units below it) or of one agency; the nearest one applies."""

    unit = models.OneToOneField(
        AdministrativeUnit,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="work_schedule",
        verbose_name=_("administrative unit"),
    )
    agency = models.OneToOneField(
        Agency,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="work_schedule",
        verbose_name=_("agency"),
    )
    morning_start = models.TimeField(_("morning starts"), default=time(7, 30))
    morning_end = models.TimeField(_("morning ends"), default=time(11, 30))
    afternoon_start = models.TimeField(_("afternoon starts"), default=time(13, 30))
    afternoon_end = models.TimeField(_("afternoon ends"), default=time(17, 0))
    works_monday = models.BooleanField(_("Monday"), default=True)
    works_tuesday = models.BooleanField(_("Tuesday"), default=True)
    works_wednesday = models.BooleanField(_("Wednesday"), default=True)
    works_thursday = models.BooleanField(_("Thursday"), default=True)
    works_friday = models.BooleanField(_("Friday"), default=True)
    works_saturday = models.BooleanField(_("Saturday"), default=False)
    works_sunday = models.BooleanField(_("Sunday"), default=False)
    same_day_cutoff = models.TimeField(
        _("same-day cut-off"),
        default=time(15, 0),
        help_text=_("Same-day procedures received after this time are due at the end of the next working day."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["unit__path", "agency__code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=False, agency__isnull=True) | Q(unit__isnull=True, agency__isnull=False),
                name="worktime_schedule_unit_xor_agency",
                violation_error_message=_("Choose either an administrative unit or an agency, not both."),
            ),
            models.CheckConstraint(
                condition=Q(morning_start__lt=F("morning_end"))
                & Q(morning_end__lte=F("afternoon_start"))
                & Q(afternoon_start__lt=F("afternoon_end")),
                name="worktime_schedule_sessions_in_order",
                violation_error_message=_("The sessions must be in order: morning before afternoon."),
            ),
        ]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")

    def __str__(self) -> str:
        return str(_("Working hours of %(owner)s") % {"owner": self.agency or self.unit})

    @property
    def sessions(self) -> tuple[tuple[time, time], tuple[time, time]]:
        return ((self.morning_start, self.morning_end), (self.afternoon_start, self.afternoon_end))

    @property
    def weekdays(self) -> frozenset[int]:
        """Working weekdays as numbers, 0 = Monday, as the calendar wants them."""
        return frozenset(i for i, name in enumerate(WEEKDAY_FIELDS) if getattr(self, name))

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if bool(self.unit_id) == bool(self.agency_id):
            errors["agency" if self.agency_id else "unit"] = _(
                "Choose either an administrative unit or an agency, not both."
            )
        times = [self.morning_start, self.morning_end, self.afternoon_start, self.afternoon_end]
        if all(t is not None for t in times):
            if self.morning_start >= self.morning_end:
                errors["morning_end"] = _("The morning must end after it starts.")
            if self.afternoon_start >= self.afternoon_end:
                errors["afternoon_end"] = _("The afternoon must end after it starts.")
            if self.morning_end > self.afternoon_start:
                errors["afternoon_start"] = _("The afternoon must start after the morning ends.")
        if not self.weekdays:
            errors["works_monday"] = _("Choose at least one working weekday.")
        if errors:
            raise ValidationError(errors)
