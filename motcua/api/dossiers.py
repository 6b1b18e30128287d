"""The dossier API for staff: receive at the counter, the two other counter outcomes, search,
one dossier with its timeline, and the status changes of the applicant's supplement and withdrawal.

Authentication is ``token_auth`` (bearer token, else the logged-in session). Endpoints stay thin:
they translate JSON to the arguments of ``motcua.dossiers.services`` / ``selectors`` and back; every
check (role, scope, input, lifecycle) is the services'. Their exceptions become the API's one error
shape in ``motcua.api.errors`` (422 fields, 403, 409), and a dossier out of the caller's scope is
answered exactly like one that does not exist.

Documents name their component by the ``order`` the procedure's detail shows
(``GET /api/v1/procedures/{code}`` → ``documents[].order``); a scan travels as
``{"name": "to-khai.pdf", "content_base64": "..."}``.
"""

import base64
import binascii
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema
from ninja import Status as Answer
from ninja.pagination import paginate
from pydantic import BaseModel, ConfigDict

from motcua import inputs
from motcua.api import params
from motcua.api import selectors as api_selectors
from motcua.api.auth import token_auth
from motcua.api.errors import AUTHENTICATED, BODY, COMMON, CONFLICT, NOT_FOUND, ApiError, answers, validation_detail
from motcua.api.pagination import Pages
from motcua.dossiers import lifecycle, selectors, services
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier, DossierDocument, DossierEvent
from motcua.text import BadText
from motcua.text import clean as clean_text
from motcua.workflow import services as workflow_services

router = Router(auth=token_auth)
#: The counter's three outcomes: a body checked by the services (422), a role that cannot receive (403).
AT_THE_COUNTER = (COMMON, AUTHENTICATED, BODY)
#: Every operation on one dossier: the caller's token, the dossier by its code (404 unknown or not yours).
ON_A_DOSSIER = (COMMON, AUTHENTICATED, NOT_FOUND)


# --- input -----------------------------------------------------------------------------------------


