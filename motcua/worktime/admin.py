"""Desk pages for calendar exceptions and working hours, scoped to the administrator's units."""

from django.contrib import admin
from django.db.models import Q
from django.db.models.functions import ExtractYear
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from motcua.org import selectors as org_selectors
from motcua.org.admin_scope import ScopedModelAdmin, ScopeMixin
from motcua.text import ascii_int
from motcua.worktime import services
from motcua.worktime.models import CalendarException, WorkSchedule


class YearFilter(admin.SimpleListFilter):
    """Exceptions are entered per year (one government notice a year), so filter by year."""

    title = _("year")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin):
        years = (
            model_admin.get_queryset(request)
            .annotate(year=ExtractYear("date"))
            .order_by("-year")
            .values_list("year", flat=True)
            .distinct()
        )
        return [(str(year), str(year)) for year in years]

    def queryset(self, request: HttpRequest, queryset):
        year = ascii_int(self.value(), minimum=1, maximum=9999)  # "²".isdigit() is True, and int("²") fails
        if year is not None:
            return queryset.filter(date__year=year)
        return queryset


@admin.register(CalendarException)
class CalendarExceptionAdmin(ScopedModelAdmin):
    scope_unit_field = "unit"
    list_display = ["date", "weekday", "kind", "unit", "reason", "created_by"]
    list_filter = [YearFilter, "kind"]
    search_fields = ["reason", "unit__name"]
    date_hierarchy = "date"
    fields = ["unit", "date", "kind", "reason", "created_by", "created_at", "updated_at"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    list_select_related = ["unit", "created_by"]

    @admin.display(description=_("weekday"))
    def weekday(self, obj: CalendarException) -> str:
        return date_format(obj.date, "l")

    def save_model(self, request: HttpRequest, obj: CalendarException, form, change: bool) -> None:
        services.save_exception(obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: CalendarException) -> None:
        services.delete_exception(obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for obj in queryset:
            services.delete_exception(obj, actor=request.user)


@admin.register(WorkSchedule)
class WorkScheduleAdmin(ScopedModelAdmin):
    # Either the unit or the agency's unit must be in the user's scope; see get_queryset.
    scope_unit_field = "unit"
    list_display = ["__str__", "morning_start", "morning_end", "afternoon_start", "afternoon_end", "same_day_cutoff"]
    search_fields = ["unit__name", "agency__name", "agency__code"]
    list_select_related = ["unit", "agency"]
    fieldsets = [
        (None, {"fields": ["unit", "agency"]}),
        (_("Sessions"), {"fields": [("morning_start", "morning_end"), ("afternoon_start", "afternoon_end")]}),
        (
            _("Working weekdays"),
            {
                "fields": [
                    (
                        "works_monday",
                        "works_tuesday",
                        "works_wednesday",
                        "works_thursday",
                        "works_friday",
                        "works_saturday",
                        "works_sunday",
                    )
                ]
            },
        ),
        (None, {"fields": ["same_day_cutoff"]}),
    ]

    def get_queryset(self, request: HttpRequest):
        # Skip the mixin's single-field filter: a schedule belongs to a unit OR to an agency.
        qs = super(ScopeMixin, self).get_queryset(request)
        path = org_selectors.scope_path(request.user)
        if path is None:
            return qs.none()
        if path == "":
            return qs
        return qs.filter(Q(unit__path__startswith=path) | Q(agency__unit__path__startswith=path))

    def save_model(self, request: HttpRequest, obj: WorkSchedule, form, change: bool) -> None:
        services.save_schedule(obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: WorkSchedule) -> None:
        services.delete_schedule(obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for obj in queryset:
            services.delete_schedule(obj, actor=request.user)
