"""Queries of the workflow, always scoped to the caller (invariant 5).

* ``inbox``: the open steps a user holds — assigned to them, or waiting in the queue of their
  agency (and department) for one of their roles — most urgent first.
* ``routed_condition`` / ``dossiers_visible``: staff see the dossiers of their unit subtree
  (``dossiers.selectors.dossiers_visible_to``) *and* the dossiers routed to them, i.e. with a step
  held by an agency of their subtree or assigned to them.
* ``steps_of``: the process control sheet of a visible dossier.
* ``available_actions``: what the user may do on a dossier now (the buttons).
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from motcua.dossiers.lifecycle import OPEN, Status
from motcua.dossiers.models import Dossier
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.org.models import Role
from motcua.org.selectors import scope_path
from motcua.workflow import services
from motcua.workflow.models import StepAttachment, StepRun, StepRunKind, WorkflowRun
from motcua.worktime.selectors import calendar_for_agency, default_calendar

FILTERS = ("due_soon", "overdue")
DEFAULT_DUE_SOON_SESSIONS = 2
#: Where an open step can be in the inbox: the dossier is being processed, paused, or its result waits at the counter.
INBOX_STATUSES = OPEN | {Status.RESULT_READY}


def routed_condition(user) -> Q:
    """A Q over Dossier: a step of it is (or was) held by an agency of the user's subtree, or assigned to them."""
    path = scope_path(user)
    if path is None:
        return Q(pk__in=[])
    if path == "":
        return Q()
    runs = StepRun.objects.filter(Q(agency__unit__path__startswith=path) | Q(assignee_id=user.pk))
    return Q(pk__in=runs.values("dossier_id"))


def dossiers_visible(user) -> QuerySet[Dossier]:
    """Every dossier ``user`` may see: their subtree's, and those routed to them through the workflow."""
    if scope_path(user) is None:
        return Dossier.objects.none()
    return Dossier.objects.filter(Q(pk__in=dossiers_visible_to(user).values("pk")) | routed_condition(user))


def get_dossier(user, code: str) -> Dossier | None:
    if not code or not code.strip():
        return None
    return (
        dossiers_visible(user)
        .select_related("procedure_version__procedure", "receiving_agency__unit", "competent_agency__unit")
        .filter(code=code.strip().upper())
        .first()
    )


def _held_by(user) -> Q:
    mine = Q(assignee_id=user.pk)
    if not user.agency_id:
        return mine
    queue = Q(assignee__isnull=True, agency_id=user.agency_id, role__in=sorted(user.role_codes))
    queue &= Q(department__isnull=True) | Q(department_id=user.department_id)
    return mine | queue


def _overdue(now: datetime, prefix: str = "") -> Q:
    """Past its due moment; while paused, only if the pause began after it (as dossiers.selectors does)."""
    due, paused = f"{prefix}due_at", f"{prefix}paused_at"
    running = Q(**{f"{paused}__isnull": True, f"{due}__lt": now})
    stopped = Q(**{f"{paused}__isnull": False, f"{due}__lt": F(paused)})
    return Q(**{f"{due}__isnull": False}) & (running | stopped)


def due_soon_threshold(user, now: datetime) -> datetime:
    """``MOTCUA_WORKFLOW_DUE_SOON_SESSIONS`` working sessions from now, on the user's agency calendar."""
    sessions = int(getattr(settings, "MOTCUA_WORKFLOW_DUE_SOON_SESSIONS", DEFAULT_DUE_SOON_SESSIONS))
    calendar = calendar_for_agency(user.agency) if getattr(user, "agency_id", None) else default_calendar()
    return calendar.add_sessions(now, sessions)


def inbox(user, filter: str | None = None, now: datetime | None = None) -> QuerySet[StepRun]:
    """Open steps held by ``user``, most urgent first (step due, then dossier due, then arrival).

    ``filter``: "overdue" (the step or the dossier is past due), "due_soon" (not overdue, due
    within the next working sessions); anything else unknown matches nothing.
    """
    moment = now or timezone.now()
    if not (user.is_authenticated and user.is_active) or scope_path(user) is None:
        return StepRun.objects.none()
    rows = StepRun.objects.filter(_held_by(user), finished_at__isnull=True, dossier__status__in=INBOX_STATUSES)
    overdue = _overdue(moment) | _overdue(moment, "dossier__")
    if filter == "overdue":
        rows = rows.filter(overdue)
    elif filter == "due_soon":
        limit = due_soon_threshold(user, moment)
        soon = Q(due_at__lte=limit, paused_at__isnull=True) | Q(
            dossier__due_at__lte=limit, dossier__paused_at__isnull=True, dossier__status__in=OPEN
        )
        rows = rows.filter(soon).exclude(overdue)
    elif filter:
        return StepRun.objects.none()
    return rows.select_related(
        "run",
        "dossier__procedure_version__procedure",
        "dossier__receiving_agency",
        "dossier__competent_agency",
        "agency",
        "department",
        "assignee",
        "parent",
    ).order_by(F("due_at").asc(nulls_last=True), F("dossier__due_at").asc(nulls_last=True), "started_at", "pk")


