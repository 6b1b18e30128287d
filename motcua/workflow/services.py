"""The workflow engine: the only code that moves a dossier between steps, and that saves definitions.

Every public function is one transaction. It locks the dossier row first (``select_for_update``),
then reads the run and its open step runs, checks everything, and only then writes: the step
runs, and one or more ``DossierEvent`` rows through the dossiers' own recorder (status changes go
through ``motcua.dossiers.services``, which writes theirs). A refused move raises before any
write, so it changes nothing; two officers acting at once queue on the row lock, and the second
finds the step already finished and gets a clear ``WorkflowConflict``.

Time accounting (DESIGN.md "Default time rules"): the agency that acts in a session is charged
for it, so a step's due moment is its agency's calendar ``add_sessions(hand-over, budget)``,
which starts counting with the next working session. A supplement request pauses every open
step run of the dossier with the dossier itself; on resume each due moment moves by
``resume_due`` on its own agency's calendar.

Outcomes: reaching a result step marks the dossier ``result_ready`` (the clock stops and the
dossier's verdict is stored); reaching a refusal step does the same with the run's outcome
"refusal" — the applicant collects the written refusal at the counter the same way. The result
step stays open in the one-stop clerks' inbox until ``hand_over`` records the hand-over.
"""

import base64
import binascii
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from motcua import inputs, sequences
from motcua.catalog.models import ProcedureVersion
from motcua.dossiers import services as dossier_services
from motcua.dossiers import uploads
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier, DossierEvent
from motcua.org import selectors as org_selectors
from motcua.org.models import AdministrativeUnit, Agency, Department, Role, User
from motcua.text import BadText
from motcua.text import clean as clean_text
from motcua.workflow import conditions, definitions, graph, messages
from motcua.workflow.graph import Definition, Holder, StepDef, TransitionDef
from motcua.workflow.models import (
    ConsultationTarget,
    ResultRegister,
    RunOutcome,
    Step,
    StepAttachment,
    StepRun,
    StepRunKind,
    Transition,
    Workflow,
    WorkflowRun,
)
from motcua.worktime.selectors import calendar_for_agency

log = logging.getLogger(__name__)
Action = DossierEvent.Action
MAX_ATTACHMENTS = 10
MAX_COMMENT = 4000
#: The engine's own actions on the transitions endpoint (never a transition key, see graph.RESERVED_KEYS).
CLAIM, ANSWER, HAND_OVER, SUPPLEMENT_RECEIVED = "claim", "answer", "hand_over", "supplement_received"
EVENT_OF_ACTION = {
    "forward": Action.STEP_FORWARDED,
    "return": Action.STEP_RETURNED,
    "approve": Action.STEP_APPROVED,
    "reject": Action.STEP_REJECTED,
    "transfer": Action.STEP_TRANSFERRED,
}
#: Moving on from a consultation needs its quorum of opinions; returning or rejecting does not.
NEEDS_QUORUM = frozenset({"forward", "approve", "transfer"})


