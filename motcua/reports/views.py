"""Report pages: the dashboard, form II.06a, late dossiers, time per step, the dossiers behind a
number, exports with their progress, and the public statistics page.

Thin: scope and period come from ``selectors.resolve_scope``/``resolve_period`` (which check the
caller's scope and raise a field → messages dict for bad input), figures from the summary
selectors, exports through ``services.request_export``. Bad parameters answer 400 with the
message on the page; a unit or agency outside the caller's scope answers 403.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_POST

from motcua.catalog.models import Field, Procedure
from motcua.org.selectors import units_in_scope
from motcua.reports import charts, periods, selectors, services
from motcua.reports.figures import II06A_COLUMNS, INDICATORS, rates
from motcua.reports.models import ReportExport
from motcua.text import ascii_int

PAGE_SIZE = 50
TREND_MONTHS = 12


def _login_redirect(request: HttpRequest) -> HttpResponse:
    return redirect_to_login(request.get_full_path(), reverse("dossiers:login"))


def staff_only(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return _login_redirect(request)
        if not selectors.can_view_reports(request.user):
            return _error(request, _("Reports are open to staff with a unit; your account has none."), 403)
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return _error(request, str(exc) or _("This is outside your scope."), 403)

    return wrapper


def _error(request: HttpRequest, message: str, status: int, errors: dict | None = None) -> HttpResponse:
    return render(request, "reports/error.html", {"message": message, "errors": errors or {}}, status=status)


def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
    return _error(request, _("The report parameters are not valid."), 400, errors)


def _query(scope: selectors.Scope, period: periods.Period, **extra) -> str:
    params = {**scope.as_params(), "period": period.key(), **extra}
    return urlencode({k: v for k, v in params.items() if v})


def _period_choices(period: periods.Period) -> list[tuple[str, str]]:
    """The current month so far first, then every period of last year, this year and the next
    that has begun (a period not yet closed is marked "so far")."""
    today = timezone.localdate()
    current = periods.clamp(periods.containing(today, selectors.period_first_day()), today)
    out = [(current.key(), _("This month so far (%(label)s)") % {"label": period_label(current)})]
    year = period.year
    candidates = []
    for y in (year - 1, year, year + 1):
        candidates += [periods.Period("month", y, m) for m in range(1, 13)]
        candidates += [periods.Period("quarter", y, q) for q in range(1, 5)]
        candidates += [periods.Period(kind, y) for kind in ("half", "nine", "year")]
    for candidate in candidates:
        candidate = periods.Period(candidate.kind, candidate.year, candidate.number, selectors.period_first_day())
        if candidate.key() == current.key() or (candidate.start > today and candidate.key() != period.key()):
            continue
        out.append((candidate.key(), period_label(periods.clamp(candidate, today))))
    return out


def _filters(request: HttpRequest, scope: selectors.Scope, period: periods.Period) -> dict:
    """What the filter bar offers: units and agencies of the caller's scope, fields, procedures."""
    organisation = scope.organisation or selectors.Organisation()
    own = selectors.home_unit(request.user)
    units = units_in_scope(request.user).filter(path__startswith=own.path) if own else units_in_scope(request.user)
    allowed = organisation.of_unit(scope.unit)
    return {
        "scope": scope,
        "period": period,
        "period_label": period_label(period),
        "period_choices": _period_choices(period),
        "units": list(units.order_by("path")),
        "agencies": [
            organisation.agencies[pk] for pk in sorted(allowed, key=lambda pk: organisation.agencies[pk].code)
        ],
        "fields": list(Field.objects.order_by("name")),
        "procedures": list(Procedure.objects.select_related("current_version").order_by("code")[:500]),
        "query": _query(scope, period),
    }


def period_label(period: periods.Period) -> str:
    label = _closed_label(period)
    if period.so_far:
        return _("%(period)s, so far (to %(day)s)") % {"period": label, "day": period.last_day.strftime("%d/%m/%Y")}
    return label