def urgency(step_run: StepRun, due_soon_limit: datetime | None, now: datetime | None = None) -> str:
    """overdue / due_soon / paused / within_time / no_deadline for one open row (the inbox's colour)."""
    moment = now or timezone.now()
    dossier = step_run.dossier

    def late(due, paused) -> bool:
        return due is not None and (due < paused if paused is not None else due < moment)

    dossier_paused = dossier.paused_at if dossier.status in OPEN else None
    if late(step_run.due_at, step_run.paused_at) or (dossier.status in OPEN and late(dossier.due_at, dossier_paused)):
        return "overdue"
    if step_run.paused_at is not None:
        return "paused"
    dues = [d for d in (step_run.due_at, dossier.due_at if dossier.status in OPEN else None) if d is not None]
    if not dues:
        return "no_deadline"
    if due_soon_limit is not None and min(dues) <= due_soon_limit:
        return "due_soon"
    return "within_time"


def steps_of(user, dossier: Dossier) -> QuerySet[StepRun]:
    """The process control sheet of ``dossier`` (every step run, in order), or nothing if it is not visible.

    Each row carries its ``run``, hence the result's official number (``row.run.result_number``).
    """
    if not dossiers_visible(user).filter(pk=dossier.pk).exists():
        return StepRun.objects.none()
    return (
        StepRun.objects.filter(dossier=dossier)
        .select_related("agency__unit", "department", "assignee", "acted_by", "parent", "run")
        .prefetch_related(Prefetch("attachments", queryset=StepAttachment.objects.order_by("pk")))
        .order_by("sequence")
    )


def step_timeliness(step_run: StepRun, now: datetime | None = None) -> str:
    """early / on_time / late for a finished step, within_time / overdue for an open one; '' for result rows."""
    if step_run.kind in (StepRunKind.RESULT, StepRunKind.REFUSAL) or step_run.action == "closed":
        return ""
    if step_run.finished_at is not None:
        return step_run.timeliness
    reference = step_run.paused_at or now or timezone.now()
    return str(calendar_for_agency(step_run.agency).classify_open(reference, step_run.due_at))


@dataclass(frozen=True)
class AvailableAction:
    key: str
    label: str
    kind: str  # a transition action, or claim / answer / hand_over / supplement_received
    requires_reason: bool = False
    requires_attachment: bool = False
    requires_signature: bool = False
    step_run: int | None = None


def available_actions(user, dossier: Dossier, run: WorkflowRun | None = None) -> list[AvailableAction]:
    """What ``user`` may do on ``dossier`` right now, in the definition's order (the buttons to show)."""
    if run is None:
        run = WorkflowRun.objects.filter(dossier=dossier).first()
    if run is None or not (user.is_authenticated and user.is_active):
        return []
    open_rows = list(StepRun.objects.filter(run=run, finished_at__isnull=True).select_related("agency"))
    current = next((r for r in open_rows if r.parent_id is None), None)
    found: list[AvailableAction] = []
    if dossier.status == Status.WAITING_FOR_SUPPLEMENT:
        clerk = user.has_role(Role.CLERK) and user.agency_id == dossier.receiving_agency_id
        if clerk or (current is not None and services.holds(user, current)):
            found.append(AvailableAction(services.SUPPLEMENT_RECEIVED, "", services.SUPPLEMENT_RECEIVED))
        return found
    for row in open_rows:
        if row.assignee_id is None and services.in_queue(user, row):
            found.append(AvailableAction(services.CLAIM, "", services.CLAIM, step_run=row.pk))
        if row.kind == StepRunKind.OPINION and services.holds(user, row) and dossier.status == Status.IN_PROCESS:
            found.append(AvailableAction(services.ANSWER, "", services.ANSWER, requires_reason=True, step_run=row.pk))
    if current is None or not services.holds(user, current):
        return found
    if current.kind in (StepRunKind.RESULT, StepRunKind.REFUSAL):
        if dossier.status == Status.RESULT_READY:
            found.append(AvailableAction(services.HAND_OVER, "", services.HAND_OVER, step_run=current.pk))
        return found
    if dossier.status != Status.IN_PROCESS:
        return found
    definition = services.definition_of(run)
    context = services.condition_context(dossier)
    for transition in definition.outgoing(current.step_key):
        if services.transition_allowed(transition, user, context):
            found.append(
                AvailableAction(
                    transition.key,
                    transition.label,
                    transition.action,
                    requires_reason=transition.reason_required,
                    requires_attachment=transition.requires_attachment,
                    requires_signature=transition.requires_signature,
                    step_run=current.pk,
                )
            )
    return found
