"""The only code that writes the report summaries, targets, formula settings and exports.

How the summaries stay current — a signal, not a job (choice (a) of the issue). Every dossier
event is written by ``dossiers.services._record`` inside the transaction that changed the
dossier; our ``post_save`` receiver (``signals.py``) calls ``book_dossier`` in that same
transaction. It folds the dossier's whole event log (a handful of rows, read by the dossier
index) into its contribution (``facts.fold``), compares it with what was booked before
(``DossierBooking``) and adds only the difference to the day and month rows. So:

* the figures are live, and they roll back with the event if the transaction fails;
* the order in which events are committed does not matter (a job folding "events since a
  watermark" would have to cope with ids committed out of order); events of one dossier are
  serialised by the dossier's row lock and by the booking row lock taken here;
* the rebuild (``rebuild``) runs the very same fold over the whole log, so it gives the same
  rows, and the tests compare both paths.

The cost is three queries for an event that changes nothing (lock the booking, read the facts,
store the new position), a few more for one that does. A satisfaction rating (``portal.Rating``)
is not an event: its receiver calls ``book_dossier`` without one, which folds the log again with
the rating among the facts. Bulk imports that write the log with SQL (the
benchmark does) must run ``rebuild_report_summaries`` afterwards.

Step runs (the workflow's per-step timing records) are booked the same way from a ``post_save``
receiver on ``StepRun``: a finished step adds its sessions used, its budget and its verdict to
``StepFigures`` on the day it finished.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, When
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext as _

from motcua.catalog.models import FeeLine, ProcedureVersion
from motcua.dossiers.models import Dossier, DossierDocument, DossierEvent
from motcua.org.models import Agency
from motcua.org.selectors import is_system_admin, is_unit_admin, unit_in_scope
from motcua.reports import facts
from motcua.reports.facts import COLUMNS, Contribution, DossierFacts, Event
from motcua.reports.figures import INDICATOR_BY_KEY
from motcua.reports.models import (
    STEP_COUNTERS,
    DailyFigures,
    DigestDelivery,
    DossierBooking,
    IndicatorSetting,
    MonthlyFigures,
    OnlineTarget,
    ReportExport,
    StepBooking,
    StepFigures,
)
from motcua.worktime.calendar import WorkCalendar
from motcua.worktime.selectors import calendar_for_agency

ProgressCallback = Callable[[int, int], None]


# --- reading the log ------------------------------------------------------------------------------


def _version_traits(version_ids: Iterable[int]) -> dict[int, tuple[bool, bool]]:
    """version id → (accepts online submission, has a fee or charge above zero)."""
    ids = set(version_ids)
    online = dict(ProcedureVersion.objects.filter(pk__in=ids).values_list("pk", "online_level"))
    with_fee = set(FeeLine.objects.filter(version_id__in=ids, amount__gt=0).values_list("version_id", flat=True))
    return {pk: (level != ProcedureVersion.OnlineLevel.NONE, pk in with_fee) for pk, level in online.items()}


def _result_dossiers(dossier_filter: Q) -> set[int]:
    """Dossiers with an electronic result file (a workflow attachment of kind "result")."""
    from motcua.workflow.models import StepAttachment  # the workflow app builds on dossiers, not on us

    return set(
        StepAttachment.objects.filter(dossier_filter, kind=StepAttachment.Kind.RESULT).values_list(
            "dossier_id", flat=True
        )
    )


def satisfied_from() -> int:
    """The lowest score counted as "satisfied or better" (1–5 scale; 4 unless the province sets
    ``MOTCUA_SATISFIED_SCORE``; the national rule is unconfirmed)."""
    return int(getattr(settings, "MOTCUA_SATISFIED_SCORE", 4))


def _make_facts(
    *,
    channel: str,
    due_at,
    timeliness: str,
    online_capable: bool,
    with_fee: bool,
    documents: int,
    scanned: int,
    result_digital: bool,
    rating: tuple[int, datetime] | None,
    threshold: int,
) -> DossierFacts:
    """The one place that turns what was read about a dossier into its facts (both read paths use it)."""
    return DossierFacts(
        channel=channel,
        online_capable=bool(online_capable),
        with_fee=bool(with_fee),
        digitised=documents > 0 and scanned == documents,
        result_digital=bool(result_digital),
        due_at=due_at,
        timeliness=timeliness or "",
        rating_score=rating[0] if rating else None,
        rating_at=rating[1] if rating else None,
        satisfied_from=threshold,
    )


def _ratings(dossier_filter: Q) -> dict[int, tuple[int, datetime]]:
    from motcua.portal.models import Rating  # the portal builds on dossiers, not on us

    return {
        dossier_id: (score, created_at)
        for dossier_id, score, created_at in Rating.objects.filter(dossier_filter).values_list(
            "dossier_id", "score", "created_at"
        )
    }


def _dossier_facts(dossier_filter: Q) -> dict[int, tuple[int, int, DossierFacts]]:
    """dossier id → (agency id, version id, facts) for the dossiers matching ``dossier_filter``
    (a Q on ``dossier_id``): a few grouped queries for many dossiers (the rebuild)."""
    rows = list(
        Dossier.objects.filter(_on_pk(dossier_filter)).values_list(
            "pk", "competent_agency_id", "procedure_version_id", "channel", "due_at", "timeliness"
        )
    )
    if not rows:
        return {}
    traits = _version_traits({row[2] for row in rows})
    documents = {
        dossier_id: (n, scanned)
        for dossier_id, n, scanned in DossierDocument.objects.filter(dossier_filter)
        .values("dossier_id")
        .annotate(n=Count("id"), scanned=Count("id", filter=_SCANNED))
        .values_list("dossier_id", "n", "scanned")
    }
    results = _result_dossiers(dossier_filter)
    ratings = _ratings(dossier_filter)
    threshold = satisfied_from()
    out = {}
    for pk, agency_id, version_id, channel, due_at, timeliness in rows:
        online_capable, with_fee = traits.get(version_id, (False, False))
        n, scanned = documents.get(pk, (0, 0))
        out[pk] = (
            agency_id,
            version_id,
            _make_facts(
                channel=channel,
                due_at=due_at,
                timeliness=timeliness,
                online_capable=online_capable,
                with_fee=with_fee,
                documents=n,
                scanned=scanned,
                result_digital=pk in results,
                rating=ratings.get(pk),
                threshold=threshold,
            ),
        )
    return out


_SCANNED = Q(file__isnull=False) & ~Q(file="")


def _one_dossier_facts(dossier_id: int) -> tuple[int, int, DossierFacts] | None:
    """The same as ``_dossier_facts`` for one dossier, in one query (the per-event path)."""
    from motcua.portal.models import Rating
    from motcua.workflow.models import StepAttachment

    def count(condition: Q | None = None) -> Subquery:
        return Subquery(
            DossierDocument.objects.filter(condition or Q(), dossier_id=OuterRef("pk"))
            .order_by()
            .values("dossier_id")
            .annotate(n=Count("id"))
            .values("n")[:1]
        )

    rating = Rating.objects.filter(dossier_id=OuterRef("pk"))
    row = (
        Dossier.objects.filter(pk=dossier_id)
        .annotate(
            f_with_fee=Exists(FeeLine.objects.filter(version_id=OuterRef("procedure_version_id"), amount__gt=0)),
            f_documents=count(),
            f_scanned=count(_SCANNED),
            f_result=Exists(StepAttachment.objects.filter(dossier_id=OuterRef("pk"), kind=StepAttachment.Kind.RESULT)),
            f_score=Subquery(rating.values("score")[:1]),
            f_rated_at=Subquery(rating.values("created_at")[:1]),
        )
        .values_list(
            "competent_agency_id",
            "procedure_version_id",
            "channel",
            "due_at",
            "timeliness",
            "procedure_version__online_level",
            "f_with_fee",
            "f_documents",
            "f_scanned",
            "f_result",
            "f_score",
            "f_rated_at",
        )
        .first()
    )
    if row is None:
        return None
    agency_id, version_id, channel, due_at, timeliness, level, with_fee, n, scanned, result, score, rated_at = row
    return (
        agency_id,
        version_id,
        _make_facts(
            channel=channel,
            due_at=due_at,
            timeliness=timeliness,
            online_capable=level is not None and level != ProcedureVersion.OnlineLevel.NONE,
            with_fee=with_fee,
            documents=n or 0,
            scanned=scanned or 0,
            result_digital=result,
            rating=(score, rated_at) if score is not None else None,
            threshold=satisfied_from(),
        ),
    )


def _on_pk(dossier_filter: Q) -> Q:
    """The same condition on ``Dossier.pk`` instead of ``dossier_id``."""
    children = [(key.replace("dossier_id", "pk", 1), value) for key, value in dossier_filter.children]
    return Q(*children, _connector=dossier_filter.connector, _negated=dossier_filter.negated)


def _events(dossier_filter: Q) -> dict[int, list[Event]]:
    """The events of the matching dossiers, with only the data the fold reads (taken out in SQL,
    so the rebuild does not decode millions of JSON documents)."""
    rows = (
        DossierEvent.objects.filter(dossier_filter)
        .annotate(
            due=KeyTextTransform("due_at", "data"),
            verdict=KeyTextTransform("timeliness", "data"),
            paid_channel=Case(When(action=DossierEvent.Action.FEE_PAID, then=KeyTextTransform("channel", "data"))),
            txn_ref=Case(When(action=DossierEvent.Action.FEE_PAID, then=KeyTextTransform("txn_ref", "data"))),
        )
        .values_list(
            "dossier_id", "pk", "action", "from_status", "to_status", "at", "due", "verdict", "paid_channel", "txn_ref"
        )
        .order_by()
    )
    out: dict[int, list[Event]] = defaultdict(list)
    for dossier_id, pk, action, from_status, to_status, at, *data in rows.iterator(chunk_size=5000):
        out[dossier_id].append(Event(action, from_status, to_status, at, facts.event_data(*data), pk))
    return out


def _event(instance: DossierEvent) -> Event:
    """The fold's view of a just-saved event: the same as ``_events`` reads back from SQL."""
    data = instance.data or {}
    fee = instance.action == DossierEvent.Action.FEE_PAID
    return Event(
        instance.action,
        instance.from_status,
        instance.to_status,
        instance.at,
        facts.event_data(
            data.get("due_at"),
            data.get("timeliness"),
            data.get("channel") if fee else None,
            data.get("txn_ref") if fee else None,
        ),
        instance.pk,
    )