class WorkflowConflict(Exception):
    """The dossier is not (or no longer) where the caller thought: answered 409 by the API."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


class DefinitionInvalid(ValidationError):
    """A definition with problems; ``problems`` are graph.Problem rows, the messages are translated."""

    def __init__(self, problems: list[graph.Problem]) -> None:
        self.problems = problems
        super().__init__(messages.problem_messages(problems))


@dataclass
class Move:
    """What a service did: the dossier, the step run it finished and the ones it opened."""

    dossier: Dossier
    finished: StepRun | None = None
    current: StepRun | None = None
    opened: list[StepRun] = field(default_factory=list)


def _now(now: datetime | None) -> datetime:
    moment = now or timezone.now()
    if timezone.is_naive(moment):
        raise ValueError("Pass an aware datetime as now.")
    return moment


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M %d/%m/%Y")


# --- definitions -------------------------------------------------------------------------------------


@transaction.atomic
def save_revision(workflow: Workflow, *, by: User | None = None) -> Workflow:
    """Validate the workflow's rows as they stand and record them as a new revision.

    Call inside the transaction that changed the rows (the desk's save): on any problem it
    raises DefinitionInvalid, and the caller's transaction must roll back.
    """
    locked = (
        Workflow.objects.select_for_update(of=("self",))
        .select_related("procedure_version")
        .order_by()
        .get(pk=workflow.pk)
    )
    data = definitions.data_from_rows(locked)
    _definition, problems = definitions.check(data, locked.procedure_version)
    if problems:
        raise DefinitionInvalid(problems)
    locked.definition = data
    locked.revision += 1
    locked.updated_by = by
    locked.save()
    workflow.refresh_from_db()
    return locked


def _holder_values(h: Holder, agencies: dict[str, Agency], levels: dict[str, Any]) -> dict[str, Any]:
    return {
        "holder": h.holder,
        "agency": agencies.get(h.agency) if h.agency else None,
        "level": levels.get(h.level) if h.level else None,
        "form_field": h.form_field,
        "department_code": h.department,
        "role": h.role,
    }


def replace_definition(
    version: ProcedureVersion,
    unit: AdministrativeUnit | None,
    data: Any,
    *,
    by: User | None = None,
    copied_from: Workflow | None = None,
) -> Workflow:
    """Create or replace the workflow of ``version`` for ``unit`` (None: province-wide) from JSON ``data``.

    Everything is checked first (DefinitionInvalid lists every problem); then the rows are
    rewritten and a new revision recorded in one transaction, so nothing is ever half-written.
    """
    from motcua.org.models import AdministrativeLevel

    definition, problems = definitions.check(data, version)
    if problems or definition is None:
        raise DefinitionInvalid(problems)
    holders = [h for s in definition.steps for h in (s, *s.consult)]
    agencies = {a.code: a for a in Agency.objects.filter(code__in={h.agency for h in holders if h.agency})}
    levels = {lv.code: lv for lv in AdministrativeLevel.objects.filter(code__in={h.level for h in holders})}
    with transaction.atomic():
        workflow = (
            Workflow.objects.select_for_update(of=("self",))
            .filter(procedure_version=version, unit=unit)
            .order_by("pk")
            .first()
        )
        if workflow is None:
            workflow = Workflow(procedure_version=version, unit=unit)
        workflow.name = definition.name or (workflow.name or version.name)[:255]
        if copied_from is not None:
            workflow.copied_from = copied_from
        workflow.save()
        ConsultationTarget.objects.filter(step__workflow=workflow).delete()
        workflow.steps.all().delete()
        workflow.transitions.all().delete()
        for step in definition.steps:
            row = Step.objects.create(
                workflow=workflow,
                key=step.key,
                name=step.name,
                order=step.order,
                kind=step.kind,
                is_start=step.start,
                budget_sessions=step.budget_sessions,
                assignment=step.assignment,
                quorum=step.quorum,
                **_holder_values(step, agencies, levels),
            )
            for index, target in enumerate(step.consult):
                ConsultationTarget.objects.create(
                    step=row,
                    order=index + 1,
                    budget_sessions=target.budget_sessions,
                    **_holder_values(target, agencies, levels),
                )
        for t in definition.transitions:
            Transition.objects.create(
                workflow=workflow,
                key=t.key,
                from_step=t.from_step,
                to_step="" if t.stays else t.to_step,
                action=t.action,
                label=t.label,
                role=t.role,
                condition=t.condition,
                requires_reason=t.reason_required,
                requires_signature=t.requires_signature,
                requires_attachment=t.requires_attachment,
                order=t.order,
            )
        return save_revision(workflow, by=by)


# --- which workflow, which agency ------------------------------------------------------------------


def workflow_for(dossier: Dossier) -> Workflow | None:
    """The validated workflow that applies: the unit's own nearest the competent agency, else the province's."""
    unit = dossier.competent_agency.unit
    best: tuple[int, Workflow] | None = None
    candidates = Workflow.objects.select_related("unit").filter(
        procedure_version_id=dossier.procedure_version_id, is_active=True, revision__gt=0
    )
    for workflow in candidates:
        if workflow.unit is None:
            depth = 0
        elif unit.is_within(workflow.unit):
            depth = len(workflow.unit.path)
        else:
            continue
        if best is None or depth > best[0]:
            best = (depth, workflow)
    return best[1] if best else None


def _holder_error(step: str, message: str, field_name: str = "workflow") -> ValidationError:
    return ValidationError({field_name: [_("Step “%(step)s”: %(problem)s") % {"step": step, "problem": message}]})


def _ancestor_at(unit: AdministrativeUnit, level_code: str) -> AdministrativeUnit | None:
    for ancestor in unit.ancestors():
        if ancestor.level.code == level_code:
            return ancestor
    return None


def resolve_agency(holder: Holder, dossier: Dossier, label: str) -> Agency:
    """The agency that holds ``holder`` for ``dossier``; ValidationError with a clear message if none."""
    kind = holder.holder
    if kind == "receiving":
        return dossier.receiving_agency
    if kind == "competent":
        return dossier.competent_agency
    if kind == "fixed":
        agency = Agency.objects.select_related("unit").filter(code=holder.agency, is_active=True).first()
        if agency is None:
            raise _holder_error(label, _("no active agency has the code “%(code)s”.") % {"code": holder.agency})
        return agency
    if kind == "form_field":
        value = (dossier.form_data or {}).get(holder.form_field)
        code = str(value or "").strip().upper()
        agency = Agency.objects.select_related("unit").filter(code=code, is_active=True).first() if code else None
        if agency is None:
            raise _holder_error(
                label,
                _("the form field “%(field)s” must name an agency by its code (it holds “%(value)s”).")
                % {"field": holder.form_field, "value": value or ""},
                f"form_data.{holder.form_field}",
            )
        return agency
    # level: the agency of the procedure whose unit (or a unit it answers to) is the receiving
    # agency's ancestor at that level, optionally restricted to one line (an agency and its branches).
    unit = _ancestor_at(dossier.receiving_agency.unit, holder.level)
    if unit is None:
        raise _holder_error(
            label,
            _("the receiving agency has no unit of level “%(level)s” above it.") % {"level": holder.level},
        )
    version = dossier.procedure_version
    pool = version.agencies.all() if version.agencies.exists() else Agency.objects.all()
    candidates = pool.filter(Q(unit=unit) | Q(supervising_units=unit), is_active=True)
    if holder.agency:
        candidates = candidates.filter(Q(code=holder.agency) | Q(parent__code=holder.agency))
    found = list(candidates.select_related("unit").distinct())
    if len(found) > 1:
        own = [a for a in found if a.unit_id == unit.pk]
        found = own if len(own) == 1 else found
    if len(found) != 1:
        problem = (
            _("no agency of %(unit)s carries out this procedure.")
            if not found
            else _("several agencies of %(unit)s could hold it; name the line agency in the step.")
        )
        raise _holder_error(label, problem % {"unit": unit.name})
    return found[0]


def _department(agency: Agency, code: str) -> Department | None:
    """The department by code inside ``agency``; without it the whole agency's role queue holds the step."""
    if not code:
        return None
    return Department.objects.filter(agency=agency, code=code).first()


def _eligible(agency: Agency, department: Department | None, role: str):
    users = User.objects.filter(is_active=True, is_absent=False, agency=agency, roles__role=role)
    if department is not None:
        users = users.filter(department=department)
    return users.distinct().order_by("pk")


def _auto_assignee(
    kind: str, agency: Agency, department: Department | None, role: str, prefer: int | None = None
) -> User | None:
    """Round robin (least recently assigned) or least loaded (fewest open steps); absent users skipped."""
    if kind not in ("round_robin", "least_loaded") and prefer is None:
        return None
    eligible = list(_eligible(agency, department, role))
    if not eligible:
        return None
    if prefer is not None:
        for user in eligible:
            if user.pk == prefer:
                return user
        if kind not in ("round_robin", "least_loaded"):
            return None
    recent = {
        row["assignee"]: (row["last_at"], row["last_pk"])
        for row in StepRun.objects.filter(assignee__in=eligible, assigned_at__isnull=False)
        .values("assignee")
        .annotate(last_at=Max("assigned_at"), last_pk=Max("pk"))
    }
    never = (datetime(1970, 1, 1, tzinfo=UTC), 0)
    if kind == "least_loaded":
        load = dict(
            StepRun.objects.filter(assignee__in=eligible, finished_at__isnull=True)
            .values("assignee")
            .annotate(n=Count("pk"))
            .values_list("assignee", "n")
        )
        return min(eligible, key=lambda u: (load.get(u.pk, 0), recent.get(u.pk, never), u.pk))
    return min(eligible, key=lambda u: (recent.get(u.pk, never), u.pk))


def _due(agency: Agency, start: datetime, budget: int) -> datetime | None:
    """The holder's deadline: ``budget`` sessions counted from the next working session; none for 0."""
    if budget <= 0:
        return None
    return calendar_for_agency(agency).add_sessions(start, budget)


# --- runs ------------------------------------------------------------------------------------------


def _lock(dossier: Dossier) -> Dossier:
    return (
        Dossier.objects.select_for_update(of=("self",))
        .select_related("procedure_version__procedure", "receiving_agency__unit", "competent_agency__unit")
        .get(pk=dossier.pk)
    )


def _run_of(dossier: Dossier) -> WorkflowRun:
    run = WorkflowRun.objects.filter(dossier=dossier).first()
    if run is None:
        raise WorkflowConflict(_("Dossier %(code)s does not follow an electronic workflow.") % {"code": dossier.code})
    return run


def definition_of(run: WorkflowRun) -> Definition:
    """The snapshot the run started with (validated then; parsed again here)."""
    definition, _problems = graph.parse(run.definition)
    assert definition is not None
    return definition


def _current(run: WorkflowRun, *, lock: bool = True) -> StepRun | None:
    """The run's open main step, row-locked unless ``lock`` is False (a read outside any transaction)."""
    rows = StepRun.objects.select_for_update(of=("self",)) if lock else StepRun.objects.all()
    return (
        rows.filter(run=run, parent__isnull=True, finished_at__isnull=True)
        .select_related("agency", "department", "assignee")
        .first()
    )


def _next_sequence(dossier: Dossier) -> int:
    return (StepRun.objects.filter(dossier=dossier).aggregate(n=Max("sequence"))["n"] or 0) + 1


def _record(
    dossier: Dossier, actor: User | None, action: str, moment: datetime, ip: str | None, data: dict, role: str = ""
) -> DossierEvent:
    return dossier_services._record(
        dossier,
        actor=actor,
        role=role or (dossier_services._role_of(actor, Role.SPECIALIST, Role.LEADER, Role.CLERK) if actor else ""),
        action=action,
        from_status=dossier.status,
        at=moment,
        ip=ip,
        data=data,
    )


def _describe(step_run: StepRun) -> dict[str, Any]:
    return {
        "step": step_run.step_key,
        "step_name": step_run.step_name,
        "agency": step_run.agency.code,
        "department": step_run.department.code if step_run.department_id else "",
        "role": step_run.role,
        "assignee": step_run.assignee_id,
        "step_due_at": step_run.due_at,
    }


def _open(
    run: WorkflowRun,
    dossier: Dossier,
    step: StepDef,
    moment: datetime,
    *,
    prefer: int | None = None,
    sequence: int,
) -> list[StepRun]:
    """Open the run of ``step`` (and, for a consultation, one opinion row per party asked)."""
    agency = resolve_agency(step, dossier, step.name or step.key)
    department = _department(agency, step.department)
    assignee = _auto_assignee(step.assignment, agency, department, step.role, prefer)
    main = StepRun.objects.create(
        run=run,
        dossier=dossier,
        sequence=sequence,
        step_key=step.key,
        step_name=step.name,
        kind=step.kind,
        agency=agency,
        department=department,
        role=step.role,
        assignee=assignee,
        assigned_at=moment if assignee else None,
        started_at=moment,
        budget_sessions=step.budget_sessions,
        due_at=None if step.terminal else _due(agency, moment, step.budget_sessions),
    )
    opened = [main]
    for index, target in enumerate(step.consult):
        label = f"{step.name or step.key} #{index + 1}"
        t_agency = resolve_agency(target, dossier, label)
        t_department = _department(t_agency, target.department)
        budget = step.budget_sessions if target.budget_sessions is None else target.budget_sessions
        opened.append(
            StepRun.objects.create(
                run=run,
                dossier=dossier,
                parent=main,
                sequence=sequence + index + 1,
                step_key=step.key,
                step_name=step.name,
                kind=StepRunKind.OPINION,
                agency=t_agency,
                department=t_department,
                role=target.role,
                started_at=moment,
                budget_sessions=budget,
                due_at=_due(t_agency, moment, budget),
            )
        )
    return opened


def start(dossier: Dossier, *, actor: User, now: datetime | None = None, ip: str | None = None) -> WorkflowRun | None:
    """Start the procedure's workflow on a received dossier; None (nothing done) when it has none.

    Called by ``dossiers.services.receive_at_counter`` inside its transaction: the dossier goes
    to "in process" and its first step opens, held and timed as the definition says.
    """
    moment = _now(now)
    with transaction.atomic():
        locked = _lock(dossier)
        workflow = workflow_for(locked)
        if workflow is None:
            return None
        if WorkflowRun.objects.filter(dossier=locked).exists():
            raise WorkflowConflict(_("The workflow of dossier %(code)s has already started.") % {"code": locked.code})
        definition, problems = graph.parse(workflow.definition)
        if definition is None or problems or definition.start is None:
            raise DefinitionInvalid(problems)
        run = WorkflowRun.objects.create(
            dossier=locked,
            workflow=workflow,
            revision=workflow.revision,
            definition=workflow.definition,
            started_at=moment,
        )
        dossier_services.start_processing(locked, actor=actor, ip=ip, now=moment)
        opened = _open(run, locked, definition.start, moment, sequence=1)
        _record(
            locked,
            actor,
            Action.STEP_STARTED,
            moment,
            ip,
            {"workflow": workflow.pk, "revision": workflow.revision, **_describe(opened[0])},
        )
        if len(opened) > 1:
            _record(locked, actor, Action.CONSULTATION_REQUESTED, moment, ip, _consulted(opened))
    dossier.refresh_from_db()
    return run


def _consulted(opened: list[StepRun]) -> dict[str, Any]:
    return {"step": opened[0].step_key, "agencies": [o.agency.code for o in opened[1:]]}


# --- who holds what ----------------------------------------------------------------------------------


def in_queue(user: User, step_run: StepRun) -> bool:
    """``user`` belongs to the queue of ``step_run``: same agency (and department when set), with its role."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.agency_id == step_run.agency_id
        and user.has_role(step_run.role)
        and (step_run.department_id is None or user.department_id == step_run.department_id)
    )


def holds(user: User, step_run: StepRun) -> bool:
    """The assignee holds an assigned step; anyone of the queue holds an unassigned one."""
    if step_run.assignee_id is not None:
        return bool(user.is_authenticated and user.is_active and step_run.assignee_id == user.pk)
    return in_queue(user, step_run)


def condition_context(dossier: Dossier) -> dict[str, Any]:
    """The names a transition condition can read (see ``conditions``), as plain JSON values."""
    fees = dossier.procedure_version.fees.aggregate(total=Sum("amount"))["total"] or 0
    return {
        "form": dict(dossier.form_data or {}),
        "applicant": {
            "kind": dossier.applicant_kind,
            "full_name": dossier.applicant_name,
            "id_number": dossier.applicant_id_number,
            "birth_date": dossier.applicant_birth_date.isoformat() if dossier.applicant_birth_date else None,
            "address": dossier.applicant_address,
            "phone": dossier.applicant_phone,
            "email": dossier.applicant_email,
        },
        "channel": dossier.channel,
        "fees": int(fees),
        "procedure": dossier.procedure_version.procedure.code,
        "receiving": dossier.receiving_agency.code,
        "competent": dossier.competent_agency.code,
    }


def transition_allowed(transition: TransitionDef, user: User, context: dict[str, Any]) -> bool:
    """The user has the transition's role and the dossier satisfies its condition."""
    return user.has_role(transition.role) and conditions.evaluate(transition.condition, context)


# --- attachments ---------------------------------------------------------------------------------


@dataclass
class _Upload:
    content: bytes
    filename: str
    kind: uploads.FileKind
    category: str


def _content(item: Any, index: int, errors: dict[str, list[str]]) -> tuple[bytes, str, str] | None:
    """(bytes, name, category) of one attachment: ``{"name", "content" | "content_base64", "kind"}`` or a File."""
    field_name = f"attachments.{index}"
    if isinstance(item, File):
        item.seek(0)
        return item.read(), getattr(item, "name", "") or "", StepAttachment.Kind.OTHER
    if not isinstance(item, dict):
        errors.setdefault(field_name, []).append(_("The attachment is not a file."))
        return None
    category = str(item.get("kind") or StepAttachment.Kind.OTHER)
    if category not in StepAttachment.Kind.values:
        errors.setdefault(f"{field_name}.kind", []).append(
            _("The kind of attachment is draft, result, opinion or other.")
        )
        return None
    content = item.get("content")
    if content is None and item.get("content_base64") is not None:
        try:
            content = base64.b64decode(str(item["content_base64"]), validate=True)
        except (binascii.Error, ValueError):
            errors.setdefault(f"{field_name}.content_base64", []).append(_("The file content is not valid base64."))
            return None
    if not isinstance(content, bytes):
        errors.setdefault(field_name, []).append(_("The attachment is not a file."))
        return None
    return content, str(item.get("name") or ""), category


def clean_attachments(attachments: Iterable[Any]) -> list[_Upload]:
    """Check every attachment like a dossier upload (size, PDF/JPEG/PNG by content); ValidationError if any fails."""
    items = list(attachments or ())
    errors: dict[str, list[str]] = {}
    if len(items) > MAX_ATTACHMENTS:
        raise ValidationError({"attachments": [_("At most %(max)s files at a time.") % {"max": MAX_ATTACHMENTS}]})
    max_file = int(getattr(settings, "MOTCUA_MAX_FILE_SIZE", dossier_services.DEFAULT_MAX_FILE_SIZE))
    max_total = int(getattr(settings, "MOTCUA_MAX_DOSSIER_SIZE", dossier_services.DEFAULT_MAX_DOSSIER_SIZE))
    cleaned: list[_Upload] = []
    for index, item in enumerate(items):
        read = _content(item, index, errors)
        if read is None:
            continue
        content, name, category = read
        field_name = f"attachments.{index}"
        if not content:
            errors.setdefault(field_name, []).append(_("The file is empty."))
            continue
        if len(content) > max_file:
            errors.setdefault(field_name, []).append(
                _("The file is too large: %(size)s MB, at most %(max)s MB per file.")
                % {"size": round(len(content) / 1_048_576, 1), "max": round(max_file / 1_048_576, 1)}
            )
            continue
        kind = uploads.sniff(content[: uploads.HEAD_BYTES])
        if kind is None:
            errors.setdefault(field_name, []).append(
                _("Only PDF, JPEG and PNG files are accepted; this file is none of them.")
            )
            continue
        cleaned.append(_Upload(content, uploads.sanitize_filename(name, kind.extension), kind, category))
    if sum(len(u.content) for u in cleaned) > max_total:
        errors.setdefault("attachments", []).append(
            _("The attachments together are too large: at most %(max)s MB.") % {"max": round(max_total / 1_048_576, 1)}
        )
    if errors:
        raise ValidationError(errors)
    return cleaned


def _store(step_run: StepRun, files: list[_Upload], user: User, moment: datetime, stored: list[str]) -> list[int]:
    ids = []
    for upload in files:
        row = StepAttachment(
            step_run=step_run,
            dossier_id=step_run.dossier_id,
            kind=upload.category,
            original_filename=upload.filename,
            content_type=upload.kind.content_type,
            size=len(upload.content),
            uploaded_by=user,
            uploaded_at=moment,
        )
        row.file.save(f"{uuid.uuid4().hex}{upload.kind.extension}", ContentFile(upload.content), save=False)
        stored.append(row.file.name)
        row.save()
        ids.append(row.pk)
    return ids


def _discard(stored: list[str]) -> None:
    for name in stored:
        default_storage.delete(name)


# --- moves ---------------------------------------------------------------------------------------


def _already_handled(run: WorkflowRun, step_key: str | None = None, step_run_id: int | None = None) -> Exception | None:
    """The conflict to report when the step the caller acted on was finished meanwhile by someone else."""
    done = StepRun.objects.filter(run=run, parent__isnull=True, finished_at__isnull=False)
    if step_run_id is not None:
        done = done.filter(pk=step_run_id)
    elif step_key is not None:
        done = done.filter(step_key=step_key)
    last = done.select_related("acted_by").order_by("-finished_at", "-pk").first()
    if last is None:
        return None
    return WorkflowConflict(
        _(
            "The dossier has already been handled at step “%(step)s” by %(name)s at %(time)s; "
            "reload it to see where it is now."
        )
        % {
            "step": last.step_name,
            "name": last.acted_by.full_name if last.acted_by_id else _("the system"),
            "time": _local(last.finished_at),
        }
    )


def _require_open(locked: Dossier, run: WorkflowRun, expected_step: int | None, *, lock: bool = True) -> StepRun:
    current = _current(run, lock=lock)
    if expected_step is not None and (current is None or current.pk != expected_step):
        raise _already_handled(run, step_run_id=expected_step) or WorkflowConflict(
            _("This step of the dossier is no longer open; reload it to see where it is now.")
        )
    if current is None:
        raise WorkflowConflict(_("The workflow of dossier %(code)s has ended.") % {"code": locked.code})
    return current


def _require_running(locked: Dossier) -> None:
    if locked.status == Status.WAITING_FOR_SUPPLEMENT:
        raise WorkflowConflict(
            _("Dossier %(code)s is waiting for the applicant's supplement: record the supplement first.")
            % {"code": locked.code}
        )
    if locked.status != Status.IN_PROCESS:
        raise WorkflowConflict(
            _("Dossier %(code)s is “%(status)s”: no step can be taken now.")
            % {"code": locked.code, "status": locked.get_status_display()}
        )


def _not_holder(step_run: StepRun) -> PermissionDenied:
    if step_run.assignee_id is not None:
        return PermissionDenied(
            _("Step “%(step)s” is assigned to %(name)s; only they can handle it.")
            % {"step": step_run.step_name, "name": step_run.assignee.full_name}
        )
    return PermissionDenied(
        _("Step “%(step)s” is handled by %(agency)s (%(role)s); you do not hold it.")
        % {"step": step_run.step_name, "agency": step_run.agency.name, "role": step_run.get_role_display()}
    )


def _checked(field: str, value: Any) -> str:
    """NFC text without control characters or lone surrogates (PostgreSQL refuses NUL): ValidationError if not."""
    try:
        return clean_text(value or "")
    except BadText as error:
        raise ValidationError({field: [inputs.message(error)]}) from None


def _clean_comment(comment: Any) -> str:
    text = _checked("comment", comment)
    if len(text) > MAX_COMMENT:
        raise ValidationError(
            {"comment": [_("The comment is too long (at most %(max)s characters).") % {"max": MAX_COMMENT}]}
        )
    return text


def _finish(step_run: StepRun, user: User | None, moment: datetime, action: str, label: str, comment: str) -> None:
    """Close ``step_run``: who, when, what; the verdict against its own deadline (not for result rows)."""
    step_run.finished_at = moment
    step_run.acted_by = user
    step_run.action = action
    step_run.action_label = label[:100]
    step_run.comment = comment
    if step_run.kind not in (StepRunKind.RESULT, StepRunKind.REFUSAL):
        step_run.timeliness = str(calendar_for_agency(step_run.agency).classify_finish(moment, step_run.due_at))
    if step_run.assignee_id is None and user is not None:
        step_run.assignee = user
        step_run.assigned_at = moment
    step_run.save()


def _close_opinions(main: StepRun, moment: datetime) -> None:
    """Opinions not given when the consultation moves on are closed without a verdict."""
    for opinion in StepRun.objects.filter(parent=main, finished_at__isnull=True):
        opinion.finished_at = moment
        opinion.action = "closed"
        opinion.save(update_fields=["finished_at", "action"])


def _quorum(run: WorkflowRun, main: StepRun, definition: Definition) -> tuple[int, int]:
    step = definition.step(main.step_key)
    asked = len(step.consult) if step else 0
    needed = (step.quorum if step and step.quorum else asked) if step else 0
    answered = StepRun.objects.filter(parent=main, action=ANSWER).count()
    return answered, needed


def act(
    dossier: Dossier,
    *,
    user: User,
    action: str,
    comment: str = "",
    attachments: Iterable[Any] = (),
    now: datetime | None = None,
    ip: str | None = None,
    expected_step: int | None = None,
) -> Move:
    """Take transition ``action`` (its key) on the dossier's current step, or an engine action.

    The engine's actions: ``claim`` (take a queue step), ``answer`` (give the opinion a
    consultation asked of you), ``hand_over`` (the clerk hands the result to the applicant),
    ``supplement_received``. ``expected_step`` is the step run the caller saw: if another officer
    finished it meanwhile, WorkflowConflict says who and when. Refusals: PermissionDenied (not the
    holder, no role), ValidationError (unknown action, missing reason or attachment, condition
    not met, bad file), WorkflowConflict (not the current step any more, paused, quorum).
    """
    moment = _now(now)
    text = _clean_comment(comment)
    if action == CLAIM:
        return claim(dossier, user=user, now=moment, ip=ip, expected_step=expected_step)
    if action == HAND_OVER:
        return hand_over(dossier, user=user, now=moment, ip=ip)
    if action == SUPPLEMENT_RECEIVED:
        return supplement_received(dossier, actor=user, now=moment, ip=ip)
    files = clean_attachments(attachments)
    if action == ANSWER:
        return answer(dossier, user=user, comment=text, files=files, now=moment, ip=ip, expected_step=expected_step)
    # The signature (maybe a remote service waiting for the signer's phone) is made before the
    # transaction that locks the dossier (invariant 6); the transaction re-checks that the step it
    # was made for is still the open one and held by the same user, and only then stores it.
    prepared = _prepare_signature(dossier, user, action, text, files, expected_step)
    if prepared is not None:
        expected_step = prepared.step_run_id
    stored: list[str] = []
    try:
        with transaction.atomic():
            move = _take(dossier, user, action, text, files, moment, ip, expected_step, stored, prepared)
    except BaseException:
        _discard(stored)
        raise
    dossier.refresh_from_db()
    return move


def _check_move(
    locked: Dossier,
    run: WorkflowRun,
    definition: Definition,
    current: StepRun,
    user: User,
    action: str,
    comment: str,
    files: list[_Upload],
) -> TransitionDef:
    """The transition ``action`` if ``user`` may take it now from ``current``; every refusal raises.

    Run twice for a signing move: once before the signature is made (no transaction, no lock) so
    that nobody signs for a move that would be refused, and again under the dossier's lock."""
    transition = definition.transition(action)
    if transition is None:
        raise ValidationError({"action": [_("“%(action)s” is not an action of this workflow.") % {"action": action}]})
    if transition.from_step != current.step_key:
        raise _already_handled(run, step_key=transition.from_step) or ValidationError(
            {
                "action": [
                    _("“%(label)s” cannot be taken at the current step “%(step)s”.")
                    % {"label": transition.label, "step": current.step_name}
                ]
            }
        )
    _require_running(locked)
    if not holds(user, current):
        raise _not_holder(current)
    if not user.has_role(transition.role):
        raise PermissionDenied(
            _("“%(label)s” is for the role %(role)s, which you do not have.")
            % {
                "label": transition.label,
                "role": dict(definitions.STAFF_ROLE_CHOICES).get(transition.role, transition.role),
            }
        )
    if transition.reason_required and not comment:
        raise ValidationError({"comment": [_("Give the reason for “%(label)s”.") % {"label": transition.label}]})
    if transition.requires_attachment and not files:
        raise ValidationError(
            {"attachments": [_("Attach the draft or the result for “%(label)s”.") % {"label": transition.label}]}
        )
    if not conditions.evaluate(transition.condition, condition_context(locked)):
        raise ValidationError(
            {"action": [_("The dossier does not meet the condition of “%(label)s”.") % {"label": transition.label}]}
        )
    if current.kind == StepRunKind.CONSULTATION and transition.action in NEEDS_QUORUM:
        answered, needed = _quorum(run, current, definition)
        if answered < needed:
            raise WorkflowConflict(
                _("Waiting for opinions: %(answered)s of the %(needed)s needed have answered.")
                % {"answered": answered, "needed": needed}
            )
    return transition


def _take(
    dossier: Dossier,
    user: User,
    action: str,
    comment: str,
    files: list[_Upload],
    moment: datetime,
    ip: str | None,
    expected_step: int | None,
    stored: list[str],
    prepared: "_PreparedSignature | None" = None,
) -> Move:
    locked = _lock(dossier)
    run = _run_of(locked)
    definition = definition_of(run)
    current = _require_open(locked, run, expected_step)
    transition = _check_move(locked, run, definition, current, user, action, comment, files)

    if transition.stays:
        return _request_supplement(locked, run, current, transition, user, comment, files, moment, ip, stored)

    target = definition.step(transition.to_step)
    assert target is not None  # validated with the definition
    attachment_ids = _store(current, files, user, moment, stored)
    _finish(current, user, moment, transition.key, transition.label, comment)
    current.requires_signature = transition.requires_signature
    current.save(update_fields=["requires_signature"])
    _close_opinions(current, moment)
    prefer = None
    if transition.action == "return":
        previous = (
            StepRun.objects.filter(run=run, parent__isnull=True, step_key=target.key, acted_by__isnull=False)
            .order_by("-sequence")
            .first()
        )
        prefer = previous.acted_by_id if previous else None
    opened = _open(run, locked, target, moment, prefer=prefer, sequence=_next_sequence(locked))
    new = opened[0]
    numbered = _number_result(run, current, target, user, moment)
    signed = _commit_signature(locked, run, current, transition, moment, stored, prepared)
    if signed:
        _record(locked, user, Action.RESULT_SIGNED, moment, ip, signed)
    _record(
        locked,
        user,
        EVENT_OF_ACTION[transition.action],
        moment,
        ip,
        {
            **({"result_number": numbered} if numbered else {}),
            "transition": transition.key,
            "label": transition.label,
            "from_step": current.step_key,
            "timeliness": current.timeliness,
            "comment": comment,
            "attachments": attachment_ids,
            "requires_signature": transition.requires_signature,
            "to": _describe(new),
        },
    )
    if len(opened) > 1:
        _record(locked, user, Action.CONSULTATION_REQUESTED, moment, ip, _consulted(opened))
    if target.terminal:
        run.outcome = RunOutcome.RESULT if target.kind == "result" else RunOutcome.REFUSAL
        run.finished_at = moment
        run.save(update_fields=["outcome", "finished_at"])
        dossier_services.mark_result_ready(locked, actor=user, ip=ip, now=moment)
    return Move(dossier=locked, finished=current, current=new, opened=opened)


# --- the result's signatures ------------------------------------------------------------------------
# The signing itself (pyHanko, certificates, storage) is documents.services' business; here only which
# PDF is signed, under which title, and when. ``act`` calls ``_prepare_signature`` BEFORE its
# transaction (a remote signer may keep the officer waiting for minutes: invariant 6 forbids holding the
# dossier's row lock meanwhile); ``_take`` then calls ``_commit_signature`` under the lock, after the
# move's own checks, and a refusal there rolls everything back (``act`` removes the stored files).

#: The document clerk's moves that register the result and send it on: the seal goes with them (see _seal).
SEALING_ACTIONS = frozenset({"forward", "approve", "transfer"})
#: What the leader signs when nothing is attached to the action itself: the newest result or draft of the run.
SIGNABLE_KINDS = (StepAttachment.Kind.RESULT, StepAttachment.Kind.DRAFT)
PDF_TYPE = "application/pdf"
SIGN, SEAL = "sign", "seal"


@dataclass(frozen=True)
class _PreparedSignature:
    """A signature made for one step run before the transaction; stored only if that step is still open."""

    step_run_id: int
    kind: str
    signature: Any  # documents.services.PreparedSignature


def results_are_signed() -> bool:
    """``MOTCUA_SIGN_RESULTS`` (default True): False only where leaders still sign on paper (the
    transition's ``requires_signature`` is then just recorded, as it was before digital signing)."""
    return bool(getattr(settings, "MOTCUA_SIGN_RESULTS", True))


def result_title(dossier: Dossier, run: WorkflowRun) -> str:
    """The issued result's title, in the office's language (it is stored, not translated on display)."""
    with translation.override(settings.LANGUAGE_CODE):
        if run.result_number:
            return _("Result of dossier %(code)s, number %(number)s") % {
                "code": dossier.code,
                "number": run.result_number,
            }
        return _("Result of dossier %(code)s") % {"code": dossier.code}


def _signing_kind(transition: TransitionDef, step_run: StepRun) -> str:
    """SIGN for the leader's signing move, SEAL for the document clerk's registration, else ''.

    A văn thư registers (vào sổ) and seals (đóng dấu) in one act (Decree 30/2020/NĐ-CP, art. 15-16:
    the clerk checks, numbers, registers and signs the electronic document with the agency's digital
    signature when issuing it), so the seal goes with the clerk's move rather than with a separate
    button that could be forgotten."""
    if transition.stays:
        return ""
    if transition.requires_signature and results_are_signed():
        return SIGN
    if step_run.role == Role.DOCUMENT_CLERK and transition.action in SEALING_ACTIONS:
        return SEAL
    return ""


def _pdf_to_sign(run: WorkflowRun, files: list[_Upload]) -> bytes:
    """The PDF attached to this very action (a result before a draft), else the run's newest result or draft."""
    attached = [u for u in files if u.kind.content_type == PDF_TYPE and u.category != StepAttachment.Kind.OPINION]
    if attached:
        rank = {StepAttachment.Kind.RESULT: 0, StepAttachment.Kind.DRAFT: 1}
        return min(reversed(attached), key=lambda u: rank.get(u.category, 2)).content
    newest = (
        StepAttachment.objects.filter(step_run__run=run, kind__in=SIGNABLE_KINDS, content_type=PDF_TYPE)
        .order_by("-uploaded_at", "-pk")
        .first()
    )
    if newest is None:
        raise ValidationError(
            {
                "attachments": [
                    _(
                        "There is no PDF of the result to sign: attach it to this action, "
                        "or attach it earlier as a draft or a result."
                    )
                ]
            }
        )
    with newest.file.open("rb") as handle:
        return handle.read()


def _prepare_signature(
    dossier: Dossier,
    user: User,
    action: str,
    comment: str,
    files: list[_Upload],
    expected_step: int | None,
) -> _PreparedSignature | None:
    """The signature (leader) or seal (document clerk) this move needs, made now, with no transaction
    open and no row locked; None when the move signs nothing.

    The move's own checks run first on an unlocked read, so that nobody is asked to sign (on a
    phone, possibly) for a move that would be refused; they run again under the lock in ``_take``."""
    from motcua.documents import selectors as document_selectors
    from motcua.documents import services as document_services

    fresh = Dossier.objects.select_related("receiving_agency__unit").get(pk=dossier.pk)
    run = _run_of(fresh)
    definition = definition_of(run)
    transition = definition.transition(action)
    if transition is None:
        return None  # _take says so
    current = _require_open(fresh, run, expected_step, lock=False)
    kind = _signing_kind(transition, current)
    if not kind:
        return None
    _check_move(fresh, run, definition, current, user, action, comment, files)
    if kind == SIGN:
        signature = document_services.prepare_result(
            _pdf_to_sign(run, files),
            actor=user,
            dossier=fresh,
            agency=current.agency,
            title=result_title(fresh, run),
        )
    else:
        # Only a result of the clerk's own agency is sealed: a decision another agency signed is
        # received and registered, never stamped with our seal.
        document = document_selectors.unsealed_result(fresh, current.agency)
        if document is None:
            return None
        signature = document_services.prepare_seal(document, actor=user, agency=current.agency)
    return _PreparedSignature(step_run_id=current.pk, kind=kind, signature=signature)


def _changed_while_signing() -> WorkflowConflict:
    return WorkflowConflict(_("The dossier changed while the result was being signed; reload it and act again."))


def _commit_signature(
    locked: Dossier,
    run: WorkflowRun,
    step_run: StepRun,
    transition: TransitionDef,
    moment: datetime,
    stored: list[str],
    prepared: _PreparedSignature | None,
) -> dict[str, Any] | None:
    """Store the signature prepared for this move (under the dossier's lock), as the RESULT_SIGNED
    event's data; None when the move signs nothing. Refuses when what was signed is no longer what
    the move needs (another step, another result)."""
    from motcua.documents import selectors as document_selectors
    from motcua.documents import services as document_services

    kind = _signing_kind(transition, step_run)
    if not kind:
        return None
    if prepared is not None and (prepared.kind != kind or prepared.step_run_id != step_run.pk):
        raise _changed_while_signing()
    if kind == SEAL:
        document = document_selectors.unsealed_result(locked, step_run.agency)
        signed_id = prepared.signature.document_id if prepared is not None else None
        if (document.pk if document is not None else None) != signed_id:
            raise _changed_while_signing()
        if document is None:
            return None
    elif prepared is None:
        raise _changed_while_signing()
    outcome = document_services.commit_signature(
        prepared.signature, stored=stored, title=result_title(locked, run), now=moment
    )
    return {**document_services.signed_event_data(outcome), "step": step_run.step_key}


DEFAULT_RESULT_NUMBER_FORMAT = "{number}/{year}/KQ"


def result_number_format() -> str:
    """``MOTCUA_RESULT_NUMBER_FORMAT``: placeholders {number}, {year} and {agency} (the issuing agency's code)."""
    return str(getattr(settings, "MOTCUA_RESULT_NUMBER_FORMAT", DEFAULT_RESULT_NUMBER_FORMAT))


def _next_result_number(agency: Agency, year: int) -> int:
    """The next number of the agency's result register for ``year``, gap-free: call inside the transition."""
    return sequences.next_number(ResultRegister, agency=agency, year=year)


def _number_result(run: WorkflowRun, step_run: StepRun, target: StepDef, user: User, moment: datetime) -> str:
    """Give the result its official number when the document clerk's step leads to a result step.

    The issuing agency is the agency holding the clerk's step; the year is the local calendar
    year of the moment. Returns '' (and numbers nothing) for any other transition, or when the
    run already has its number.
    """
    if step_run.role != Role.DOCUMENT_CLERK or target.kind != "result" or run.result_number:
        return ""
    year = timezone.localtime(moment).year
    number = _next_result_number(step_run.agency, year)
    run.result_number = result_number_format().format(number=number, year=year, agency=step_run.agency.code)[:100]
    run.result_numbered_at = moment
    run.result_numbered_by = user
    run.save(update_fields=["result_number", "result_numbered_at", "result_numbered_by"])
    return run.result_number


def _request_supplement(
    locked: Dossier,
    run: WorkflowRun,
    current: StepRun,
    transition: TransitionDef,
    user: User,
    comment: str,
    files: list[_Upload],
    moment: datetime,
    ip: str | None,
    stored: list[str],
) -> Move:
    """The applicant must supplement: the dossier and every open step run of it stop their clocks."""
    _store(current, files, user, moment, stored)
    dossier_services.request_supplement(locked, actor=user, reason=comment, ip=ip, now=moment)
    StepRun.objects.filter(run=run, finished_at__isnull=True, paused_at__isnull=True).update(paused_at=moment)
    current.refresh_from_db()
    return Move(dossier=locked, current=current)


def supplement_received(dossier: Dossier, *, actor: User, now: datetime | None = None, ip: str | None = None) -> Move:
    """The supplement arrived: the dossier resumes and each paused step's due moment moves on its agency's calendar.

    Recorded by the one-stop clerk of the receiving agency or by whoever holds the current step.
    """
    moment = _now(now)
    with transaction.atomic():
        locked = _lock(dossier)
        run = _run_of(locked)
        current = _current(run)
        if locked.status != Status.WAITING_FOR_SUPPLEMENT:
            raise WorkflowConflict(_("Dossier %(code)s is not waiting for a supplement.") % {"code": locked.code})
        clerk = actor.has_role(Role.CLERK) and actor.agency_id == locked.receiving_agency_id
        applicant = dossier_services.is_applicant(actor, locked)  # the citizen answering online
        if not (clerk or applicant or (current is not None and holds(actor, current))):
            raise PermissionDenied(
                _("Only the one-stop desk that received the dossier or the holder of its step records a supplement.")
            )
        dossier_services.supplement_received(locked, actor=actor, ip=ip, now=moment)
        for step_run in (
            StepRun.objects.select_for_update(of=("self",))
            .filter(run=run, finished_at__isnull=True)
            .select_related("agency")
        ):
            if step_run.paused_at is None:
                continue
            if step_run.due_at is not None:
                calendar = calendar_for_agency(step_run.agency)
                step_run.due_at = calendar.resume_due(step_run.due_at, step_run.paused_at, moment)
            step_run.paused_at = None
            step_run.save(update_fields=["due_at", "paused_at"])
        # Read inside the transaction: a locking read after it is a TransactionManagementError in
        # autocommit (PostgreSQL), i.e. a 500 after the change was committed.
        after = _current(run, lock=False)
    dossier.refresh_from_db()
    return Move(dossier=locked, current=after)


def claim(
    dossier: Dossier,
    *,
    user: User,
    now: datetime | None = None,
    ip: str | None = None,
    expected_step: int | None = None,
    step_run: StepRun | None = None,
) -> Move:
    """Take a step from the queue: it becomes the user's, and leaves the colleagues' inboxes."""
    moment = _now(now)
    with transaction.atomic():
        locked = _lock(dossier)
        run = _run_of(locked)
        if step_run is not None:
            target = (
                StepRun.objects.select_for_update(of=("self",))
                .select_related("agency", "assignee")
                .get(pk=step_run.pk, run=run)
            )
        else:
            target = _pick_claimable(run, user, expected_step)
        if target.finished_at is not None:
            raise _already_handled(run, step_run_id=target.pk) or WorkflowConflict(
                _("This step of the dossier is no longer open; reload it to see where it is now.")
            )
        if target.assignee_id == user.pk:
            return Move(dossier=locked, current=target)
        if target.assignee_id is not None:
            raise WorkflowConflict(
                _("Step “%(step)s” has already been taken by %(name)s.")
                % {"step": target.step_name, "name": target.assignee.full_name}
            )
        if not in_queue(user, target):
            raise _not_holder(target)
        target.assignee = user
        target.assigned_at = moment
        target.save(update_fields=["assignee", "assigned_at"])
        _record(locked, user, Action.STEP_CLAIMED, moment, ip, _describe(target))
    dossier.refresh_from_db()
    return Move(dossier=locked, current=target)


def _pick_claimable(run: WorkflowRun, user: User, expected_step: int | None) -> StepRun:
    """The open step run (current step or an opinion) the user means: ``expected_step``, else the one in their queue."""
    rows = StepRun.objects.select_for_update(of=("self",)).select_related("agency", "assignee").filter(run=run)
    if expected_step is not None:
        found = rows.filter(pk=expected_step).first()
        if found is None:
            raise ValidationError({"step": [_("This dossier has no such step.")]})
        return found
    open_rows = list(rows.filter(finished_at__isnull=True).order_by("sequence"))
    queue_rows = [row for row in open_rows if in_queue(user, row)]
    for row in queue_rows:
        if row.assignee_id is None:
            return row
    for row in open_rows:
        if row.assignee_id == user.pk:
            return row
    if queue_rows:
        return queue_rows[0]  # taken by a colleague: claim() says by whom
    if open_rows:
        raise _not_holder(open_rows[0])
    raise WorkflowConflict(_("The workflow of dossier %(code)s has ended.") % {"code": run.dossier.code})


def answer(
    dossier: Dossier,
    *,
    user: User,
    comment: str,
    files: list[_Upload] | None = None,
    now: datetime | None = None,
    ip: str | None = None,
    expected_step: int | None = None,
) -> Move:
    """Give the opinion a consultation asked of the user's agency (a comment is required)."""
    moment = _now(now)
    text = _clean_comment(comment)
    stored: list[str] = []
    try:
        with transaction.atomic():
            locked = _lock(dossier)
            run = _run_of(locked)
            opinions = (
                StepRun.objects.select_for_update(of=("self",))
                .filter(run=run, kind=StepRunKind.OPINION, finished_at__isnull=True)
                .select_related("agency", "assignee")
            )
            if expected_step is not None:
                opinions = opinions.filter(pk=expected_step)
            mine = next((o for o in opinions if holds(user, o)), None)
            if mine is None:
                if expected_step is not None and not opinions:
                    raise WorkflowConflict(_("This opinion has already been given or is no longer needed."))
                raise PermissionDenied(_("No opinion on this dossier is asked of you."))
            _require_running(locked)
            if not text:
                raise ValidationError({"comment": [_("Write the opinion.")]})
            ids = _store(mine, files or [], user, moment, stored)
            _finish(mine, user, moment, ANSWER, _("Opinion"), text)
            _record(
                locked,
                user,
                Action.CONSULTATION_ANSWERED,
                moment,
                ip,
                {"step": mine.step_key, "agency": mine.agency.code, "comment": text, "attachments": ids},
            )
            after = _current(run, lock=False)  # inside the transaction (see supplement_received)
    except BaseException:
        _discard(stored)
        raise
    dossier.refresh_from_db()
    return Move(dossier=locked, finished=mine, current=after)


def hand_over(dossier: Dossier, *, user: User, now: datetime | None = None, ip: str | None = None) -> Move:
    """The one-stop clerk hands the result (or the written refusal) to the applicant."""
    moment = _now(now)
    with transaction.atomic():
        locked = _lock(dossier)
        run = _run_of(locked)
        current = _current(run)
        if current is None or current.kind not in (StepRunKind.RESULT, StepRunKind.REFUSAL):
            raise WorkflowConflict(
                _("The result of dossier %(code)s is not at the counter yet.") % {"code": locked.code}
            )
        if not holds(user, current):
            raise _not_holder(current)
        dossier_services.return_result(locked, actor=user, ip=ip, now=moment)
        _finish(current, user, moment, HAND_OVER, _("Handed over to the applicant"), "")
    dossier.refresh_from_db()
    return Move(dossier=locked, finished=current)


def may_reassign(by: User, step_run: StepRun) -> bool:
    """System admins; unit admins whose scope holds the step's agency; leaders of that agency."""
    if not (by.is_authenticated and by.is_active):
        return False
    if org_selectors.is_system_admin(by):
        return True
    if org_selectors.is_unit_admin(by) and step_run.agency.unit.is_within(by.unit):
        return True
    return by.has_role(Role.LEADER) and by.agency_id == step_run.agency_id


def reassign(
    step_run: StepRun,
    *,
    to_user: User | None,
    by: User,
    now: datetime | None = None,
    ip: str | None = None,
    reason: str = "",
) -> StepRun:
    """Give an open step to another officer of its queue (or back to the queue with ``to_user=None``)."""
    moment = _now(now)
    with transaction.atomic():
        locked = _lock(step_run.dossier)
        row = (
            StepRun.objects.select_for_update(of=("self",))
            .select_related("agency__unit", "assignee")
            .get(pk=step_run.pk)
        )
        if not may_reassign(by, row):
            raise PermissionDenied(_("Only the unit's administrator or a leader of the agency can reassign its work."))
        if row.finished_at is not None:
            raise WorkflowConflict(_("Step “%(step)s” is already finished.") % {"step": row.step_name})
        if to_user is not None:
            if not in_queue(to_user, row):
                raise ValidationError(
                    {
                        "to_user": [
                            _("%(name)s does not work in the queue of this step (agency, department and role).")
                            % {"name": to_user.full_name}
                        ]
                    }
                )
            if to_user.is_absent:
                raise ValidationError({"to_user": [_("%(name)s is marked absent.") % {"name": to_user.full_name}]})
        previous = row.assignee_id
        row.assignee = to_user
        row.assigned_at = moment if to_user is not None else None
        row.save(update_fields=["assignee", "assigned_at"])
        _record(
            locked,
            by,
            Action.STEP_REASSIGNED,
            moment,
            ip,
            {
                "step": row.step_key,
                "from": previous,
                "to": to_user.pk if to_user else None,
                "reason": _checked("reason", reason),
            },
            role=dossier_services._role_of(by, Role.UNIT_ADMIN, Role.LEADER, Role.SYSTEM_ADMIN),
        )
    step_run.refresh_from_db()
    return row


def dossier_ended(dossier: Dossier, *, now: datetime | None = None) -> int:
    """Close the open steps of a dossier withdrawn or stopped outside the workflow; returns how many.

    For ``dossiers.services.withdraw`` / ``stop`` to call inside their transaction (their own
    event is the record): the steps leave every inbox, without a verdict.
    """
    moment = _now(now)
    with transaction.atomic():
        locked = _lock(dossier)
        run = WorkflowRun.objects.filter(dossier=locked).first()
        if run is None:
            return 0
        closed = StepRun.objects.filter(run=run, finished_at__isnull=True).update(
            finished_at=moment, action=locked.status, paused_at=None
        )
        if run.finished_at is None:
            run.finished_at = moment
            run.save(update_fields=["finished_at"])
    return closed


# --- the dossier API's status changes, for dossiers on a workflow ---------------------------------


def has_run(dossier: Dossier) -> bool:
    """True when the dossier follows an electronic workflow (its status changes go through the engine)."""
    return WorkflowRun.objects.filter(dossier_id=dossier.pk).exists()


def request_supplement(
    dossier: Dossier, *, user: User, reason: str, now: datetime | None = None, ip: str | None = None
) -> Move:
    """A supplement request outside a workflow transition (the dossier API): the holder of the current step
    or the receiving desk's clerk asks, and the dossier and every open step pause together, as with a
    ``request_supplement`` transition.
    """
    moment = _now(now)
    with transaction.atomic():
        locked = _lock(dossier)
        run = _run_of(locked)
        current = _current(run)
        _require_running(locked)
        if current is None or current.kind in (StepRunKind.RESULT, StepRunKind.REFUSAL):
            raise WorkflowConflict(
                _("Dossier %(code)s has no step in progress that could wait for a supplement.") % {"code": locked.code}
            )
        # As for recording the supplement: the desk that received the dossier, or the step's holder.
        clerk = user.has_role(Role.CLERK) and user.agency_id == locked.receiving_agency_id
        if not (clerk or holds(user, current)):
            raise _not_holder(current)
        dossier_services.request_supplement(locked, actor=user, reason=reason, ip=ip, now=moment)
        StepRun.objects.filter(run=run, finished_at__isnull=True, paused_at__isnull=True).update(paused_at=moment)
        after = _current(run, lock=False)  # inside the transaction (see supplement_received)
    dossier.refresh_from_db()
    return Move(dossier=locked, current=after)


# --- deadlines: the periodic scan, notices, apology letters ----------------------------------------

DEFAULT_APOLOGY_LEAD_SESSIONS = 2
DEFAULT_DUE_SOON_SESSIONS = 2
OPEN_FOR_DEADLINES = (Status.IN_PROCESS,)


@dataclass
class ScanReport:
    """What one deadline scan wrote (counts of new notices by kind, apology requests, e-mails)."""

    notices: dict[str, int] = field(default_factory=dict)
    apologies_requested: int = 0
    emails: int = 0

    def __str__(self) -> str:
        parts = [f"{kind}: {count}" for kind, count in sorted(self.notices.items()) if count]
        parts.append(f"apology requests: {self.apologies_requested}")
        parts.append(f"e-mails: {self.emails}")
        return ", ".join(parts)


def apology_lead_sessions() -> int:
    """How many working sessions before the due moment the leader is asked for the apology letter."""
    return int(getattr(settings, "MOTCUA_APOLOGY_LEAD_SESSIONS", DEFAULT_APOLOGY_LEAD_SESSIONS))


def _queue_users(step_run: StepRun) -> list[User]:
    if step_run.assignee_id is not None:
        return [step_run.assignee] if step_run.assignee.is_active else []
    return list(_eligible(step_run.agency, step_run.department, step_run.role))


def _leaders(agency: Agency) -> list[User]:
    return list(User.objects.filter(is_active=True, agency=agency, roles__role=Role.LEADER).distinct().order_by("pk"))


def _notify(
    report: ScanReport,
    kind: str,
    dossier: Dossier,
    step_run: StepRun | None,
    due: datetime,
    recipients: list[User],
    message: str,
    moment: datetime,
) -> bool:
    """Write the notice unless this step run (or dossier) already has one of this kind; then e-mail it."""
    from django.core.mail import send_mail

    from motcua.workflow.models import Notice

    existing = Notice.objects.filter(kind=kind, dossier=dossier, step_run=step_run)
    if existing.exists():
        return False
    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                kind=kind, dossier=dossier, step_run=step_run, due_at=due, message=message, created_at=moment
            )
    except IntegrityError:  # another scan wrote it meanwhile
        return False
    notice.recipients.set(recipients)
    report.notices[kind] = report.notices.get(kind, 0) + 1
    addresses = sorted({user.email for user in recipients if user.email})
    if addresses:
        subject = _("[Một cửa] %(message)s") % {"message": message}
        try:
            sent = send_mail(subject[:200], message, None, addresses)
        except Exception:  # the notice stays in the app; a mail server outage must not stop the scan
            log.exception("Deadline notice %s: the e-mail could not be sent.", notice.pk)
            sent = 0
        if sent:
            Notice.objects.filter(pk=notice.pk).update(emailed=len(addresses))
            report.emails += len(addresses)
    return True


