"""Report queries, always scoped to the caller (invariant 5); figures come from the summary rows only.

Which agencies a unit's figures include: the agencies placed in the unit or below it, plus the
agencies that answer to such a unit (``Agency.supervising_units``). The land branches, placed in
their district and belonging to the provincial office, thus count for the district and — through
the line of their parent agency — for the province's department; in the II.06a form they appear
under both, and every total is summed over a *set* of agencies, so it counts each dossier once.

A sum over a period reads the monthly rows of the calendar months wholly inside it and the daily
rows of the rest; a stock at a date is the sum of every delta before it (monthly rows up to that
month, daily rows of that month). So a report reads at most a few rows per agency, procedure
version and month, however many dossiers there are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from motcua import inputs
from motcua.catalog import codes as catalog_codes
from motcua.catalog.models import Field, Procedure
from motcua.dossiers.lifecycle import OPEN
from motcua.dossiers.models import Dossier, DossierEvent
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.org.models import AdministrativeUnit, Agency
from motcua.org.selectors import scope_path
from motcua.reports import facts, periods
from motcua.reports.facts import COLUMNS, FLOW_COLUMNS
from motcua.reports.figures import Figures, rates
from motcua.reports.models import (
    DailyFigures,
    DossierBooking,
    IndicatorSetting,
    MonthlyFigures,
    OnlineTarget,
    StepFigures,
)
from motcua.reports.periods import Period, PeriodError
from motcua.text import BadText, ascii_int, text_problem

Action = DossierEvent.Action


def period_first_day() -> int:
    """Day of the month on which reporting months start (1 = calendar months; a setting)."""
    return int(getattr(settings, "MOTCUA_REPORT_MONTH_FIRST_DAY", 1))


# --- the organisation as the reports see it ----------------------------------------------------------


@dataclass
class AgencyInfo:
    pk: int
    code: str
    name: str
    kind: str
    unit_id: int
    unit_path: str
    unit_name: str
    parent_id: int | None
    supervising_paths: list[str] = dataclass_field(default_factory=list)
    children: list[int] = dataclass_field(default_factory=list)


class Organisation:
    """Every agency with its unit, parent line and supervising units, loaded in two queries."""

    def __init__(self) -> None:
        rows = Agency.objects.values_list(
            "pk", "code", "name", "kind", "unit_id", "unit__path", "unit__name", "parent_id"
        ).order_by("unit__path", "name")
        self.agencies: dict[int, AgencyInfo] = {row[0]: AgencyInfo(*row) for row in rows}
        through = Agency.supervising_units.through
        for agency_id, path in through.objects.values_list("agency_id", "administrativeunit__path"):
            self.agencies[agency_id].supervising_paths.append(path)
        for info in self.agencies.values():
            if info.parent_id in self.agencies:
                self.agencies[info.parent_id].children.append(info.pk)

    def of_unit(self, unit: AdministrativeUnit) -> set[int]:
        """Agencies whose figures count for ``unit``: placed in its subtree or answering to it."""
        return {
            a.pk
            for a in self.agencies.values()
            if a.unit_path.startswith(unit.path) or any(p.startswith(unit.path) for p in a.supervising_paths)
        }

    def line(self, agency_id: int) -> list[int]:
        """The agency and every agency below it through ``parent`` (depth first, itself first)."""
        out, stack = [], [agency_id]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(reversed(self.agencies[current].children))
        return out


def root_unit() -> AdministrativeUnit | None:
    """The highest unit that has agencies (the province): the scope of the public page."""
    agency = Agency.objects.select_related("unit").order_by("unit__level__rank", "unit__path").first()
    return agency.unit if agency else None


def home_unit(user) -> AdministrativeUnit | None:
    """The unit whose figures a user sees by default (None: no report access)."""
    path = scope_path(user)
    if path is None:
        return None
    if path == "":
        return root_unit() if not user.unit_id else _top_with_agencies(user.unit)
    return user.unit


def _top_with_agencies(unit: AdministrativeUnit) -> AdministrativeUnit:
    # A system administrator placed at the national node still sees the province first.
    if Agency.objects.filter(unit=unit).exists():
        return unit
    return root_unit() or unit


def can_view_reports(user) -> bool:
    return bool(user.is_authenticated and scope_path(user) is not None)


# --- scope --------------------------------------------------------------------------------------------


@dataclass
class Scope:
    """What a report covers: a unit, optionally narrowed to an agency's line, a field or a procedure."""

    unit: AdministrativeUnit
    agency: Agency | None = None
    field: Field | None = None
    procedure: Procedure | None = None
    organisation: Organisation | None = None
    agency_ids: set[int] = dataclass_field(default_factory=set)

    def version_filter(self, prefix: str = "procedure_version__") -> Q:
        q = Q()
        if self.field is not None:
            q &= Q(**{f"{prefix}field": self.field})
        if self.procedure is not None:
            q &= Q(**{f"{prefix}procedure": self.procedure})
        return q

    def as_params(self) -> dict[str, str]:
        params = {"unit": str(self.unit.pk)}
        if self.agency is not None:
            params["agency"] = self.agency.code
        if self.field is not None:
            params["field"] = self.field.code
        if self.procedure is not None:
            params["procedure"] = self.procedure.code
        return params


