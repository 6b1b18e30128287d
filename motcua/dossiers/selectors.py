"""Queries over dossiers, always scoped to the caller (invariant 5).

System administrators see every dossier; staff see the dossiers whose receiving or competent
agency lies in their unit subtree (dossiers routed to them through the workflow come with the
workflow app); citizens see none here (the portal will show them their own).

Timeliness is computed in the database: resolved dossiers carry the verdict stored when they were
resolved; open ones are overdue when "now" is past the due moment, or, while paused for a
supplement, when the pause began after it (the pause cannot save a dossier that was already late).
"""

from datetime import date, datetime, time, timedelta

from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils import timezone

from motcua import inputs
from motcua.catalog import codes as catalog_codes
from motcua.dossiers.lifecycle import OPEN, PAUSED, RESOLVED, Status
from motcua.dossiers.models import Dossier
from motcua.org.selectors import scope_filter, scope_path
from motcua.text import ascii_int, fold

TIMELINESS_VALUES = ("early", "on_time", "late", "within_time", "overdue")


def dossiers_visible_to(user) -> QuerySet[Dossier]:
    """Every dossier ``user`` may see, and no other.

    A citizen's unsent draft is theirs alone (the portal shows it to its owner): no office sees it
    before it is submitted, whatever the scope.
    """
    if scope_path(user) is None:
        return Dossier.objects.none()
    # Staff also see the dossiers routed to their agency (or to them) by a workflow step.
    from motcua.workflow.selectors import routed_condition

    return Dossier.objects.filter(
        scope_filter(user, "receiving_agency__unit")
        | scope_filter(user, "competent_agency__unit")
        | routed_condition(user)
    ).exclude(status=Status.DRAFT)


def agencies_received_for(receiving) -> QuerySet:
    """Active agencies whose dossiers the one-stop desk of ``receiving`` takes in: those of its own
    unit, or for a service centre every agency of its unit's subtree (the set form of
    ``services._may_receive_for``)."""
    from motcua.org.models import Agency

    agencies = Agency.objects.filter(is_active=True)
    if receiving.kind == Agency.Kind.SERVICE_CENTRE:
        return agencies.filter(unit__path__startswith=receiving.unit.path)
    return agencies.filter(unit=receiving.unit_id)


def counters_in_scope(user) -> QuerySet:
    """The active reception counters (quầy) of the agencies in ``user``'s scope."""
    from motcua.org.models import Counter

    return Counter.objects.filter(scope_filter(user, "agency__unit"), is_active=True).select_related("agency")


def seat_of(user, counter_id: object) -> object | None:
    """The counter ``counter_id`` if it is an active counter of ``user``'s own agency: the counter a clerk
    sits at is kept in the session, and may have been closed or may belong to another agency since."""
    from motcua.org.models import Counter

    pk = ascii_int(counter_id, minimum=1)  # "²".isdigit() is True, and int("²") fails
    if pk is None or user.agency_id is None:
        return None
    return Counter.objects.filter(pk=pk, agency=user.agency_id, is_active=True).first()


def received_between(dossiers: QuerySet[Dossier], start: date, end: date, counter_id: int | None = None):
    """The tracking book's rows: ``dossiers`` received from ``start`` to ``end`` (local days), in order of
    receipt, optionally at one counter."""
    rows = dossiers.filter(received_at__gte=_from_day(start))
    if (until := _until_day(end)) is not None:
        rows = rows.filter(received_at__lt=until)
    if counter_id is not None:
        rows = rows.filter(counter_id=counter_id)
    return rows.order_by("received_at", "pk")


def overdue_condition(now: datetime) -> Q:
    running = Q(status__in=OPEN - PAUSED, due_at__lt=now)
    paused = Q(status__in=PAUSED, due_at__lt=F("paused_at"))
    return Q(due_at__isnull=False) & (running | paused)


def with_timeliness(dossiers: QuerySet[Dossier], now: datetime | None = None) -> QuerySet[Dossier]:
    """Annotate ``timeliness_now``: early / on_time / late / within_time / overdue, or '' (not counted)."""
    moment = now or timezone.now()
    return dossiers.annotate(
        timeliness_now=Case(
            When(Q(status__in=RESOLVED) & ~Q(timeliness=""), then=F("timeliness")),
            When(overdue_condition(moment), then=Value("overdue")),
            When(status__in=OPEN, then=Value("within_time")),
            default=Value(""),
            output_field=CharField(),
        )
    )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _from_day(day: date) -> datetime:
    """The first moment of local ``day``; a day before 1900 means no lower bound (0001-01-01 overflows in UTC)."""
    return _day_start(max(day, inputs.EARLIEST_DAY))


def _until_day(day: date) -> datetime | None:
    """The first moment after local ``day``; None (no upper bound) from 2199 on, where 9999-12-31 + 1 overflows."""
    return None if day >= inputs.LATEST_DAY else _day_start(day + timedelta(days=1))


def search_dossiers(
    user,
    q: str | None = None,
    code: str | None = None,
    id_number: str | None = None,
    phone: str | None = None,
    procedure: str | None = None,
    status: str | list[str] | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
    timeliness: str | None = None,
    now: datetime | None = None,
    coded_only: bool = False,
) -> QuerySet[Dossier]:
    """Visible dossiers matching every filter given, newest receipt first.

    ``coded_only`` leaves out the records that have no dossier code: the counter's guidance and
    refusal records and online submissions not received (yet). The staff page lists them (it opens
    a record by its id); the API's search answers dossiers, which it names by their code.

    ``q`` ignores diacritics and case ("nguyen van an" finds "Nguyễn Văn An"): every word must occur
    in the applicant's name, the code, the ID number or the phone. Dates are local days, inclusive.
    An unknown ``timeliness`` value matches nothing rather than everything.
    """
    from motcua.dossiers.services import normalize_phone  # services import this module

    dossiers = dossiers_visible_to(user).select_related(
        "procedure_version__procedure", "receiving_agency", "competent_agency"
    )
    if coded_only:
        dossiers = dossiers.filter(code__isnull=False)
    if q and q.strip():
        for word in fold(q).split():
            dossiers = dossiers.filter(search_text__contains=word)
    if code and code.strip():
        dossiers = dossiers.filter(code=code.strip().upper())
    if id_number and id_number.strip():
        dossiers = dossiers.filter(applicant_id_number="".join(id_number.split()))
    if phone and phone.strip():
        dossiers = dossiers.filter(applicant_phone=normalize_phone(phone))
    if procedure and procedure.strip():
        dossiers = dossiers.filter(
            procedure_version__procedure__code=catalog_codes.national_code(procedure) or procedure.strip()
        )
    if status:
        dossiers = dossiers.filter(status__in=[status] if isinstance(status, str) else list(status))
    if received_from:
        dossiers = dossiers.filter(received_at__gte=_from_day(received_from))
    if received_to and (until := _until_day(received_to)) is not None:
        dossiers = dossiers.filter(received_at__lt=until)
    if timeliness:
        if timeliness not in TIMELINESS_VALUES:
            return dossiers.none()
        dossiers = with_timeliness(dossiers, now).filter(timeliness_now=timeliness)
    return dossiers.order_by(F("received_at").desc(nulls_last=True), "-created_at", "-pk")


def get_dossier(user, code: str) -> Dossier | None:
    """The dossier with ``code`` if ``user`` may see it; None when it does not exist or is out of scope."""
    if not code or not code.strip():
        return None
    return (
        dossiers_visible_to(user)
        .select_related("procedure_version__procedure", "receiving_agency", "competent_agency")
        .filter(code=code.strip().upper())
        .first()
    )