class ApplicantIn(BaseModel):
    """Checked by the services (12-digit CCCD, Vietnamese phone…); unknown keys are refused there,
    so this is a plain pydantic model that keeps them (ninja's Schema would drop them)."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field("person", description="person or organisation.")
    full_name: str = ""
    id_number: str = Field("", description="12-digit CCCD of a person, tax code of an organisation.")
    date_of_birth: str | None = Field(None, description="YYYY-MM-DD or dd/mm/yyyy.")
    phone: str = ""
    email: str = ""
    address: str = ""
    accepts_sms: bool = False
    accepts_zalo: bool = False


class FileIn(Schema):
    name: str = Field("", description="The file's name as the applicant had it; shown, never used as a path.")
    content_base64: str = Field(description="The bytes, base64 (PDF, JPEG or PNG).")


class DocumentIn(Schema):
    component: int | None = Field(
        None, description="`order` of the document in GET /api/v1/procedures/{code}; omit for an extra paper."
    )
    name: str | None = Field(None, description="Needed for an extra paper; defaults to the component's name.")
    originals: int | None = None
    copies: int | None = None
    file: FileIn | None = None


class ReceiveIn(Schema):
    procedure_code: str = Field(description="National (1.001193) or local code of the procedure.")
    applicant: ApplicantIn
    form_data: dict[str, Any] = Field(default_factory=dict, description="Fields of the procedure's form schema.")
    documents: list[DocumentIn] = Field(default_factory=list)
    competent_agency: str | None = Field(None, description="Agency code, when several agencies could be competent.")


class GuidanceIn(Schema):
    procedure_code: str
    applicant: ApplicantIn
    missing: list[str] = Field(default_factory=list, description="What the applicant must add or correct.")
    reason: str = ""


class RefusalIn(Schema):
    procedure_code: str
    applicant: ApplicantIn
    reason: str = Field("", description="Mandatory: why the dossier cannot be received here.")


class ReasonIn(Schema):
    # Declared for the OpenAPI; the dossier services check it (blank, control characters) in their words.
    reason: Annotated[str, params.declared({"type": "string", "pattern": params.REASON})] = Field(
        description="Why (mandatory): free text, not blank."
    )


#: The counter's idempotency key as ``services.receive_at_counter`` takes it (empty: none).
IDEMPOTENCY_KEY = params.register_message(
    r"^([\x21-\x7e]{1,100})?$",
    lambda value: _("The idempotency key is 1 to 100 visible ASCII characters, e.g. a UUID."),
)
Timeliness = StrEnum("Timeliness", {value: value for value in selectors.TIMELINESS_VALUES})
#: Filters that may be left empty ("code=" is no filter): the value's pattern, or nothing.
CODE_FILTER = params.register_message(
    r"^[A-Za-z0-9._-]{0,50}$", lambda value: params.pattern_message(params.DOSSIER_CODE, value) or ""
)
PROCEDURE_FILTER = params.register_message(
    f"^({params.PROCEDURE_CODE[1:-1]})?$", lambda value: params.pattern_message(params.PROCEDURE_CODE, value) or ""
)
ID_NUMBER_FILTER = params.register_message(
    r"^[0-9 -]{0,20}$", lambda value: _("“%(value)s” is not an ID number or tax code.") % {"value": value}
)
PHONE_FILTER = params.register_message(
    r"^[+]?[0-9 .()-]{0,20}$", lambda value: _("“%(value)s” is not a phone number.") % {"value": value}
)


class Filters(Schema):
    q: params.text(200) | None = Field(None, description="Words of the applicant's name, the code, ID number or phone.")
    code: params.text(50, CODE_FILTER) | None = Field(None, description="The dossier code, exactly.")
    id_number: params.text(20, ID_NUMBER_FILTER) | None = Field(None, description="CCCD or tax code, exactly.")
    phone: params.text(20, PHONE_FILTER) | None = Field(None, description="Phone number, 0912345678 or +84912345678.")
    procedure: params.text(22, PROCEDURE_FILTER) | None = Field(None, description="Procedure code.")
    status: list[Status] | None = Field(None, description="One or more statuses (repeat the parameter).")
    received_from: params.Day | None = Field(
        None, description="First local day of receipt, YYYY-MM-DD or dd/mm/yyyy, 1900–2199 (inclusive)."
    )
    received_to: params.Day | None = Field(
        None, description="Last local day of receipt, YYYY-MM-DD or dd/mm/yyyy, 1900–2199 (inclusive)."
    )
    timeliness: Timeliness | None = Field(None, description="early, on_time, late, within_time or overdue.")


# --- output ----------------------------------------------------------------------------------------


class AgencyOut(Schema):
    code: str
    name: str


class ProcedureOut(Schema):
    code: str
    name: str
    version: int


class ApplicantOut(Schema):
    kind: str
    full_name: str
    id_number: str
    date_of_birth: date | None
    phone: str
    email: str
    address: str
    accepts_sms: bool
    accepts_zalo: bool


class FileOut(Schema):
    name: str
    content_type: str
    size: int


class DocumentOut(Schema):
    component: int | None = Field(description="`order` of the procedure's component; null for an extra paper.")
    name: str
    originals: int
    copies: int
    file: FileOut | None


class EventOut(Schema):
    at: datetime
    action: str
    action_label: str
    from_status: str
    to_status: str
    actor: str | None
    actor_role: str
    agency: str | None
    data: dict[str, Any]


class Moments(Schema):
    submitted_at: datetime | None
    received_at: datetime | None
    valid_receipt_at: datetime | None
    due_at: datetime | None = Field(description="Null for an immediate procedure.")
    paused_at: datetime | None
    finished_at: datetime | None
    returned_at: datetime | None


class DossierOut(Schema):
    code: str
    status: str
    status_label: str
    channel: str
    procedure: ProcedureOut
    receiving_agency: AgencyOut
    competent_agency: AgencyOut
    received_at: datetime | None
    due_at: datetime | None = Field(description="Null for an immediate procedure.")
    moments: Moments
    timeliness: str = Field(description="early, on_time, late (resolved), within_time, overdue (open) or ''.")
    applicant: ApplicantOut
    form_data: dict[str, Any]
    documents: list[DocumentOut]
    events: list[EventOut]


class DossierItem(Schema):
    """A dossier of the search. Only dossiers with a code are listed: the counter's guidance and refusal
    records (answered once, by ``POST /guidance`` and ``POST /refusals``) and online submissions not yet
    received have none, and are not searched here."""

    code: str
    status: str
    status_label: str
    procedure_code: str
    procedure_name: str
    applicant_name: str
    receiving_agency: str
    competent_agency: str
    received_at: datetime | None
    due_at: datetime | None
    timeliness: str

    @staticmethod
    def resolve_status_label(obj: Dossier) -> str:
        return lifecycle.label(obj.status)

    @staticmethod
    def resolve_procedure_code(obj: Dossier) -> str:
        return obj.procedure_version.procedure.code

    @staticmethod
    def resolve_procedure_name(obj: Dossier) -> str:
        return obj.procedure_version.name

    @staticmethod
    def resolve_receiving_agency(obj: Dossier) -> str:
        return obj.receiving_agency.code

    @staticmethod
    def resolve_competent_agency(obj: Dossier) -> str:
        return obj.competent_agency.code

    @staticmethod
    def resolve_timeliness(obj: Dossier) -> str:
        return getattr(obj, "timeliness_now", "")


class CounterRecordOut(Schema):
    """A guidance or refusal record: no code and no clock; ``id`` identifies it."""

    id: int
    status: str
    status_label: str
    procedure: ProcedureOut | None
    receiving_agency: AgencyOut
    applicant: ApplicantOut
    recorded_at: datetime | None
    missing: list[str]
    reason: str


# --- helpers ---------------------------------------------------------------------------------------


def _ip(request: HttpRequest) -> str | None:
    """The peer address as the server saw it (a proxy's header is not trusted here)."""
    return request.META.get("REMOTE_ADDR") or None


def _agency(agency) -> dict:
    return {"code": agency.code, "name": agency.name}


def _applicant(dossier: Dossier) -> dict:
    return {
        "kind": dossier.applicant_kind,
        "full_name": dossier.applicant_name,
        "id_number": dossier.applicant_id_number,
        "date_of_birth": dossier.applicant_birth_date,
        "phone": dossier.applicant_phone,
        "email": dossier.applicant_email,
        "address": dossier.applicant_address,
        "accepts_sms": dossier.accepts_sms,
        "accepts_zalo": dossier.accepts_zalo,
    }


def _procedure(dossier: Dossier) -> dict | None:
    version = dossier.procedure_version
    if version is None:
        return None
    return {"code": version.procedure.code, "name": version.name, "version": version.number}


def _not_found(code: str) -> ApiError:
    # Same answer for "no such dossier" and "not yours": existence is not revealed.
    return ApiError(_("No dossier with the code “%(code)s” is accessible to you.") % {"code": code}, status=404)


def _visible(request: HttpRequest, code: str) -> Dossier:
    dossier = selectors.get_dossier(request.user, code)
    if dossier is None:
        raise _not_found(code)
    return dossier


def _detail(user, dossier: Dossier) -> dict:
    """The dossier as staff see it: everything but file contents, with its timeline."""
    row = (
        selectors.with_timeliness(selectors.dossiers_visible_to(user).filter(pk=dossier.pk))
        .select_related("procedure_version__procedure", "receiving_agency", "competent_agency")
        .prefetch_related(
            Prefetch("documents", queryset=DossierDocument.objects.select_related("component")),
            Prefetch("events", queryset=DossierEvent.objects.select_related("actor", "agency")),
        )
        .first()
    )
    if row is None:  # changed hands between the two queries
        raise _not_found(dossier.code or "")
    return {
        "code": row.code or "",
        "status": row.status,
        "status_label": lifecycle.label(row.status),
        "channel": row.channel,
        "procedure": _procedure(row),
        "receiving_agency": _agency(row.receiving_agency),
        "competent_agency": _agency(row.competent_agency),
        "received_at": row.received_at,
        "due_at": row.due_at,
        "moments": {
            "submitted_at": row.submitted_at,
            "received_at": row.received_at,
            "valid_receipt_at": row.valid_receipt_at,
            "due_at": row.due_at,
            "paused_at": row.paused_at,
            "finished_at": row.finished_at,
            "returned_at": row.returned_at,
        },
        "timeliness": row.timeliness_now,
        "applicant": _applicant(row),
        "form_data": row.form_data or {},
        "documents": [
            {
                "component": doc.component.order if doc.component else None,
                "name": doc.name,
                "originals": doc.originals_received,
                "copies": doc.copies_received,
                "file": {"name": doc.original_filename, "content_type": doc.content_type, "size": doc.size}
                if doc.file
                else None,
            }
            for doc in row.documents.all()
        ],
        "events": [
            {
                "at": event.at,
                "action": event.action,
                "action_label": str(event.get_action_display()),
                "from_status": event.from_status,
                "to_status": event.to_status,
                "actor": event.actor.full_name if event.actor else None,
                "actor_role": event.actor_role,
                "agency": event.agency.code if event.agency else None,
                "data": event.data or {},
            }
            for event in row.events.all()
        ],
    }


def _counter_record(dossier: Dossier, missing: list[str], reason: str) -> dict:
    return {
        "id": dossier.pk,
        "status": dossier.status,
        "status_label": lifecycle.label(dossier.status),
        "procedure": _procedure(dossier),
        "receiving_agency": _agency(dossier.receiving_agency),
        "applicant": _applicant(dossier),
        "recorded_at": dossier.submitted_at,
        "missing": missing,
        "reason": reason,
    }


def _max_file_size() -> int:
    return int(getattr(settings, "MOTCUA_MAX_FILE_SIZE", services.DEFAULT_MAX_FILE_SIZE))


def _decode_file(upload: FileIn, field: str, errors: list[dict]) -> ContentFile | None:
    """The scan as a file for the services (which check type and size), or None with an error."""
    text = "".join(upload.content_base64.split())
    limit = _max_file_size()
    if len(text) // 4 * 3 > limit + 3:  # refuse before decoding a huge string
        size = len(text) // 4 * 3
        errors.append(
            {
                "field": field,
                "message": _("The file is too large: %(size)s MB, at most %(max)s MB per file.")
                % {"size": round(size / 1_048_576, 1), "max": round(limit / 1_048_576, 1)},
            }
        )
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        errors.append({"field": f"{field}.content_base64", "message": _("The file content is not valid base64.")})
        return None
    return ContentFile(data, name=upload.name or "")


def _documents(payload: ReceiveIn) -> list[dict]:
    """Rows for ``services.receive_at_counter``: component order → component id, base64 → file."""
    by_order = api_selectors.component_ids_by_order(payload.procedure_code)
    errors: list[dict] = []
    rows: list[dict] = []
    for index, doc in enumerate(payload.documents):
        prefix = f"documents.{index}"
        row: dict[str, Any] = {"name": doc.name, "originals": doc.originals, "copies": doc.copies}
        if doc.component is not None and by_order:
            ids = by_order.get(doc.component, [])
            if len(ids) != 1:
                errors.append(
                    {
                        "field": f"{prefix}.component",
                        "message": _("The procedure has no document number %(order)s.") % {"order": doc.component},
                    }
                )
                continue
            row["component"] = ids[0]
        if doc.file is not None:
            upload = _decode_file(doc.file, f"{prefix}.file", errors)
            if upload is None:
                continue
            row["file"] = upload
        rows.append(row)
    if errors:
        raise ApiError(validation_detail(errors), status=422, errors=errors)
    return rows


# --- endpoints -------------------------------------------------------------------------------------


@router.post("", response=answers({201: DossierOut}, *AT_THE_COUNTER), summary="Receive a dossier at the counter")
def receive(
    request: HttpRequest,
    payload: ReceiveIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY,
        description="Optional, 1-100 visible ASCII characters (a UUID): a repeat of the request with the same "
        "key by the same clerk answers the dossier the first one received (201, same code) and receives nothing "
        "new, also when both arrive at once.",
    ),
):
    """Validate everything, give the code, start the clock; nothing is saved when anything is wrong."""
    documents = _documents(payload)
    dossier = services.receive_at_counter(
        clerk=request.user,
        procedure_code=payload.procedure_code,
        applicant=payload.applicant.model_dump(exclude_unset=True),
        form_data=payload.form_data,
        documents=documents,
        competent_agency=payload.competent_agency or None,
        ip=_ip(request),
        idempotency_key=idempotency_key,
    )
    return Answer(201, _detail(request.user, dossier))