def resolve_scope(user, params) -> Scope:
    """The scope named by ``params`` (unit id, agency code, field code, procedure code), checked
    against the user's own scope. Raises PermissionDenied or ValidationError (field → messages)."""
    if not can_view_reports(user):
        raise PermissionDenied(_("Reports are open to staff with a unit; your account has none."))
    _refuse_bad_text(params, ("unit", "agency", "field", "procedure"))
    errors: dict[str, list[str]] = {}
    own = home_unit(user)
    unit = own
    raw_unit = str(params.get("unit") or "").strip()
    if raw_unit:
        unit_id = ascii_int(raw_unit, minimum=1)  # "²".isdigit() is True, and int("²") fails
        found = AdministrativeUnit.objects.filter(pk=unit_id).first() if unit_id is not None else None
        if found is None:
            errors["unit"] = [_("No such administrative unit.")]
        elif not _unit_allowed(user, found):
            raise PermissionDenied(_("This unit is outside your scope."))
        else:
            unit = found
    if unit is None:
        raise PermissionDenied(_("Reports are open to staff with a unit; your account has none."))
    organisation = Organisation()
    agency_ids = organisation.of_unit(unit)
    scope = Scope(unit=unit, organisation=organisation)
    raw_agency = str(params.get("agency") or "").strip().upper()
    if raw_agency:
        agency = Agency.objects.select_related("unit").filter(code=raw_agency).first()
        if agency is None:
            errors["agency"] = [_("No agency has the code “%(code)s”.") % {"code": raw_agency}]
        elif agency.pk not in agency_ids:
            raise PermissionDenied(_("This agency is outside the chosen unit."))
        else:
            scope.agency = agency
            agency_ids = set(organisation.line(agency.pk)) & agency_ids
    raw_field = str(params.get("field") or "").strip()
    if raw_field:
        scope.field = Field.objects.filter(code=raw_field).first()
        if scope.field is None:
            errors["field"] = [_("No field of activity has the code “%(code)s”.") % {"code": raw_field}]
    raw_procedure = str(params.get("procedure") or "").strip()
    if raw_procedure:
        code = catalog_codes.national_code(raw_procedure) or raw_procedure
        scope.procedure = Procedure.objects.filter(code=code).first()
        if scope.procedure is None:
            errors["procedure"] = [_("No procedure has the code “%(code)s”.") % {"code": raw_procedure}]
    if errors:
        raise ValidationError(errors)
    scope.agency_ids = agency_ids
    return scope


def _refuse_bad_text(params, names: tuple[str, ...]) -> None:
    """A NUL in a query parameter would reach PostgreSQL as a 500: a ValidationError on the parameter instead."""
    errors = {}
    for name in names:
        problem = text_problem(str(params.get(name) or ""))
        if problem:
            errors[name] = [inputs.message(BadText(problem))]
    if errors:
        raise ValidationError(errors)


def _unit_allowed(user, unit: AdministrativeUnit) -> bool:
    path = scope_path(user)
    return path is not None and (path == "" or unit.path.startswith(path))


