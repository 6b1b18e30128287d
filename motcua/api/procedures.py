"""The public procedure catalogue: list with filters and the detail of one procedure.

No authentication: the catalogue is public information (the portal and partners show it).
Endpoints stay thin; queries are ``motcua.catalog.selectors``.
"""

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import WithJsonSchema

from motcua.api import params
from motcua.api.errors import COMMON, NOT_FOUND, ApiError, answers
from motcua.api.pagination import Pages
from motcua.catalog import codes, messages, selectors
from motcua.catalog.models import ProcedureVersion

router = Router()
#: An agency code, or nothing (no filter).
AGENCY_OR_EMPTY = params.register_message(
    f"^({params.AGENCY_CODE[1:-1]})?$", lambda value: params.pattern_message(params.AGENCY_CODE, value) or ""
)


class OnlineLevel(StrEnum):
    full = "full"
    partial = "partial"
    none = "none"


class Filters(Schema):
    q: params.text(200) | None = Field(
        None, description="Words of the name or the code; diacritics and case are ignored."
    )
    field: params.text(50, params.CATALOGUE_CODE) | None = Field(None, description="Code of the field of activity.")
    level: params.text(50, params.CATALOGUE_CODE) | None = Field(
        None, description="Administrative level code: national, province, district, commune."
    )
    agency: params.text(13, AGENCY_OR_EMPTY) | None = Field(
        None, description="Identification code of an implementing agency, e.g. 000.00.24.H62."
    )
    online_level: OnlineLevel | None = Field(None, description="full (toàn trình), partial (một phần) or none.")


class CodeName(Schema):
    code: str
    name: str


class ProcedureItem(Schema):
    code: str
    local_code: str | None = Field(None, description="The province's form of the code, e.g. 1.001193.000.00.00.H62.")
    name: str
    version: int
    field: CodeName | None
    levels: list[CodeName]
    online_level: str
    online_level_label: str
    time_kind: str
    resolution_days: float

    # Resolvers read a ProcedureVersion, so the paginator can hand over a queryset slice.
    @staticmethod
    def resolve_code(obj: ProcedureVersion) -> str:
        return obj.procedure.code

    @staticmethod
    def resolve_local_code(obj: ProcedureVersion) -> str | None:
        return _local_code(obj)

    @staticmethod
    def resolve_version(obj: ProcedureVersion) -> int:
        return obj.number

    @staticmethod
    def resolve_levels(obj: ProcedureVersion) -> list:
        return list(obj.levels.all())

    @staticmethod
    def resolve_online_level_label(obj: ProcedureVersion) -> str:
        return str(obj.get_online_level_display())


class Document(Schema):
    order: int
    name: str
    originals: int
    copies: int
    requirement: str
    condition: str
    template_url: str | None


class Fee(Schema):
    name: str
    kind: str
    kind_label: str
    amount: int = Field(description="In VND.")
    exemption: str


class FormFieldOut(Schema):
    name: str
    label: str
    type: str
    required: bool
    choices: list[str]
    help_text: str


class TimeLimit(Schema):
    time_kind: str
    time_kind_label: str
    resolution_days: float = Field(description="Working days, in steps of half a day; 0 when immediate.")
    same_day_cutoff: str | None = Field(None, description="HH:MM; a same-day dossier received later is due next day.")


class ProcedureDetail(Schema):
    code: str
    local_code: str | None
    name: str
    version: int
    published_at: datetime | None
    field: CodeName | None
    levels: list[CodeName]
    agencies: list[CodeName]
    online_level: str
    online_level_label: str
    time: TimeLimit
    legal_basis: str
    result_type: str
    description: str
    requirements: str
    documents: list[Document]
    fees: list[Fee]
    form_schema: list[FormFieldOut]


def _code_name(obj) -> dict | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def _local_code(version: ProcedureVersion) -> str | None:
    return version.local_code()


@router.get("", response=answers({200: list[ProcedureItem]}, COMMON), summary="List and search procedures")
@paginate(Pages)
def list_procedures(request: HttpRequest, filters: Query[Filters]):
    return selectors.search_procedures(
        q=filters.q,
        field=filters.field,
        level=filters.level,
        agency=filters.agency,
        online_level=filters.online_level.value if filters.online_level else None,
    ).prefetch_related("agencies")


@router.get(
    "/{code}",
    response=answers({200: ProcedureDetail}, (400,), NOT_FOUND),
    summary="One procedure's current version",
    description="`code` is the national code (1.001193) or the province's local form (1.001193.000.00.00.H62); "
    "another form is answered 400, an unknown code 404.",
)
def get_procedure(
    request: HttpRequest,
    code: Annotated[str, WithJsonSchema({"type": "string", "pattern": params.PROCEDURE_CODE})],
):
    # The pattern is checked here, not by the schema's validation, to answer 400 with the catalogue's words.
    if not re.fullmatch(params.PROCEDURE_CODE, code) or codes.national_code(code) is None:
        raise ApiError(
            str(messages.NOT_A_PROCEDURE_CODE) % {"code": code},
            status=400,
            errors=[{"field": "code", "message": str(messages.INVALID_PROCEDURE_CODE)}],
        )
    version = selectors.get_procedure(code)
    if version is None:
        raise ApiError(str(messages.NO_PUBLISHED_PROCEDURE) % {"code": code}, status=404)
    return {
        "code": version.procedure.code,
        "local_code": _local_code(version),
        "name": version.name,
        "version": version.number,
        "field": _code_name(version.field),
        "levels": [_code_name(level) for level in version.levels.all()],
        "online_level": version.online_level,
        "online_level_label": str(version.get_online_level_display()),
        "published_at": version.published_at,
        "agencies": [_code_name(agency) for agency in version.agencies.all()],
        "time": {
            "time_kind": version.time_kind,
            "time_kind_label": str(version.get_time_kind_display()),
            "resolution_days": float(version.resolution_days),
            "same_day_cutoff": version.same_day_cutoff.strftime("%H:%M") if version.same_day_cutoff else None,
        },
        "legal_basis": version.legal_basis,
        "result_type": version.result_type,
        "description": version.description,
        "requirements": version.requirements,
        "documents": [
            {
                "order": c.order,
                "name": c.name,
                "originals": c.originals,
                "copies": c.copies,
                "requirement": c.requirement,
                "condition": c.condition_note,
                "template_url": request.build_absolute_uri(c.template.url) if c.template else None,
            }
            for c in version.components.all()
        ],
        "fees": [
            {
                "name": f.name,
                "kind": f.kind,
                "kind_label": str(f.get_kind_display()),
                "amount": int(f.amount),
                "exemption": f.exemption_note,
            }
            for f in version.fees.all()
        ],
        "form_schema": [
            {
                "name": f.name,
                "label": f.label,
                "type": f.type,
                "required": f.required,
                "choices": f.choice_list,
                "help_text": f.help_text,
            }
            for f in version.form_fields.all()
        ],
    }