def _closed_label(period: periods.Period) -> str:
    if period.kind == "month":
        return _("Month %(m)s/%(y)s") % {"m": period.number, "y": period.year}
    if period.kind == "quarter":
        return _("Quarter %(q)s/%(y)s") % {"q": period.number, "y": period.year}
    if period.kind == "half":
        return _("6 months %(y)s") % {"y": period.year}
    if period.kind == "nine":
        return _("9 months %(y)s") % {"y": period.year}
    return _("Year %(y)s") % {"y": period.year}


def _scope_and_period(request: HttpRequest):
    scope = selectors.resolve_scope(request.user, request.GET)
    period = selectors.resolve_period(request.GET)
    return scope, period


# --- dashboard -------------------------------------------------------------------------------------

#: (measure, English label, attribute) of the dashboard tiles; each links to its dossiers.
TILES = [
    ("received", gettext_noop("Received in the period"), "received_in_period"),
    ("received_online", gettext_noop("online"), "received_online"),
    ("received_direct", gettext_noop("in person or by post"), "received_direct"),
    ("carried_over", gettext_noop("carried over"), "carried_over"),
    ("resolved", gettext_noop("Resolved"), "resolved"),
    ("resolved_early", gettext_noop("early"), "resolved_early"),
    ("resolved_on_time", gettext_noop("on time"), "resolved_on_time"),
    ("resolved_late", gettext_noop("late"), "resolved_late"),
    ("in_progress", gettext_noop("In progress"), "in_progress"),
    ("within_time", gettext_noop("within time"), "within_time"),
    ("overdue", gettext_noop("overdue"), "overdue"),
    ("withdrawn", gettext_noop("Withdrawn"), "withdrawn"),
    ("refused", gettext_noop("Refused"), "refused"),
    ("stopped", gettext_noop("Stopped"), "stopped"),
]


#: Figure names of the indicator formulas → the measure listing their dossiers (selectors.MEASURES).
_FORMULA_MEASURES = {"received_in_period": "received", "resolved": "resolved"}


def _measure_of(names: tuple[str, ...]) -> str | None:
    """The measure whose dossiers make up a formula term, when the term is one listable figure."""
    if len(names) != 1:
        return None
    measure = _FORMULA_MEASURES.get(names[0], names[0])
    return measure if measure in selectors.MEASURES else None


def _indicator_extra(key: str, figures) -> list[tuple[str, object]]:
    """More figures under an indicator: the satisfaction card also gives the average score and the
    number of ratings."""
    if key == "satisfaction":
        average = figures.average_score
        return [
            (_("Average score (1–5)"), "–" if average is None else average),
            (_("Ratings received"), figures.ratings),
        ]
    if key == "online_payment":
        return [(_("Fees paid"), figures.fees_paid), (_("of which online"), figures.paid_online)]
    return []