@router.post(
    "/guidance",
    response=answers({201: CounterRecordOut}, *AT_THE_COUNTER),
    summary="Record guidance for an incomplete dossier",
)
def guidance(request: HttpRequest, payload: GuidanceIn):
    """Mẫu 02 at the counter: the dossier is returned for completion; no code, no clock."""
    dossier = services.return_for_completion(
        clerk=request.user,
        procedure_code=payload.procedure_code,
        applicant=payload.applicant.model_dump(exclude_unset=True),
        missing=payload.missing,
        reason=payload.reason,
        ip=_ip(request),
    )
    event = dossier.events.get()
    return Answer(201, _counter_record(dossier, event.data.get("missing", []), event.data.get("reason", "")))


@router.post(
    "/refusals", response=answers({201: CounterRecordOut}, *AT_THE_COUNTER), summary="Record a refusal to receive"
)
def refusal(request: HttpRequest, payload: RefusalIn):
    """Mẫu 03 at the counter: the reason is mandatory; no code, no clock."""
    dossier = services.refuse(
        clerk=request.user,
        procedure_code=payload.procedure_code,
        applicant=payload.applicant.model_dump(exclude_unset=True),
        reason=payload.reason,
        ip=_ip(request),
    )
    event = dossier.events.get()
    return Answer(201, _counter_record(dossier, [], event.data.get("reason", "")))