def resolve_period(params, default: Period | None = None) -> Period:
    """``period=month-2026-11`` (kind-year-number); the current month by default. A period not yet
    closed is read so far: up to today (``periods.clamp``)."""
    _refuse_bad_text(params, ("period",))
    raw = str(params.get("period") or "").strip()
    first_day = period_first_day()
    today = timezone.localdate()
    if not raw:
        return periods.clamp(default or periods.containing(today, first_day), today)
    try:
        return periods.clamp(periods.parse_key(raw, first_day), today)
    except PeriodError:
        raise ValidationError({"period": [_("Choose a reporting period such as month-2026-11.")]}) from None


def check_report_params(user, params) -> tuple[Scope, Period]:
    """Validate export parameters the same way the pages do."""
    return resolve_scope(user, params), resolve_period(params)


# --- sums ----------------------------------------------------------------------------------------------


def _sums(rows: QuerySet, group: tuple[str, ...], columns: Iterable[str] = COLUMNS) -> dict[tuple, dict[str, int]]:
    result: dict[tuple, dict[str, int]] = {}
    columns = tuple(columns)
    if not group:
        row = rows.order_by().aggregate(**{f"s_{c}": Sum(c) for c in columns})
        if any(value is not None for value in row.values()):
            result[()] = {c: int(row[f"s_{c}"] or 0) for c in columns}
        return result
    for row in rows.values(*group).order_by().annotate(**{f"s_{c}": Sum(c) for c in columns}):
        result[tuple(row[g] for g in group)] = {c: int(row[f"s_{c}"] or 0) for c in columns}
    return result


def _merge(*parts: dict[tuple, dict[str, int]]) -> dict[tuple, dict[str, int]]:
    out: dict[tuple, dict[str, int]] = {}
    for part in parts:
        for key, counts in part.items():
            target = out.setdefault(key, dict.fromkeys(counts, 0))
            for column, n in counts.items():
                target[column] = target.get(column, 0) + n
    return out


def _base(model, scope: Scope) -> QuerySet:
    return model.objects.filter(agency_id__in=scope.agency_ids).filter(scope.version_filter())


def range_sums(scope: Scope, start: date, end: date, group: tuple[str, ...] = ("agency_id",)) -> dict:
    """Counters summed over the days ``[start, end)``, grouped by ``group``."""
    months, partial = periods.whole_months(start, end)
    parts = []
    if months:
        parts.append(_sums(_base(MonthlyFigures, scope).filter(month__in=months), group))
    if partial:
        days = Q()
        for first, stop in partial:
            days |= Q(day__gte=first, day__lt=stop)
        parts.append(_sums(_base(DailyFigures, scope).filter(days), group))
    return _merge(*parts)


def stocks_before(scope: Scope, day: date, group: tuple[str, ...] = ("agency_id",)) -> dict:
    """The stocks (open, overdue) at the end of the day before ``day``."""
    month = day.replace(day=1)
    stock = facts.STOCK_COLUMNS
    return _merge(
        _sums(_base(MonthlyFigures, scope).filter(month__lt=month), group, stock),
        _sums(_base(DailyFigures, scope).filter(day__gte=month, day__lt=day), group, stock),
    )


def _figures(flows: dict[str, int] | None, before: dict[str, int] | None) -> Figures:
    flows = flows or {}
    before = before or {}
    carried = before.get("open_delta", 0)
    return Figures(
        flows={c: flows.get(c, 0) for c in FLOW_COLUMNS},
        carried_over=carried,
        in_progress=carried + flows.get("open_delta", 0),
        overdue=before.get("overdue_delta", 0) + flows.get("overdue_delta", 0),
    )


def figures_by_agency(scope: Scope, period: Period) -> dict[int, Figures]:
    flows = range_sums(scope, period.start, period.end)
    before = stocks_before(scope, period.start)
    keys = flows.keys() | before.keys()
    return {key[0]: _figures(flows.get(key), before.get(key)) for key in keys}