@require_GET
@staff_only
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        scope, period = _scope_and_period(request)
    except ValidationError as exc:
        return _invalid(request, exc)
    current = selectors.figures(scope, period)
    last_month = period.month_periods()[-1]
    series = selectors.trend(scope, periods.trailing_months(last_month, TREND_MONTHS))
    labels = [f"{p.number:02d}/{p.year % 100:02d}" for p, _f in series]
    choices = selectors.indicator_choices()
    settings_ = selectors.indicator_settings()
    current_rates = rates(current, choices)
    rate_series = [rates(f, choices) for _p, f in series]
    indicator_cards = []
    for index, indicator in enumerate(INDICATORS):
        rate = current_rates[index]
        values = [r[index].value for r in rate_series]
        setting = settings_.get(indicator.key)
        indicator_cards.append(
            {
                "rate": rate,
                "name": _(indicator.name),
                "formula": _(rate.variant.text),
                "numerator_measure": _measure_of(rate.variant.numerator),
                "denominator_measure": _measure_of(rate.variant.denominator),
                "extra": _indicator_extra(indicator.key, current),
                "confirmed": bool(setting and setting.confirmed),
                "chart": charts.line_chart(
                    labels, [(_(indicator.name), values)], title=_(indicator.name), percent=True
                ),
                "table": list(zip(labels, values, strict=True)),
            }
        )
    tiles = [
        {"measure": m, "label": _(label), "value": getattr(current, attr), "main": str(label)[0].isupper()}
        for m, label, attr in TILES
    ]
    flow_chart = charts.line_chart(
        labels,
        [
            (_("Received in the period"), [f.received_in_period for _p, f in series]),
            (_("Resolved"), [f.resolved for _p, f in series]),
            (_("Resolved late"), [f.resolved_late for _p, f in series]),
            (_("In progress, overdue"), [f.overdue for _p, f in series]),
        ],
        title=_("Dossiers per month"),
        width=520,
        height=180,
    )
    by_agency = selectors.figures_by_agency(scope, period)
    organisation = scope.organisation
    targets = selectors.online_targets(scope.agency_ids, period.year)
    agency_lines = []
    for agency_id in sorted(scope.agency_ids, key=lambda pk: organisation.agencies[pk].code):
        f = by_agency.get(agency_id)
        if f is None:
            continue
        agency_rates = {r.indicator.key: r for r in rates(f, choices)}
        online = agency_rates["online"].value
        target = targets.get(agency_id)
        agency_lines.append(
            {
                "info": organisation.agencies[agency_id],
                "figures": f,
                "on_time": agency_rates["on_time"].value,
                "online": online,
                "target": target,
                "below_target": target is not None and (online is None or online < target),
            }
        )
    context = {
        **_filters(request, scope, period),
        "figures": current,
        "tiles": tiles,
        "indicators": indicator_cards,
        "flow_chart": flow_chart,
        "trend_table": [(label, f) for label, (_p, f) in zip(labels, series, strict=True)],
        "agency_lines": agency_lines,
    }
    return render(request, "reports/dashboard.html", context)


# --- form II.06a ------------------------------------------------------------------------------------


@require_GET
@staff_only
def form_ii06a(request: HttpRequest) -> HttpResponse:
    try:
        scope, period = _scope_and_period(request)
    except ValidationError as exc:
        return _invalid(request, exc)
    context = {
        **_filters(request, scope, period),
        "rows": selectors.form_rows(scope, period),
        "columns": [(n, _(heading)) for n, (_attr, heading) in II06A_COLUMNS.items()],
        "column_numbers": list(II06A_COLUMNS),
        "export_kinds": [
            (ReportExport.Kind.II06A_XLSX, _("Download as XLSX")),
            (ReportExport.Kind.II06A_PDF, _("Download as PDF")),
        ],
    }
    return render(request, "reports/ii06a.html", context)


# --- the dossiers behind a number ----------------------------------------------------------------------


@require_GET
@staff_only
def dossier_list(request: HttpRequest) -> HttpResponse:
    try:
        scope, period = _scope_and_period(request)
        measure = str(request.GET.get("measure") or "")
        dossiers = selectors.dossiers_behind(request.user, scope, period, measure)
    except ValidationError as exc:
        return _invalid(request, exc)
    page = Paginator(dossiers, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **_filters(request, scope, period),
        "measure": measure,
        "measure_label": _(selectors.MEASURES[measure]),
        "page": page,
        "count": page.paginator.count,
    }
    return render(request, "reports/dossiers.html", context)


# --- late dossiers and steps -------------------------------------------------------------------------------


@require_GET
@staff_only
def late_report(request: HttpRequest) -> HttpResponse:
    try:
        scope, period = _scope_and_period(request)
    except ValidationError as exc:
        return _invalid(request, exc)
    context = {
        **_filters(request, scope, period),
        "lines": selectors.late_dossiers(request.user, scope, period),
        "export_kinds": [(ReportExport.Kind.LATE_XLSX, _("Download as XLSX"))],
    }
    return render(request, "reports/late.html", context)