def scan_deadlines(now: datetime | None = None) -> ScanReport:
    """Mark open steps and dossiers due soon / overdue, and ask for apology letters; idempotent.

    One notice per step run (or dossier) per kind, whatever the number of scans: the periodic
    task can run every few minutes. Paused dossiers (waiting for a supplement) are skipped: their
    clocks stand still. "Due soon" is ``MOTCUA_WORKFLOW_DUE_SOON_SESSIONS`` working sessions, as
    in the inbox. A dossier with ``MOTCUA_APOLOGY_LEAD_SESSIONS`` sessions or less left (or
    already late) is forecast late: the competent agency's leaders are asked for the apology
    letter, once per dossier and due moment.
    """
    from motcua.workflow.models import Apology, NoticeKind
    from motcua.worktime.selectors import default_calendar

    moment = _now(now)
    report = ScanReport()
    calendar = default_calendar()
    soon = calendar.add_sessions(
        moment, int(getattr(settings, "MOTCUA_WORKFLOW_DUE_SOON_SESSIONS", DEFAULT_DUE_SOON_SESSIONS))
    )
    with translation.override(settings.LANGUAGE_CODE):
        steps = (
            StepRun.objects.filter(
                finished_at__isnull=True,
                paused_at__isnull=True,
                due_at__isnull=False,
                due_at__lte=soon,
                dossier__status__in=OPEN_FOR_DEADLINES,
            )
            .exclude(kind__in=(StepRunKind.RESULT, StepRunKind.REFUSAL))
            .select_related("dossier", "agency", "department", "assignee")
            .order_by("due_at", "pk")
        )
        for row in steps:
            overdue = row.due_at < moment
            kind = NoticeKind.STEP_OVERDUE if overdue else NoticeKind.STEP_DUE_SOON
            text = (
                _("Dossier %(code)s: step “%(step)s” was due at %(due)s.")
                if overdue
                else _("Dossier %(code)s: step “%(step)s” is due at %(due)s.")
            ) % {"code": row.dossier.code, "step": row.step_name, "due": _local(row.due_at)}
            _notify(report, kind, row.dossier, row, row.due_at, _queue_users(row), text, moment)

        dossiers = Dossier.objects.filter(
            status__in=OPEN_FOR_DEADLINES, paused_at__isnull=True, due_at__isnull=False, due_at__lte=soon
        ).select_related("competent_agency")
        lead = apology_lead_sessions()
        for dossier in dossiers.order_by("due_at", "pk"):
            open_steps = list(
                StepRun.objects.filter(dossier=dossier, finished_at__isnull=True, parent__isnull=True).select_related(
                    "agency", "department", "assignee"
                )
            )
            holders = {u.pk: u for row in open_steps for u in _queue_users(row)}
            leaders = _leaders(dossier.competent_agency)
            recipients = list(holders.values()) or leaders
            overdue = dossier.due_at < moment
            kind = NoticeKind.DOSSIER_OVERDUE if overdue else NoticeKind.DOSSIER_DUE_SOON
            text = (
                _("Dossier %(code)s was due at %(due)s.") if overdue else _("Dossier %(code)s is due at %(due)s.")
            ) % {"code": dossier.code, "due": _local(dossier.due_at)}
            _notify(report, kind, dossier, None, dossier.due_at, recipients, text, moment)

        # Apology letters: every open dossier within the lead time of its due moment (or past it).
        ask_from = calendar.add_sessions(moment, lead)
        for dossier in (
            Dossier.objects.filter(
                status__in=OPEN_FOR_DEADLINES, paused_at__isnull=True, due_at__isnull=False, due_at__lte=ask_from
            )
            .select_related("competent_agency")
            .order_by("due_at", "pk")
        ):
            if Apology.objects.filter(dossier=dossier, due_at=dossier.due_at).exists():
                continue
            with transaction.atomic():
                if Apology.objects.filter(dossier=dossier, recorded_at__isnull=True).exists():
                    continue
                Apology.objects.create(
                    dossier=dossier, agency=dossier.competent_agency, due_at=dossier.due_at, requested_at=moment
                )
            report.apologies_requested += 1
            text = _(
                "Dossier %(code)s will not be resolved by %(due)s: record the apology letter with the reason "
                "and a new appointment."
            ) % {"code": dossier.code, "due": _local(dossier.due_at)}
            _notify(
                report,
                NoticeKind.APOLOGY_NEEDED,
                dossier,
                None,
                dossier.due_at,
                _leaders(dossier.competent_agency),
                text,
                moment,
            )
    return report