# --- applying contributions -----------------------------------------------------------------------


def _increment(model, key: dict[str, Any], counts: dict[str, int]) -> None:
    """Add ``counts`` to the row of ``key``, creating it if needed (also when two bookers race)."""
    if not counts:
        return
    changes = {column: F(column) + n for column, n in counts.items()}
    if model.objects.filter(**key).update(**changes):
        return
    try:
        with transaction.atomic():
            model.objects.create(**key, **counts)
    except IntegrityError:
        model.objects.filter(**key).update(**changes)


def _upsert(model, period_field: str, agency_id: int, version_id: int, rows: dict[date, dict[str, int]]) -> None:
    """Add each day's (or month's) counts to its summary row in one statement: INSERT … ON CONFLICT
    DO UPDATE adding the new values (PostgreSQL and SQLite), rows in key order so that two bookers
    lock them in the same order; other databases fall back to one update (or insert) per row."""
    rows = {key: counts for key, counts in sorted(rows.items()) if counts}
    if not rows:
        return
    if connection.vendor not in ("postgresql", "sqlite"):
        for key, counts in rows.items():
            _increment(model, {period_field: key, "agency_id": agency_id, "procedure_version_id": version_id}, counts)
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    keys = [qn(model._meta.get_field(name).column) for name in (period_field, "agency", "procedure_version")]
    columns = [qn(column) for column in COLUMNS]
    placeholders = "(" + ", ".join(["%s"] * (3 + len(COLUMNS))) + ")"
    params: list[Any] = []
    for key, counts in rows.items():
        params += [key, agency_id, version_id, *(counts.get(column, 0) for column in COLUMNS)]
    sql = (
        f"INSERT INTO {table} ({', '.join(keys + columns)}) VALUES {', '.join([placeholders] * len(rows))} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
        + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _by_month(contribution: Contribution) -> dict[date, dict[str, int]]:
    months: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, counts in contribution.items():
        for column, n in counts.items():
            months[day.replace(day=1)][column] += n
    return {month: {c: n for c, n in counts.items() if n} for month, counts in months.items()}


def _apply(agency_id: int, version_id: int, contribution: Contribution) -> None:
    _upsert(DailyFigures, "day", agency_id, version_id, contribution)
    _upsert(MonthlyFigures, "month", agency_id, version_id, _by_month(contribution))


def book_dossier(dossier_id: int, event: DossierEvent | None = None) -> None:
    """Bring the summaries in line with the dossier's log after ``event`` was saved (or after a
    change that is not an event, such as a rating, when ``event`` is None): fold only the new
    event when the stored position allows it, else the whole log (see the module docstring)."""
    # No savepoint of our own: we run inside the event's transaction and fail with it.
    with transaction.atomic(savepoint=False):
        booking = DossierBooking.objects.select_for_update().filter(dossier_id=dossier_id).first()
        found = _one_dossier_facts(dossier_id)
        if found is None:
            return
        agency_id, version_id, dossier_facts = found
        position = facts.Fold.from_json(booking.state) if booking is not None else None
        new_event = _event(event) if event is not None and event.pk is not None else None
        if (
            booking is not None
            and position is not None
            and new_event is not None
            and position.facts == dossier_facts
            and position.follows(new_event)
            and (booking.agency_id, booking.procedure_version_id) == (agency_id, version_id)
        ):
            delta, position = position.step(new_event)
            _apply(agency_id, version_id, delta)
            fields = ["state"]
            if delta:
                booking.contribution = facts.to_json(facts.add(facts.from_json(booking.contribution), delta))
                fields.append("contribution")
            booking.state = position.to_json()
            booking.save(update_fields=fields)
            return
        dossier_filter = Q(dossier_id=dossier_id)
        new, position = facts.fold_all(_events(dossier_filter).get(dossier_id, []), dossier_facts)
        if booking is None:
            _apply(agency_id, version_id, new)
            DossierBooking.objects.create(
                dossier_id=dossier_id,
                agency_id=agency_id,
                procedure_version_id=version_id,
                contribution=facts.to_json(new),
                state=position.to_json(),
            )
            return
        old = facts.from_json(booking.contribution)
        if (booking.agency_id, booking.procedure_version_id) == (agency_id, version_id):
            _apply(agency_id, version_id, facts.difference(old, new))
        else:
            # Booked under another agency (the dossier was moved): take it all back there.
            _apply(booking.agency_id, booking.procedure_version_id, facts.negate(old))
            _apply(agency_id, version_id, new)
        booking.agency_id, booking.procedure_version_id = agency_id, version_id
        booking.contribution = facts.to_json(new)
        booking.state = position.to_json()
        booking.save()


# --- step runs ------------------------------------------------------------------------------------


def sessions_used(calendar: WorkCalendar, start: datetime, finish: datetime) -> int:
    """Working sessions a holder used from ``start`` to ``finish``: the whole sessions in between,
    plus the session in which it finished if that session began after ``start`` (the session in
    which a dossier arrives is charged to the previous holder, DESIGN.md time rules)."""
    used = calendar.count_sessions(start, finish)
    local_start, local_finish = calendar.localize(start), calendar.localize(finish)
    if calendar.is_working_day(local_finish.date()):
        for session_start, session_end in calendar.sessions:
            began = datetime.combine(local_finish.date(), session_start, tzinfo=calendar.tz)
            if session_start < local_finish.time() < session_end and began > local_start:
                used += 1
    return used


def _step_counts(step_run, calendar: WorkCalendar) -> dict[str, int]:
    counts = {
        "finished": 1,
        "sessions_used": sessions_used(calendar, step_run.started_at, step_run.finished_at),
        "sessions_budget": int(step_run.budget_sessions or 0),
    }
    if step_run.timeliness in ("early", "on_time", "late"):
        counts[step_run.timeliness] = 1
    return counts


def _step_key(booking_or_run, day: date) -> dict[str, Any]:
    return {
        "day": day,
        "agency_id": booking_or_run.agency_id,
        "procedure_version_id": booking_or_run.procedure_version_id,
        "step_key": booking_or_run.step_key,
    }


def book_step_run(step_run) -> None:
    """Count a finished step (or a consulted agency's opinion) once; take the count back if the row
    is reopened or changed."""
    with transaction.atomic(savepoint=False):
        booking = StepBooking.objects.select_for_update().filter(step_run_id=step_run.pk).first()
        if booking is not None:
            _increment(StepFigures, _step_key(booking, booking.day), {c: -n for c, n in booking.counts.items()})
            booking.delete()
        if step_run.finished_at is None:
            return
        version_id = Dossier.objects.values_list("procedure_version_id", flat=True).get(pk=step_run.dossier_id)
        agency = Agency.objects.select_related("unit").get(pk=step_run.agency_id)
        counts = _step_counts(step_run, calendar_for_agency(agency))
        new = StepBooking(
            step_run_id=step_run.pk,
            dossier_id=step_run.dossier_id,
            day=facts.local_date(step_run.finished_at),
            agency_id=step_run.agency_id,
            procedure_version_id=version_id,
            step_key=step_run.step_key,
            counts=counts,
        )
        _increment(StepFigures, _step_key(new, new.day), counts)
        StepFigures.objects.filter(**_step_key(new, new.day)).update(step_name=step_run.step_name[:255])
        new.save()


# --- rebuild --------------------------------------------------------------------------------------

SUMMARY_TABLES = (DailyFigures, MonthlyFigures, DossierBooking, StepFigures, StepBooking)


def _empty_tables() -> None:
    if connection.vendor == "postgresql":
        names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in SUMMARY_TABLES)
        with connection.cursor() as cursor:
            # EXCLUSIVE first: bookers already inside a transaction finish, new ones wait for us
            # (they lock their booking row before touching a summary row).
            cursor.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
            # Foreign-key checks deferred by earlier writes of this transaction must run before TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {names}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    else:
        for model in SUMMARY_TABLES:
            model.objects.all()._raw_delete(model.objects.db)