def total(by_agency: dict[int, Figures], agency_ids: Iterable[int]) -> Figures:
    """The sum over a *set* of agencies: each dossier counted once."""
    result = Figures()
    for agency_id in set(agency_ids):
        if agency_id in by_agency:
            result = result + by_agency[agency_id]
    return result


def figures_between(scope: Scope, start: date, end: date) -> Figures:
    """Flows of the days ``[start, end)`` and the stocks at the end of the day before ``end``."""
    return _figures(range_sums(scope, start, end, ()).get(()), stocks_before(scope, start, ()).get(()))


def overdue_dossiers(user, scope: Scope, day: date) -> QuerySet[Dossier]:
    """Dossiers of ``scope`` open and overdue at the end of ``day`` that ``user`` may see."""
    return (
        _open_at_end_of(user, scope, day, "overdue")
        .select_related("procedure_version", "competent_agency")
        .order_by("due_at", "pk")
    )


def figures(scope: Scope, period: Period) -> Figures:
    return _figures(
        range_sums(scope, period.start, period.end, ()).get(()), stocks_before(scope, period.start, ()).get(())
    )


def trend(scope: Scope, months: list[Period]) -> list[tuple[Period, Figures]]:
    """Figures of each month, the stocks rolled forward from one sum before the first month."""
    if not months:
        return []
    today = timezone.localdate()
    months = [periods.clamp(month, today) for month in months]
    before = stocks_before(scope, months[0].start, ()).get((), {})
    running = dict(before)
    out = []
    for month in months:
        flows = range_sums(scope, month.start, month.end, ()).get((), {})
        out.append((month, _figures(flows, running)))
        for column in facts.STOCK_COLUMNS:
            running[column] = running.get(column, 0) + flows.get(column, 0)
    return out


def indicator_choices() -> dict[str, str]:
    return dict(IndicatorSetting.objects.values_list("indicator", "variant"))


def indicator_settings() -> dict[str, IndicatorSetting]:
    return {s.indicator: s for s in IndicatorSetting.objects.all()}


def online_targets(agency_ids: Iterable[int], year: int) -> dict[int, Decimal]:
    return dict(
        OnlineTarget.objects.filter(agency_id__in=set(agency_ids), year=year).values_list("agency_id", "percent")
    )


# --- form II.06a ----------------------------------------------------------------------------------------


@dataclass
class ReportRow:
    kind: str  # group, agency, line_total, group_total, grand_total
    label: str
    figures: Figures | None = None
    number: str = ""
    depth: int = 0
    agency_code: str = ""
    note: str = ""


ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV")


def _roman(n: int) -> str:
    return ROMAN[n - 1] if n <= len(ROMAN) else str(n)


