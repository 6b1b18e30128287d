"""The workflow API: an officer's inbox, the moves on a dossier, and its process control sheet.

* ``GET /inbox?filter=due_soon|overdue&page=&page_size=`` — open steps the caller holds, most
  urgent first, each with the actions the caller may take;
* ``POST /dossiers/{code}/transitions`` — ``{"action", "comment", "attachments": [{"name",
  "content_base64", "kind"}], "step_run"}``: a transition key of the workflow, or ``claim``,
  ``answer``, ``hand_over``, ``supplement_received``; answers the new step, its holder and due
  moment, and the dossier's status and due moment;
* ``GET /dossiers/{code}/steps`` — every step with its holder, budget, start, due, end and verdict.

Thin: selectors and services of ``motcua.workflow`` do the work. Errors use the API's one
shape: 404 (no such dossier for the caller), 403 (not the holder, no role), 409 (someone else
moved the dossier first, paused, waiting for opinions), 422 (unknown action, missing reason,
condition not met, bad file).
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema
from ninja import Status as Answer
from pydantic import StringConstraints

from motcua.api import params
from motcua.api.auth import token_auth
from motcua.api.errors import AUTHENTICATED, BODY, COMMON, CONFLICT, NOT_FOUND, ApiError, answers
from motcua.dossiers.models import Dossier
from motcua.workflow import selectors, services
from motcua.workflow.models import StepRun, WorkflowRun

router = Router(auth=token_auth)
MAX_PAGE_SIZE = params.MAX_PAGE_SIZE
#: Every operation on one dossier: the caller's token, the dossier by its code.
ON_A_DOSSIER = (COMMON, AUTHENTICATED, NOT_FOUND)


class CodeName(Schema):
    code: str
    name: str


class Person(Schema):
    id: int
    full_name: str


class ActionOut(Schema):
    key: str
    label: str
    kind: str = Field(
        description="forward, return, approve, reject, request_supplement, transfer, or an engine action."
    )
    requires_reason: bool
    requires_attachment: bool
    requires_signature: bool
    step_run: int | None


class StepOut(Schema):
    id: int
    sequence: int
    key: str
    name: str
    kind: str
    agency: CodeName
    department: CodeName | None
    role: str
    role_label: str
    assignee: Person | None
    started_at: datetime
    budget_sessions: int
    due_at: datetime | None
    paused: bool


class DossierBrief(Schema):
    code: str
    status: str
    status_label: str
    applicant_name: str
    procedure_code: str
    procedure_name: str
    received_at: datetime | None
    due_at: datetime | None


class InboxItem(Schema):
    step: StepOut
    dossier: DossierBrief
    urgency: str = Field(description="overdue, due_soon, paused, within_time or no_deadline.")
    actions: list[ActionOut]


class InboxPage(Schema):
    count: int
    items: list[InboxItem]


class InboxFilter(StrEnum):
    due_soon = "due_soon"
    overdue = "overdue"


class InboxQuery(Schema):
    filter: InboxFilter | None = Field(None, description="due_soon or overdue.")
    page: int = Field(1, ge=1, le=params.MAX_PAGE, description=f"1 to {params.MAX_PAGE}; after the last, no items.")
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


class AttachmentIn(Schema):
    name: params.text(255) = ""
    content_base64: str
    kind: params.text(50) = "other"


class TransitionIn(Schema):
    action: params.text(100) = Field(
        ..., description="A transition key of the workflow, or claim, answer, hand_over, supplement_received."
    )
    comment: params.text(5000, params.TEXT) = ""
    attachments: list[AttachmentIn] = []
    step_run: params.RowId | None = Field(
        None, description="The step run the caller saw; if someone else finished it meanwhile the answer is 409."
    )


class MoveOut(Schema):
    dossier: DossierBrief
    finished: StepOut | None
    step: StepOut | None = Field(description="The dossier's current step after the move (None once it has ended).")
    opinions: list[StepOut] = Field(description="Open opinion requests of a consultation step.")
    actions: list[ActionOut]


class AttachmentOut(Schema):
    id: int
    name: str
    kind: str
    content_type: str
    size: int


class SheetRow(StepOut):
    parent: int | None = Field(description="For an opinion: the sequence of the consultation step that asked it.")
    finished_at: datetime | None
    timeliness: str = Field(description="early, on_time, late (finished) or within_time, overdue (open).")
    timeliness_label: str
    acted_by: Person | None
    action: str
    action_label: str
    comment: str
    attachments: list[AttachmentOut]


class SheetOut(Schema):
    dossier: DossierBrief
    outcome: str = Field(description="'' while running, result or refusal.")
    result_number: str = Field("", description="The result's official number, once the document clerk issued it.")
    steps: list[SheetRow]


TIMELINESS_LABELS = {
    "early": gettext_lazy("early"),
    "on_time": gettext_lazy("on time"),
    "late": gettext_lazy("late"),
    "within_time": gettext_lazy("within time"),
    "overdue": gettext_lazy("overdue"),
}


def _person(user) -> dict | None:
    return {"id": user.pk, "full_name": user.full_name} if user is not None else None


def _step(row: StepRun) -> dict:
    return {
        "id": row.pk,
        "sequence": row.sequence,
        "key": row.step_key,
        "name": row.step_name,
        "kind": row.kind,
        "agency": {"code": row.agency.code, "name": row.agency.name},
        "department": {"code": row.department.code, "name": row.department.name} if row.department_id else None,
        "role": row.role,
        "role_label": str(row.get_role_display()),
        "assignee": _person(row.assignee),
        "started_at": row.started_at,
        "budget_sessions": row.budget_sessions,
        "due_at": row.due_at,
        "paused": row.paused_at is not None,
    }


def _dossier(dossier: Dossier) -> dict:
    version = dossier.procedure_version
    return {
        "code": dossier.code or "",
        "status": dossier.status,
        "status_label": str(dossier.get_status_display()),
        "applicant_name": dossier.applicant_name,
        "procedure_code": version.procedure.code,
        "procedure_name": version.name,
        "received_at": dossier.received_at,
        "due_at": dossier.due_at,
    }


def _actions(user, dossier: Dossier) -> list[dict]:
    return [action.__dict__ for action in selectors.available_actions(user, dossier)]


def _visible(request: HttpRequest, code: str) -> Dossier:
    dossier = selectors.get_dossier(request.user, code)
    if dossier is None:
        raise ApiError(_("No dossier with the code %(code)s is visible to you.") % {"code": code}, status=404)
    return dossier


@router.get("/inbox", response=answers({200: InboxPage}, COMMON, AUTHENTICATED), summary="My inbox")
def inbox(request: HttpRequest, query: Query[InboxQuery]):
    now = timezone.now()
    rows = selectors.inbox(request.user, query.filter.value if query.filter else None, now)
    start = (query.page - 1) * query.page_size
    page = list(rows[start : start + query.page_size])
    limit = selectors.due_soon_threshold(request.user, now)
    return {
        "count": rows.count(),
        "items": [
            {
                "step": _step(row),
                "dossier": _dossier(row.dossier),
                "urgency": selectors.urgency(row, limit, now),
                "actions": _actions(request.user, row.dossier),
            }
            for row in page
        ],
    }


@router.post(
    "/dossiers/{code}/transitions",
    response=answers({200: MoveOut}, *ON_A_DOSSIER, BODY, CONFLICT),
    summary="Act on a dossier",
)
def transition(request: HttpRequest, payload: TransitionIn, code: params.DossierCode):
    dossier = _visible(request, code)
    try:
        services.act(
            dossier,
            user=request.user,
            action=payload.action.strip(),
            comment=payload.comment,
            attachments=[item.model_dump() for item in payload.attachments],
            ip=request.META.get("REMOTE_ADDR"),
            expected_step=payload.step_run,
        )
    except services.WorkflowConflict as exc:
        raise ApiError(str(exc), status=409) from None
    dossier.refresh_from_db()
    open_rows = list(
        StepRun.objects.filter(dossier=dossier, finished_at__isnull=True)
        .select_related("agency", "department", "assignee")
        .order_by("sequence")
    )
    finished = (
        StepRun.objects.filter(dossier=dossier, finished_at__isnull=False, acted_by=request.user)
        .select_related("agency", "department", "assignee")
        .order_by("-finished_at", "-sequence")
        .first()
    )
    current = next((row for row in open_rows if row.parent_id is None), None)
    return {
        "dossier": _dossier(dossier),
        "finished": _step(finished) if finished else None,
        "step": _step(current) if current else None,
        "opinions": [_step(row) for row in open_rows if row.parent_id is not None],
        "actions": _actions(request.user, dossier),
    }


@router.get("/dossiers/{code}/steps", response=answers({200: SheetOut}, *ON_A_DOSSIER), summary="Process control sheet")
def steps(request: HttpRequest, code: params.DossierCode):
    dossier = _visible(request, code)
    now = timezone.now()
    rows = list(selectors.steps_of(request.user, dossier))
    by_id = {row.pk: row.sequence for row in rows}
    run = WorkflowRun.objects.filter(dossier=dossier).first()
    sheet = []
    for row in rows:
        verdict = selectors.step_timeliness(row, now)
        sheet.append(
            {
                **_step(row),
                "parent": by_id.get(row.parent_id),
                "finished_at": row.finished_at,
                "timeliness": verdict,
                "timeliness_label": str(TIMELINESS_LABELS.get(verdict, "")),
                "acted_by": _person(row.acted_by),
                "action": row.action,
                "action_label": row.action_label,
                "comment": row.comment,
                "attachments": [
                    {
                        "id": a.pk,
                        "name": a.original_filename,
                        "kind": a.kind,
                        "content_type": a.content_type,
                        "size": a.size,
                    }
                    for a in row.attachments.all()
                ],
            }
        )
    return {
        "dossier": _dossier(dossier),
        "outcome": run.outcome if run else "",
        "result_number": run.result_number if run and rows else "",
        "steps": sheet,
    }


class ApologyIn(Schema):
    reason: params.text(2000, params.TEXT) = Field("", description="Why the dossier will be late (required).")
    new_due_at: Annotated[str, StringConstraints(pattern=params.AWARE_MOMENT)] | None = Field(
        None, description="The new appointment, ISO 8601 with its offset, in the years 1901–2100."
    )


class ApologyOut(Schema):
    dossier: DossierBrief
    reason: str
    due_at: datetime = Field(description="The official due moment, unchanged: the dossier still counts as late.")
    new_due_at: datetime
    requested_at: datetime | None
    recorded_at: datetime
    recorded_by: Person


@router.post(
    "/dossiers/{code}/apology",
    response=answers({201: ApologyOut}, *ON_A_DOSSIER, BODY, CONFLICT),
    summary="Record the apology letter",
)
def apology(request: HttpRequest, payload: ApologyIn, code: params.DossierCode):
    """A leader of the competent agency records the reason and the new appointment of a late dossier."""
    dossier = _visible(request, code)
    try:
        # The pattern admits only real moments of the calendar's years, with their offset.
        new_due = datetime.fromisoformat(payload.new_due_at) if payload.new_due_at else None
        row = services.record_apology(
            dossier, request.user, payload.reason, new_due, ip=request.META.get("REMOTE_ADDR")
        )
    except services.WorkflowConflict as exc:
        raise ApiError(str(exc), status=409) from None
    dossier.refresh_from_db()
    return Answer(
        201,
        {
            "dossier": _dossier(dossier),
            "reason": row.reason,
            "due_at": row.due_at,
            "new_due_at": row.new_due_at,
            "requested_at": row.requested_at,
            "recorded_at": row.recorded_at,
            "recorded_by": _person(row.recorded_by),
        },
    )
