"""Background tasks: long exports (with progress) and the monthly report job.

``run_export`` is queued by ``services.request_export`` once the request's transaction commits;
a worker (``manage.py db_worker``) runs it and the export page polls its progress.

``monthly_report`` makes form II.06a of the previous reporting month for the province (XLSX and
PDF), kept as exports any leader of the province can download and sign. It is registered in
``motcua/schedule.py`` (``Job("monthly_report", "motcua.reports.tasks.monthly_report", …)``).
"""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task
from django.utils import timezone, translation

from motcua import schedule
from motcua.reports import export as exporting
from motcua.reports import periods, selectors, services
from motcua.reports.models import ReportExport


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