def form_rows(scope: Scope, period: Period) -> list[ReportRow]:
    """The rows of form II.06a for ``scope``: the unit's own agencies (with the lines below them,
    wherever those are placed), then one group per sub-unit, each with its sub-total, then the
    total, which counts every dossier once."""
    organisation = scope.organisation or Organisation()
    by_agency = figures_by_agency(scope, period)
    allowed = scope.agency_ids
    agencies = organisation.agencies
    rows: list[ReportRow] = []
    everything: set[int] = set()
    group_number = 0
    row_number = 0

    def agency_row(agency_id: int, depth: int, note: str = "") -> ReportRow:
        nonlocal row_number
        row_number += 1
        info = agencies[agency_id]
        return ReportRow(
            "agency",
            info.name,
            by_agency.get(agency_id, Figures()),
            str(row_number),
            depth,
            info.code,
            note,
        )

    unit = scope.unit
    own = [a for a in agencies.values() if a.unit_id == unit.pk and a.pk in allowed]
    own_ids = {a.pk for a in own}
    if scope.agency is not None:
        own = [agencies[scope.agency.pk]] if scope.agency.pk in allowed else []
        own_ids = {a.pk for a in own}
    roots = [a for a in own if a.parent_id not in own_ids]
    if roots:
        group_number += 1
        members: set[int] = set()
        group_rows = [ReportRow("group", unit.name, number=_roman(group_number))]
        for root in roots:
            for agency_id in _walk(organisation, root.pk, allowed):
                info, depth = agencies[agency_id[0]], agency_id[1]
                members.add(info.pk)
                placed_elsewhere = info.unit_id != unit.pk
                group_rows.append(
                    agency_row(
                        info.pk,
                        depth,
                        _("also counted in %(unit)s") % {"unit": info.unit_name} if placed_elsewhere else "",
                    )
                )
                line = [a for a in organisation.line(info.pk) if a in allowed]
                if (
                    len(line) > 1
                    and info.kind != Agency.Kind.PEOPLES_COMMITTEE
                    and any(agencies[a].unit_id != unit.pk for a in line)
                ):
                    group_rows.append(
                        ReportRow(
                            "line_total",
                            _("Total of %(agency)s with the units below it") % {"agency": info.name},
                            total(by_agency, line),
                            depth=depth,
                        )
                    )
        group_rows.append(
            ReportRow("group_total", _("Sub-total %(unit)s") % {"unit": unit.name}, total(by_agency, members))
        )
        rows.extend(group_rows)
        everything |= members
    if scope.agency is None:
        for child in AdministrativeUnit.objects.filter(parent=unit).order_by("path"):
            members = organisation.of_unit(child) & allowed
            if not members:
                continue
            group_number += 1
            rows.append(ReportRow("group", child.name, number=_roman(group_number)))
            ordered = sorted(members, key=lambda pk: (agencies[pk].unit_path, agencies[pk].name))
            for agency_id in ordered:
                info = agencies[agency_id]
                depth = 0 if info.unit_id == child.pk else 1
                rows.append(agency_row(agency_id, depth))
            rows.append(
                ReportRow("group_total", _("Sub-total %(unit)s") % {"unit": child.name}, total(by_agency, members))
            )
            everything |= members
    rows.append(
        ReportRow("grand_total", _("Total (each dossier counted once)"), total(by_agency, everything or allowed))
    )
    return rows


def _walk(organisation: Organisation, root: int, allowed: set[int], depth: int = 0) -> list[tuple[int, int]]:
    if root not in allowed:
        return []
    out = [(root, depth)]
    for child in organisation.agencies[root].children:
        out.extend(_walk(organisation, child, allowed, depth + 1))
    return out


# --- the dossiers behind a number -------------------------------------------------------------------------

#: measure → (English label, kind). Flow measures are events inside the period; stock measures are
#: the state at the end of a day.
MEASURES: dict[str, str] = {
    "received": gettext_noop("Received in the period"),
    "received_online": gettext_noop("Received online"),
    "received_direct": gettext_noop("Received in person or by post"),
    "carried_over": gettext_noop("Carried over"),
    "resolved": gettext_noop("Resolved"),
    "resolved_early": gettext_noop("Resolved early"),
    "resolved_on_time": gettext_noop("Resolved on time"),
    "resolved_late": gettext_noop("Resolved late"),
    "in_progress": gettext_noop("In progress"),
    "within_time": gettext_noop("In progress, within time"),
    "overdue": gettext_noop("In progress, overdue"),
    "withdrawn": gettext_noop("Withdrawn"),
    "stopped": gettext_noop("Stopped"),
    "refused": gettext_noop("Refused at reception"),
    "received_digitised": gettext_noop("Received with every document scanned"),
    "resolved_digital": gettext_noop("Resolved with an electronic result"),
    "fees_paid": gettext_noop("Fees paid"),
    "paid_online": gettext_noop("Fees paid online"),
    "ratings": gettext_noop("Satisfaction ratings"),
    "ratings_satisfied": gettext_noop("Ratings “satisfied” or better"),
}


def _moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), facts.VIETNAM_TZ)


def _events_between(action: str | Iterable[str], start: date, end: date) -> QuerySet:
    actions = [action] if isinstance(action, str) else list(action)
    return DossierEvent.objects.filter(action__in=actions, at__gte=_moment(start), at__lt=_moment(end))


def _scoped_dossiers(user, scope: Scope) -> QuerySet[Dossier]:
    return dossiers_visible_to(user).filter(competent_agency_id__in=scope.agency_ids).filter(scope.version_filter())