def record_apology(
    dossier: Dossier,
    leader: User,
    reason: str,
    new_due: datetime | None,
    now: datetime | None = None,
    ip: str | None = None,
):
    """Record the apology letter of a late (or soon late) dossier: reason, new appointment, by, at.

    Only a leader of the competent agency records it; the new appointment must be after the
    current due moment. The official ``due_at`` is kept (the dossier still counts as late): the
    new appointment is stored on the ``Apology`` and in the dossier's event.
    """
    from motcua.workflow.models import Apology

    moment = _now(now)
    text = _checked("reason", reason)
    with transaction.atomic():
        locked = _lock(dossier)
        if not (
            leader.is_authenticated
            and leader.is_active
            and leader.has_role(Role.LEADER)
            and leader.agency_id == locked.competent_agency_id
        ):
            raise PermissionDenied(
                _("Only a leader of %(agency)s records the apology letter of this dossier.")
                % {"agency": locked.competent_agency.name}
            )
        if locked.status not in (Status.IN_PROCESS, Status.WAITING_FOR_SUPPLEMENT) or locked.due_at is None:
            raise WorkflowConflict(
                _("Dossier %(code)s is “%(status)s”: no apology letter can be recorded for it.")
                % {"code": locked.code, "status": locked.get_status_display()}
            )
        errors: dict[str, list[str]] = {}
        if not text:
            errors["reason"] = [_("Give the reason for the delay.")]
        elif len(text) > MAX_COMMENT:
            errors["reason"] = [_("The reason is too long (at most %(max)s characters).") % {"max": MAX_COMMENT}]
        if new_due is None:
            errors["new_due_at"] = [_("Give the new appointment.")]
        elif timezone.is_naive(new_due):
            errors["new_due_at"] = [_("Give the new appointment with its time zone.")]
        elif new_due <= locked.due_at:
            errors["new_due_at"] = [
                _("The new appointment must be after the current due moment (%(due)s).")
                % {"due": _local(locked.due_at)}
            ]
        if errors:
            raise ValidationError(errors)
        apology = (
            Apology.objects.select_for_update().filter(dossier=locked, recorded_at__isnull=True).order_by("pk").first()
        )
        if apology is None:
            apology = Apology(dossier=locked, agency=locked.competent_agency, due_at=locked.due_at)
        apology.reason = text
        apology.new_due_at = new_due
        apology.recorded_by = leader
        apology.recorded_at = moment
        apology.save()
        _record(
            locked,
            leader,
            Action.APOLOGY_RECORDED,
            moment,
            ip,
            {"reason": text, "due_at": locked.due_at, "new_due_at": new_due, "requested_at": apology.requested_at},
            role=Role.LEADER,
        )
    return apology