def _day(value: str | None, field: str) -> date | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    for parse in (date.fromisoformat, lambda v: datetime.strptime(v, "%d/%m/%Y").date()):
        try:
            day = parse(text)
        except ValueError:
            continue
        if not inputs.plausible_day(day):  # 9999-12-31 + one day overflows
            message = inputs.day_message()
            raise ApiError(message, status=422, errors=[{"field": field, "message": message}])
        return day
    message = _("“%(value)s” is not a date: use YYYY-MM-DD.") % {"value": value}
    raise ApiError(message, status=422, errors=[{"field": field, "message": message}])


def _filter_text(value: str | None, field: str) -> str | None:
    """A text filter checked like any input: a NUL would reach PostgreSQL (500), so it is a 422."""
    if value is None:
        return None
    try:
        return clean_text(value, max_length=200)
    except BadText as error:
        message = inputs.message(error)
        raise ApiError(message, status=422, errors=[{"field": field, "message": message}]) from None


@router.get("", response=answers({200: list[DossierItem]}, COMMON, AUTHENTICATED), summary="Search dossiers")
@paginate(Pages)
def search(request: HttpRequest, filters: Query[Filters]):
    """Dossiers the caller may see that match every filter, newest receipt first."""
    # Statuses and timeliness are enums of the schema: an unknown value is its 422 already.
    statuses = [str(status.value) for status in filters.status or []]
    dossiers = selectors.search_dossiers(
        request.user,
        q=_filter_text(filters.q, "q"),
        code=_filter_text(filters.code, "code"),
        id_number=_filter_text(filters.id_number, "id_number"),
        phone=_filter_text(filters.phone, "phone"),
        procedure=_filter_text(filters.procedure, "procedure"),
        status=statuses or None,
        received_from=_day(filters.received_from, "received_from"),
        received_to=_day(filters.received_to, "received_to"),
        timeliness=filters.timeliness.value if filters.timeliness else None,
        coded_only=True,  # guidance/refusal records have no code: they are not dossiers (see DossierItem)
    )
    if "timeliness_now" not in dossiers.query.annotations:
        dossiers = selectors.with_timeliness(dossiers)
    return dossiers