def _open_at_end_of(user, scope: Scope, day: date, column: str | None) -> QuerySet[Dossier]:
    """Dossiers open at the end of ``day`` (and overdue, or within time, by their booked contribution)."""
    after = _moment(day + timedelta(days=1))
    received = _events_between(Action.RECEIVED, date(2000, 1, 1), day + timedelta(days=1)).values("dossier_id")
    left = DossierEvent.objects.filter(at__lt=after, from_status__in=OPEN).exclude(to_status__in=OPEN)
    candidates = _scoped_dossiers(user, scope).filter(pk__in=received).exclude(pk__in=left.values("dossier_id"))
    if column is None:
        return candidates
    wanted_overdue = column == "overdue"
    chosen = []
    bookings = DossierBooking.objects.filter(dossier_id__in=candidates.values("pk")).values_list(
        "dossier_id", "contribution"
    )
    for dossier_id, contribution in bookings.iterator(chunk_size=2000):
        overdue = facts.stock_at(facts.from_json(contribution), "overdue_delta", day) > 0
        if overdue == wanted_overdue:
            chosen.append(dossier_id)
    return candidates.filter(pk__in=chosen)


def dossiers_behind(user, scope: Scope, period: Period, measure: str) -> QuerySet[Dossier]:
    """The dossiers counted in one figure of ``scope`` and ``period``, and that ``user`` may see."""
    if measure not in MEASURES:
        raise ValidationError({"measure": [_("Unknown figure.")]})
    start, end = period.start, period.end
    dossiers = _scoped_dossiers(user, scope)
    received = _events_between(Action.RECEIVED, start, end)
    if measure in ("received", "received_online", "received_direct", "received_digitised"):
        dossiers = dossiers.filter(pk__in=received.values("dossier_id"))
        if measure == "received_online":
            dossiers = dossiers.filter(channel="online")
        elif measure == "received_direct":
            dossiers = dossiers.exclude(channel="online")
        elif measure == "received_digitised":
            dossiers = dossiers.filter(pk__in=_digitised_ids(dossiers))
    elif measure.startswith("resolved"):
        ready = _events_between(Action.RESULT_READY, start, end)
        dossiers = dossiers.filter(pk__in=ready.values("dossier_id"))
        if measure in ("resolved_early", "resolved_on_time", "resolved_late"):
            dossiers = dossiers.filter(timeliness=measure.removeprefix("resolved_"))
        elif measure == "resolved_digital":
            from motcua.workflow.models import StepAttachment

            dossiers = dossiers.filter(
                pk__in=StepAttachment.objects.filter(kind=StepAttachment.Kind.RESULT).values("dossier_id")
            )
    elif measure == "withdrawn":
        events = _events_between(Action.WITHDRAWN, start, end).filter(from_status__in=OPEN)
        dossiers = dossiers.filter(pk__in=events.values("dossier_id"))
    elif measure in ("stopped", "refused"):
        dossiers = dossiers.filter(pk__in=_events_between(measure, start, end).values("dossier_id"))
    elif measure in ("fees_paid", "paid_online"):
        paid = _events_between(Action.FEE_PAID, start, end).filter(dossier_id__in=dossiers.values("pk"))
        if measure == "paid_online":
            # The same rule as the summaries (facts.paid_online), applied to each payment event.
            online = [
                dossier_id
                for dossier_id, data in paid.values_list("dossier_id", "data").iterator(chunk_size=2000)
                if facts.paid_online(_payment_data(data))
            ]
            dossiers = dossiers.filter(pk__in=online)
        else:
            dossiers = dossiers.filter(pk__in=paid.values("dossier_id"))
    elif measure in ("ratings", "ratings_satisfied"):
        from motcua.portal.models import Rating
        from motcua.reports.services import satisfied_from

        ratings = Rating.objects.filter(created_at__gte=_moment(start), created_at__lt=_moment(end))
        if measure == "ratings_satisfied":
            ratings = ratings.filter(score__gte=satisfied_from())
        dossiers = dossiers.filter(pk__in=ratings.values("dossier_id"))
    elif measure == "carried_over":
        dossiers = _open_at_end_of(user, scope, start - timedelta(days=1), None)
    else:
        column = {"in_progress": None, "within_time": "within_time", "overdue": "overdue"}[measure]
        dossiers = _open_at_end_of(user, scope, period.last_day, column)
    return dossiers.select_related("procedure_version__procedure", "competent_agency").order_by("received_at", "pk")