def _write(model, fields: list[str], rows: Iterable[tuple]) -> None:
    """Insert many rows: COPY on PostgreSQL (Django's bulk_create spends most of a big rebuild
    preparing values), bulk_create elsewhere."""
    if connection.vendor == "postgresql":
        columns = [model._meta.get_field(name).column for name in fields]
        table = connection.ops.quote_name(model._meta.db_table)
        sql = f"COPY {table} ({', '.join(connection.ops.quote_name(c) for c in columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    attnames = [model._meta.get_field(name).attname for name in fields]
    model.objects.bulk_create((model(**dict(zip(attnames, row, strict=True))) for row in rows), batch_size=2000)


def _rebuild_dossiers(chunk_size: int, progress: ProgressCallback | None) -> int:
    bounds = Dossier.objects.order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first(), bounds.last()
    if first is None:
        return 0
    totals: dict[tuple[date, int, int], list[int]] = {}
    index = {column: i for i, column in enumerate(COLUMNS)}
    booked = 0
    booking_fields = ["dossier", "agency", "procedure_version", "contribution", "state"]
    for low in range(first, last + 1, chunk_size):
        chunk = Q(dossier_id__gte=low, dossier_id__lt=low + chunk_size)
        events = _events(chunk)
        if events:
            dossier_facts = _dossier_facts(chunk)
            bookings = []
            for dossier_id, dossier_events in events.items():
                agency_id, version_id, one = dossier_facts[dossier_id]
                contribution, position = facts.fold_all(dossier_events, one)
                for day, counts in contribution.items():
                    row = totals.get((day, agency_id, version_id))
                    if row is None:
                        row = totals[(day, agency_id, version_id)] = [0] * len(COLUMNS)
                    for column, n in counts.items():
                        row[index[column]] += n
                bookings.append(
                    (
                        dossier_id,
                        agency_id,
                        version_id,
                        json.dumps(facts.to_json(contribution)),
                        json.dumps(position.to_json()),
                    )
                )
            if connection.vendor != "postgresql":
                bookings = [(d, a, v, json.loads(c), json.loads(p)) for d, a, v, c, p in bookings]
            _write(DossierBooking, booking_fields, bookings)
            booked += len(bookings)
        if progress is not None:
            progress(min(low + chunk_size, last + 1) - first, last + 1 - first)
    months: dict[tuple[date, int, int], list[int]] = {}
    for (day, agency_id, version_id), values in totals.items():
        key = (day.replace(day=1), agency_id, version_id)
        row = months.setdefault(key, [0] * len(COLUMNS))
        for i, n in enumerate(values):
            row[i] += n
    fields = ["agency", "procedure_version", *COLUMNS]
    _write(DailyFigures, ["day", *fields], ((day, a, v, *values) for (day, a, v), values in totals.items()))
    _write(MonthlyFigures, ["month", *fields], ((m, a, v, *values) for (m, a, v), values in months.items()))
    return booked