@require_GET
@staff_only
def step_report(request: HttpRequest) -> HttpResponse:
    try:
        scope, period = _scope_and_period(request)
    except ValidationError as exc:
        return _invalid(request, exc)
    context = {
        **_filters(request, scope, period),
        "lines": selectors.step_report(scope, period),
        "export_kinds": [(ReportExport.Kind.STEPS_XLSX, _("Download as XLSX"))],
    }
    return render(request, "reports/steps.html", context)


# --- exports ---------------------------------------------------------------------------------------------


@require_POST
@staff_only
def export_request(request: HttpRequest) -> HttpResponse:
    params = {key: str(request.POST.get(key) or "") for key in ("unit", "agency", "field", "procedure", "period")}
    params = {k: v for k, v in params.items() if v}
    try:
        export = services.request_export(actor=request.user, kind=str(request.POST.get("kind") or ""), params=params)
    except ValidationError as exc:
        return _invalid(request, exc)
    return redirect("reports:export", pk=export.pk)


def _own_export(request: HttpRequest, pk: int) -> ReportExport:
    """The user's own export, or a scheduled one (no requester) of a unit in the user's scope."""
    export = ReportExport.objects.filter(pk=pk).first()
    if export is None:
        raise Http404
    if export.requested_by_id == request.user.pk:
        return export
    unit = str(export.params.get("unit") or "")
    unit_id = ascii_int(unit, minimum=1)  # "²".isdigit() is True, and int("²") fails
    in_scope = (
        export.requested_by_id is None and unit_id is not None and units_in_scope(request.user).filter(pk=unit_id)
    )
    if not in_scope:
        raise Http404
    return export


@require_GET
@staff_only
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    export = _own_export(request, pk)
    template = "reports/_export_status.html" if request.htmx else "reports/export.html"
    return render(request, template, {"export": export})


@require_POST
@staff_only
def export_sign(request: HttpRequest, pk: int) -> HttpResponse:
    from motcua.documents.signing.base import SigningError

    export = _own_export(request, pk)
    try:
        services.sign_export(export, actor=request.user)
    except ValidationError as exc:
        return _invalid(request, exc)
    except SigningError as exc:
        return render(request, "reports/export.html", {"export": export, "sign_error": str(exc)}, status=400)
    return redirect("reports:export", pk=export.pk)


@require_GET
@staff_only
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    export = _own_export(request, pk)
    if export.state != ReportExport.State.DONE or not export.file:
        raise Http404
    return FileResponse(default_storage.open(export.file.name, "rb"), as_attachment=True, filename=export.filename)


# --- public statistics -----------------------------------------------------------------------------------


@require_GET
def public_statistics(request: HttpRequest) -> HttpResponse:
    """No login: the province's figures by unit for a month, quarter or year — aggregates only."""
    try:
        period = selectors.resolve_period(request.GET)
    except ValidationError as exc:
        return render(request, "reports/public.html", {"errors": exc.message_dict, "period_choices": []}, status=400)
    scope, lines, overall = selectors.public_statistics(period)
    months = periods.trailing_months(period.month_periods()[-1], TREND_MONTHS)
    series = selectors.trend(scope, months) if scope else []
    labels = [f"{p.number:02d}/{p.year % 100:02d}" for p, _f in series]
    chart = charts.line_chart(
        labels,
        [
            (_("Received in the period"), [f.received_in_period for _p, f in series]),
            (_("Resolved"), [f.resolved for _p, f in series]),
        ],
        title=_("Dossiers per month"),
        width=520,
        height=180,
    )
    choices = selectors.indicator_choices()
    context = {
        "scope": scope,
        "period": period,
        "period_label": period_label(period),
        "period_choices": _period_choices(period),
        "lines": lines,
        "overall": overall,
        "rates": rates(overall, choices),
        "chart": chart,
        "trend_table": [(label, f) for label, (_p, f) in zip(labels, series, strict=True)],
        "updated": timezone.localtime(),
    }
    return render(request, "reports/public.html", context)