def _payment_data(data: dict | None) -> dict:
    data = data or {}
    return facts.event_data(channel=data.get("channel"), txn_ref=data.get("txn_ref"))


def _digitised_ids(dossiers: QuerySet[Dossier]) -> list[int]:
    from django.db.models import Count

    from motcua.dossiers.models import DossierDocument

    rows = (
        DossierDocument.objects.filter(dossier_id__in=dossiers.values("pk"))
        .values("dossier_id")
        .annotate(n=Count("id"), scanned=Count("id", filter=Q(file__isnull=False) & ~Q(file="")))
    )
    return [row["dossier_id"] for row in rows if row["n"] and row["n"] == row["scanned"]]


# --- late dossiers and steps ------------------------------------------------------------------------------


@dataclass
class LateDossier:
    dossier: Dossier
    state: str  # "resolved_late" or "overdue"
    due_at: datetime | None
    until: datetime
    days_over: Decimal
    agency_name: str
    step_name: str
    apology: Any  # documents.IssuedDocument or None
    #: The latest recorded workflow.Apology: its reason and new appointment (issue 8).
    apology_reason: str = ""
    new_due_at: datetime | None = None
    apology_recorded_at: datetime | None = None


def late_dossiers(user, scope: Scope, period: Period) -> list[LateDossier]:
    """Every dossier resolved late in the period or overdue at its end, with who held it when its
    time ran out, the working days over and its apology letter."""
    from motcua.reports.services import sessions_used
    from motcua.workflow.models import StepRun
    from motcua.worktime.selectors import calendar_for_agency

    late = list(dossiers_behind(user, scope, period, "resolved_late").select_related("competent_agency__unit"))
    overdue = list(dossiers_behind(user, scope, period, "overdue").select_related("competent_agency__unit"))
    end_moment = _moment(period.end)
    out: list[LateDossier] = []
    step_runs = defaultdict(list)
    ids = [d.pk for d in late + overdue]
    for step_run in StepRun.objects.filter(dossier_id__in=ids, parent__isnull=True).select_related("agency"):
        step_runs[step_run.dossier_id].append(step_run)
    letters = apology_letters(ids)
    recorded = recorded_apologies(ids)
    for state, dossiers in (("resolved_late", late), ("overdue", overdue)):
        for dossier in dossiers:
            until = dossier.finished_at if state == "resolved_late" and dossier.finished_at else end_moment
            if state == "overdue" and dossier.paused_at:
                until = min(until, dossier.paused_at)
            calendar = calendar_for_agency(dossier.competent_agency)
            due = dossier.due_at
            over = sessions_used(calendar, due, until) if due else 0
            holder = _holder_at(step_runs.get(dossier.pk, []), due)
            out.append(
                LateDossier(
                    dossier=dossier,
                    state=state,
                    due_at=due,
                    until=until,
                    days_over=Decimal(over) / calendar.sessions_per_day,
                    agency_name=holder.agency.name if holder else dossier.competent_agency.name,
                    step_name=holder.step_name if holder else "",
                    apology=letters.get(dossier.pk),
                )
            )
            record = recorded.get(dossier.pk)
            if record is not None:
                out[-1].apology_reason = record.reason
                out[-1].new_due_at = record.new_due_at
                out[-1].apology_recorded_at = record.recorded_at
    return out


def _holder_at(step_runs: list, moment: datetime | None):
    """The step run open at ``moment`` (the latest one started at or before it)."""
    if moment is None:
        return None
    held = [s for s in step_runs if s.started_at <= moment and (s.finished_at is None or s.finished_at > moment)]
    return max(held, key=lambda s: s.sequence) if held else None


def apology_letters(dossier_ids: list[int]) -> dict[int, Any]:
    """Each dossier's latest apology letter (Mẫu 04) issued through the documents app.

    The documents app keeps the PDF (date, verification link); the reason and the new appointment
    come as data from ``recorded_apologies`` (workflow.Apology).
    """
    from motcua.documents.models import IssuedDocument

    letters = IssuedDocument.objects.filter(dossier_id__in=dossier_ids, form_key="apology").order_by("created_at")
    return {letter.dossier_id: letter for letter in letters}