def _rebuild_steps() -> int:
    from motcua.workflow.models import StepRun

    calendars: dict[int, WorkCalendar] = {}
    totals: dict[tuple[date, int, int, str], dict[str, int]] = {}
    names: dict[tuple[date, int, int, str], str] = {}
    bookings = []
    runs = (
        StepRun.objects.filter(finished_at__isnull=False)
        .select_related("agency__unit")
        .annotate(version_id=F("dossier__procedure_version_id"))
        .order_by("pk")
    )
    for step_run in runs.iterator(chunk_size=2000):
        if step_run.agency_id not in calendars:
            calendars[step_run.agency_id] = calendar_for_agency(step_run.agency)
        counts = _step_counts(step_run, calendars[step_run.agency_id])
        day = facts.local_date(step_run.finished_at)
        key = (day, step_run.agency_id, step_run.version_id, step_run.step_key)
        row = totals.setdefault(key, dict.fromkeys(STEP_COUNTERS, 0))
        for column, n in counts.items():
            row[column] += n
        names[key] = step_run.step_name[:255]
        bookings.append(
            StepBooking(
                step_run_id=step_run.pk,
                dossier_id=step_run.dossier_id,
                day=day,
                agency_id=step_run.agency_id,
                procedure_version_id=key[2],
                step_key=step_run.step_key,
                counts=counts,
            )
        )
    StepBooking.objects.bulk_create(bookings, batch_size=2000)
    StepFigures.objects.bulk_create(
        (
            StepFigures(day=d, agency_id=a, procedure_version_id=v, step_key=k, step_name=names[(d, a, v, k)], **row)
            for (d, a, v, k), row in totals.items()
        ),
        batch_size=2000,
    )
    return len(bookings)