@router.get(
    "/{code}", response=answers({200: DossierOut}, *ON_A_DOSSIER), summary="One dossier with its documents and timeline"
)
def detail(request: HttpRequest, code: params.DossierCode):
    return _detail(request.user, _visible(request, code))


@router.post(
    "/{code}/supplement-request",
    response=answers({200: DossierOut}, *ON_A_DOSSIER, BODY, CONFLICT),
    summary="Ask the applicant for a supplement",
)
def supplement_request(request: HttpRequest, code: params.DossierCode, payload: ReasonIn):
    """The clock pauses until the supplement arrives (with the workflow's step clocks, when it has one)."""
    dossier = _visible(request, code)
    # Other statuses fall through to the dossier service, which answers the lifecycle's own 409.
    if dossier.status == Status.IN_PROCESS and workflow_services.has_run(dossier):
        _through_workflow(
            request.user,
            workflow_services.request_supplement,
            dossier,
            user=request.user,
            reason=payload.reason,
            ip=_ip(request),
        )
    else:
        services.request_supplement(dossier, actor=request.user, reason=payload.reason, ip=_ip(request))
    return _detail(request.user, dossier)


@router.post(
    "/{code}/supplement-received",
    response=answers({200: DossierOut}, *ON_A_DOSSIER, CONFLICT),
    summary="The supplement arrived",
)
def supplement_received(request: HttpRequest, code: params.DossierCode):
    """The clock resumes and the due moment moves by the paused working time (the steps' too)."""
    dossier = _visible(request, code)
    if dossier.status == Status.WAITING_FOR_SUPPLEMENT and workflow_services.has_run(dossier):
        _through_workflow(
            request.user, workflow_services.supplement_received, dossier, actor=request.user, ip=_ip(request)
        )
    else:
        services.supplement_received(dossier, actor=request.user, ip=_ip(request))
    return _detail(request.user, dossier)


def _through_workflow(caller, service, dossier: Dossier, **kwargs) -> None:
    """A status change of a dossier on a workflow goes through the engine, which keeps the step clocks.

    The role check of ``dossiers.services`` comes first, so a monitor gets the same 403 either way.
    """
    if not (caller.has_role(*services.CHANGING_ROLES) or caller.is_superuser):
        raise PermissionDenied(_("Your role cannot change dossiers."))
    try:
        service(dossier, **kwargs)
    except workflow_services.WorkflowConflict as exc:
        raise ApiError(str(exc), status=409) from None
    dossier.refresh_from_db()


@router.post(
    "/{code}/withdraw",
    response=answers({200: DossierOut}, *ON_A_DOSSIER, BODY, CONFLICT),
    summary="The applicant withdraws the dossier",
)
def withdraw(request: HttpRequest, code: params.DossierCode, payload: ReasonIn):
    dossier = services.withdraw(_visible(request, code), actor=request.user, reason=payload.reason, ip=_ip(request))
    return _detail(request.user, dossier)