def recorded_apologies(dossier_ids: list[int]) -> dict[int, Any]:
    """Each dossier's latest *recorded* apology (workflow.Apology): the reason and new appointment
    as data, which the issued PDF letter does not keep. Open requests (not recorded) are left out."""
    from motcua.workflow.models import Apology

    rows = Apology.objects.filter(dossier_id__in=dossier_ids, recorded_at__isnull=False).order_by("recorded_at", "pk")
    return {row.dossier_id: row for row in rows}


@dataclass
class StepLine:
    agency_name: str
    agency_code: str
    step_key: str
    step_name: str
    finished: int
    sessions_used: int
    sessions_budget: int
    early: int
    on_time: int
    late: int

    @property
    def average_used(self) -> Decimal | None:
        return (Decimal(self.sessions_used) / self.finished).quantize(Decimal("0.1")) if self.finished else None

    @property
    def average_budget(self) -> Decimal | None:
        return (Decimal(self.sessions_budget) / self.finished).quantize(Decimal("0.1")) if self.finished else None

    @property
    def late_share(self) -> Decimal | None:
        judged = self.early + self.on_time + self.late
        return (Decimal(self.late) * 100 / judged).quantize(Decimal("0.1")) if judged else None


def step_report(scope: Scope, period: Period) -> list[StepLine]:
    """Finished steps of the period per agency and step: sessions used against the budget."""
    rows = (
        StepFigures.objects.filter(agency_id__in=scope.agency_ids, day__gte=period.start, day__lt=period.end)
        .filter(scope.version_filter())
        .values("agency_id", "agency__name", "agency__code", "step_key")
        .order_by("agency__code", "step_key")
        .annotate(
            finished_n=Sum("finished"),
            used=Sum("sessions_used"),
            budget=Sum("sessions_budget"),
            early_n=Sum("early"),
            on_time_n=Sum("on_time"),
            late_n=Sum("late"),
        )
    )
    names = dict(
        StepFigures.objects.filter(agency_id__in=scope.agency_ids).values_list("step_key", "step_name").order_by("day")
    )
    return [
        StepLine(
            row["agency__name"],
            row["agency__code"],
            row["step_key"],
            names.get(row["step_key"], row["step_key"]),
            int(row["finished_n"] or 0),
            int(row["used"] or 0),
            int(row["budget"] or 0),
            int(row["early_n"] or 0),
            int(row["on_time_n"] or 0),
            int(row["late_n"] or 0),
        )
        for row in rows
    ]


# --- public statistics -------------------------------------------------------------------------------------


def public_scope() -> Scope | None:
    """The whole province, for the public page (aggregates only, no login)."""
    unit = root_unit()
    if unit is None:
        return None
    organisation = Organisation()
    return Scope(unit=unit, organisation=organisation, agency_ids=organisation.of_unit(unit))


@dataclass
class PublicLine:
    label: str
    figures: Figures
    on_time: Decimal | None
    online: Decimal | None


def public_statistics(period: Period) -> tuple[Scope | None, list[PublicLine], Figures]:
    """Province figures by unit (the province's own agencies, then each district or commune)."""
    scope = public_scope()
    if scope is None:
        return None, [], Figures()
    organisation = scope.organisation
    assert organisation is not None
    by_agency = figures_by_agency(scope, period)
    choices = indicator_choices()
    lines = []
    own = {a.pk for a in organisation.agencies.values() if a.unit_id == scope.unit.pk}
    groups = [(scope.unit.name, own)]
    for child in AdministrativeUnit.objects.filter(parent=scope.unit).order_by("path"):
        groups.append((child.name, organisation.of_unit(child)))
    for label, members in groups:
        if not members:
            continue
        group = total(by_agency, members)
        computed = {r.indicator.key: r.value for r in rates(group, choices)}
        lines.append(PublicLine(label, group, computed["on_time"], computed["online"]))
    return scope, lines, total(by_agency, scope.agency_ids)
