"""Background tasks: long exports (with progress) and the monthly report job.

``run_export`` is queued by ``services.request_export`` once the request's transaction commits;
a worker (``manage.py db_worker``) runs it and the export page polls its progress.

``monthly_report`` makes form II.06a of the previous reporting month for the province (XLSX and
PDF), kept as exports any leader of the province can download and sign. It is registered in
``motcua/schedule.py`` (``Job("monthly_report", "motcua.reports.tasks.monthly_report", …)``).

``daily_digest`` (07:00 Monday–Friday) sends each unit's leaders one e-mail on the unit's working
days: received, resolved and overdue counts of the unit's scope since the previous working day
(read from the summary tables) and the overdue dossiers each leader may see. It is idempotent per
leader and day: each mail is claimed in ``DigestDelivery`` (one row per leader and day, unique)
before it is sent and stamped once sent, so a manual re-run or a second scheduler sends nothing
twice, whatever the job's outcome text says; a failed mail gives its claim back and is retried.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from motcua import schedule
from motcua.reports import export as exporting
from motcua.reports import periods, selectors, services
from motcua.reports.models import ReportExport

log = logging.getLogger(__name__)


def _build(record: ReportExport, scope: selectors.Scope, period: periods.Period) -> tuple[str, bytes]:
    kind = record.kind
    stem = f"{period.key()}-{scope.unit.pk}"
    if kind in (ReportExport.Kind.II06A_XLSX, ReportExport.Kind.II06A_PDF):
        services.export_started(record, 2)
        rows = selectors.form_rows(scope, period)
        services.export_progress(record, 1)
        if kind == ReportExport.Kind.II06A_XLSX:
            return f"bieu-II06a-{stem}.xlsx", exporting.ii06a_workbook(scope, period, rows)
        return f"bieu-II06a-{stem}.pdf", exporting.ii06a_pdf(scope, period, rows)
    if kind == ReportExport.Kind.LATE_XLSX:
        lines = selectors.late_dossiers(record.requested_by, scope, period)
        services.export_started(record, max(1, len(lines)))
        step = max(1, len(lines) // 50)

        def progress(done: int, total: int) -> None:
            if done % step == 0:
                services.export_progress(record, done)

        return f"ho-so-qua-han-{stem}.xlsx", exporting.late_workbook(period, lines, progress)
    services.export_started(record, 1)
    return f"thoi-gian-theo-buoc-{stem}.xlsx", exporting.steps_workbook(period, selectors.step_report(scope, period))


def make_export(record: ReportExport) -> ReportExport:
    """Build the file of ``record``; a failure is recorded on it (and re-raised for the worker's log)."""
    try:
        if record.requested_by is not None:
            scope, period = selectors.check_report_params(record.requested_by, record.params)
        else:
            scope = selectors.public_scope()
            period = periods.parse_key(record.params["period"], selectors.period_first_day())
        with translation.override("vi"):  # the official form and its labels are Vietnamese
            filename, content = _build(record, scope, period)
    except Exception as exc:
        services.export_failed(record, f"{type(exc).__name__}: {exc}")
        raise
    services.export_finished(record, filename, content)
    return record


@task
def run_export(export_id: int) -> str:
    record = ReportExport.objects.select_related("requested_by").get(pk=export_id)
    make_export(record)
    return record.filename


@task(takes_context=True)
@schedule.job("monthly_report")
def monthly_report() -> str:
    """Form II.06a of the previous reporting month for the whole province, as XLSX and PDF."""
    first_day = selectors.period_first_day()
    current = periods.containing(timezone.localdate(), first_day)
    previous = periods.containing(current.start - timedelta(days=1), first_day)
    scope = selectors.public_scope()
    if scope is None:
        return "no agencies: nothing to report"
    made = []
    for kind in (ReportExport.Kind.II06A_XLSX, ReportExport.Kind.II06A_PDF):
        record = ReportExport.objects.create(kind=kind, params={"unit": str(scope.unit.pk), "period": previous.key()})
        make_export(record)
        made.append(record.filename)
    return ", ".join(made)


DIGEST_JOB = "daily_digest"


def _previous_working_day(calendar, day: date) -> date:
    for back in range(1, 15):
        candidate = day - timedelta(days=back)
        if calendar.is_working_day(candidate):
            return candidate
    return day - timedelta(days=1)


def _digest_mail(leader, scope: selectors.Scope, since: date, day: date) -> tuple[str, str]:
    figures = selectors.figures_between(scope, since, day)
    overdue = list(selectors.overdue_dossiers(leader, scope, day - timedelta(days=1)))
    with translation.override("vi"):
        subject = _("Daily digest of %(unit)s, %(day)s") % {"unit": scope.unit.name, "day": day.strftime("%d/%m/%Y")}
        lines = [
            _("Figures since %(since)s (summary tables):") % {"since": since.strftime("%d/%m/%Y")},
            _("Received: %(n)s") % {"n": figures.received_in_period},
            _("Resolved: %(n)s") % {"n": figures.resolved},
            _("In progress, overdue: %(n)s") % {"n": figures.overdue},
            "",
            _("Overdue dossiers you can see:") if overdue else _("No overdue dossiers you can see."),
        ]
        for dossier in overdue:
            due = timezone.localtime(dossier.due_at).strftime("%d/%m/%Y %H:%M") if dossier.due_at else ""
            lines.append(
                _("- %(code)s, %(procedure)s, %(agency)s, due %(due)s")
                % {
                    "code": dossier.code,
                    "procedure": dossier.procedure_version.name,
                    "agency": dossier.competent_agency.name,
                    "due": due,
                }
            )
    return subject, "\n".join(lines)


def send_daily_digest(day: date | None = None) -> str:
    """One e-mail per leader of every unit that works on ``day``, unless already sent that day."""
    from motcua.org.models import Role, User
    from motcua.worktime.selectors import calendar_for_unit

    day = day or timezone.localdate()
    leaders_by_unit: dict[int, list] = {}
    leaders = User.objects.filter(is_active=True, roles__role=Role.LEADER, unit__isnull=False).exclude(email="")
    for leader in leaders.select_related("unit").distinct().order_by("unit__path", "email"):
        leaders_by_unit.setdefault(leader.unit_id, []).append(leader)
    organisation = selectors.Organisation()
    sent, failed, skipped = [], [], 0
    for unit_id, unit_leaders in leaders_by_unit.items():
        unit = unit_leaders[0].unit
        calendar = calendar_for_unit(unit)
        if not calendar.is_working_day(day):
            continue
        agency_ids = organisation.of_unit(unit)
        if not agency_ids:
            continue
        scope = selectors.Scope(unit=unit, organisation=organisation, agency_ids=agency_ids)
        since = _previous_working_day(calendar, day)
        unit_sent = False
        for leader in unit_leaders:
            if not services.claim_digest(leader, unit, day):
                skipped += 1
                continue
            try:
                subject, body = _digest_mail(leader, scope, since, day)
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [leader.email])
            except Exception as exc:  # one mail failure must not stop the others; retried next run
                log.exception("Daily digest of unit %s to %s failed", unit_id, leader.email)
                services.release_digest(leader, day)
                failed.append(f"{unit_id} ({type(exc).__name__}: {exc})")
                continue
            services.digest_sent(leader, day)
            unit_sent = True
        if unit_sent:
            sent.append(unit_id)
    message = f"{day.isoformat()}: sent units [{', '.join(map(str, sent))}]; already sent {skipped}"
    if failed:
        message += f"; failed units {', '.join(failed)}"
    return message


@task(takes_context=True)
@schedule.job(DIGEST_JOB)
def daily_digest() -> str:
    """Each unit's leaders get the day's digest (see the module docstring)."""
    return send_daily_digest()