def rebuild(*, chunk_size: int = 5000, progress: ProgressCallback | None = None) -> dict[str, int]:
    """Recompute every summary from the event log and the step runs, in one transaction."""
    with transaction.atomic():
        _empty_tables()
        dossiers = _rebuild_dossiers(chunk_size, progress)
        steps = _rebuild_steps()
    return {"dossiers": dossiers, "steps": steps}


# --- daily digest ---------------------------------------------------------------------------------

#: An unsent claim older than this is taken as a run that died while sending: it may be claimed again.
DIGEST_CLAIM_TIMEOUT = timedelta(minutes=15)


def claim_digest(leader, unit, day: date, *, now: datetime | None = None) -> bool:
    """Reserve the digest of ``day`` for ``leader`` before sending it: True for the one caller that
    may send it; False when it was sent already or another run is sending it (the unique row
    decides, also between two schedulers running at once)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            DigestDelivery.objects.create(leader=leader, unit=unit, day=day, claimed_at=now)
        return True
    except IntegrityError:
        pass
    # Taken over only if the earlier claim is stale and still unsent (one UPDATE decides the race).
    return bool(
        DigestDelivery.objects.filter(
            leader=leader, day=day, sent_at__isnull=True, claimed_at__lt=now - DIGEST_CLAIM_TIMEOUT
        ).update(claimed_at=now, unit=unit)
    )


def digest_sent(leader, day: date, *, now: datetime | None = None) -> None:
    """Stamp the digest of ``day`` as sent to ``leader``."""
    DigestDelivery.objects.filter(leader=leader, day=day).update(sent_at=now or timezone.now())


def release_digest(leader, day: date) -> None:
    """Give up an unsent claim (the mail failed), so that the next run tries again."""
    DigestDelivery.objects.filter(leader=leader, day=day, sent_at__isnull=True).delete()


# --- settings -------------------------------------------------------------------------------------


def set_indicator_formula(
    *, actor, indicator: str, variant: str, confirmed: bool = False, source: str = ""
) -> IndicatorSetting:
    """Choose the formula of an indicator (system administrators only)."""
    if not is_system_admin(actor):
        raise PermissionDenied(_("Only a system administrator can change the indicator formulas."))
    definition = INDICATOR_BY_KEY.get(indicator)
    if definition is None:
        raise ValidationError({"indicator": [_("Unknown indicator.")]})
    if variant not in {v.key for v in definition.variants}:
        raise ValidationError({"variant": [_("This formula does not exist for the indicator.")]})
    setting, _created = IndicatorSetting.objects.update_or_create(
        indicator=indicator, defaults={"variant": variant, "confirmed": confirmed, "source": source.strip()[:255]}
    )
    return setting


def set_online_target(*, actor, agency: Agency, year: int, percent, note: str = "") -> OnlineTarget:
    """Set an agency's yearly target share of online dossiers (system administrators, or the unit
    administrator of the agency's unit)."""
    if not (is_system_admin(actor) or (is_unit_admin(actor) and unit_in_scope(actor, agency.unit))):
        raise PermissionDenied(_("You cannot set targets for this agency."))
    errors: dict[str, list[str]] = {}
    try:
        value = Decimal(str(percent).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite() or not 0 <= value <= 100:
        errors["percent"] = [_("Enter a share between 0 and 100.")]
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = 0
    if not 2000 <= year <= 2100:
        errors["year"] = [_("Enter a year between 2000 and 2100.")]
    if errors:
        raise ValidationError(errors)
    target, _created = OnlineTarget.objects.update_or_create(
        agency=agency, year=year, defaults={"percent": value, "note": str(note or "").strip()[:255]}
    )
    return target


# --- exports --------------------------------------------------------------------------------------


def request_export(*, actor, kind: str, params: dict[str, Any]) -> ReportExport:
    """Record an export and queue the task that makes it (``tasks.run_export``)."""
    from motcua.reports import selectors, tasks

    if kind not in ReportExport.Kind.values:
        raise ValidationError({"kind": [_("Unknown export.")]})
    selectors.check_report_params(actor, params)  # raises ValidationError / PermissionDenied
    export = ReportExport.objects.create(kind=kind, params=params, requested_by=actor)
    transaction.on_commit(lambda: tasks.run_export.enqueue(export.pk))
    return export


def export_started(export: ReportExport, total: int) -> None:
    export.state, export.total, export.done = ReportExport.State.RUNNING, total, 0
    export.save(update_fields=["state", "total", "done"])


def export_progress(export: ReportExport, done: int) -> None:
    ReportExport.objects.filter(pk=export.pk).update(done=done)
    export.done = done


def export_finished(export: ReportExport, filename: str, content: bytes) -> None:
    from django.core.files.base import ContentFile

    export.file.save(f"{export.pk}-{filename}", ContentFile(content), save=False)
    export.filename = filename
    export.state, export.done, export.finished_at = ReportExport.State.DONE, export.total, timezone.now()
    export.save(update_fields=["file", "filename", "state", "done", "finished_at"])


def export_failed(export: ReportExport, error: str) -> None:
    export.state, export.error, export.finished_at = ReportExport.State.FAILED, error[:2000], timezone.now()
    export.save(update_fields=["state", "error", "finished_at"])


def sign_export(export: ReportExport, *, actor, now: datetime | None = None):
    """Sign a finished PDF export like any other document: the documents app keeps the PDF
    (``store_result``, issued by the signer's agency) and adds the signer's PAdES signature.
    Raises PermissionDenied, ValidationError or the documents app's SigningError."""
    from django.core.files.storage import default_storage

    from motcua.documents import services as documents

    if export.kind != ReportExport.Kind.II06A_PDF or export.state != ReportExport.State.DONE:
        raise ValidationError({"export": [_("Only a finished PDF report can be signed.")]})
    if actor.agency_id is None:
        raise PermissionDenied(_("Only staff of an agency can sign reports."))
    with transaction.atomic():
        locked = ReportExport.objects.select_for_update().get(pk=export.pk)
        document = locked.document
        if document is None:
            with default_storage.open(locked.file.name, "rb") as handle:
                pdf = handle.read()
            document = documents.store_result(pdf, actor=actor, title=locked.filename, agency=actor.agency, now=now)
            locked.document = document
            locked.save(update_fields=["document"])
    outcome = documents.sign_document(document, actor=actor, reason=_("Report approved"), now=now)
    export.document = outcome.document
    return outcome
