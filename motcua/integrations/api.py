"""The national portal's inbound endpoint: ``POST /api/v1/national/dossiers``.

The portal (or the provincial platform) sends one dossier submitted there as a JSON object with
the fields of integrations.md §1.3 and ``Authorization: Bearer <token>``, the token being the
value of the environment variable the desk's configuration names. Answers: 201 with our id,
401 wrong credentials, 400 malformed JSON, 422 invalid dossier or unknown procedure, 409 a
national dossier already received — always the API's one error shape, nothing half-created.

Mounted in ``motcua/api/v1.py`` with ``api.add_router("/national", integrations_api.router)``.
"""

import json
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.security import HttpBearer

from motcua.api.errors import BODY, COMMON, CONFLICT, ApiError, answers
from motcua.integrations.models import NationalInboundLog
from motcua.integrations.national import mapping, services


class NationalDossierOut(Schema):
    id: int
    national_code: str
    status: str
    receiving_agency: str
    competent_agency: str


class NationalInboundToken(HttpBearer):
    """``Authorization: Bearer <token>``, the token being the value of the environment variable the desk's
    configuration names (``MOTCUA_NATIONAL_INBOUND_TOKEN``); a wrong or missing one is 401."""

    def __call__(self, request: HttpRequest) -> Any:
        try:
            services.check_inbound_token(request.headers.get("Authorization"))
        except services.InboundRefused as refused:
            raise ApiError(refused.detail, refused.status, refused.errors) from None
        return True

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover - __call__ decides
        return None


_TEXT = {"type": "string"}
#: The dossier the portal sends (integrations.md §1.3), with the default field names (the desk may rename
#: them); the service checks it and answers 422 with the field when something is missing or malformed.
NATIONAL_DOSSIER = {
    "type": "object",
    "required": [mapping.INBOUND_FIELDS["national_code"], mapping.INBOUND_FIELDS["procedure_code"]],
    "properties": {
        mapping.INBOUND_FIELDS["national_code"]: {
            **_TEXT,
            "maxLength": mapping.MAX_NATIONAL_CODE,
            "description": "The dossier's code on the national portal.",
        },
        mapping.INBOUND_FIELDS["procedure_code"]: {**_TEXT, "description": "Procedure code, e.g. 1.001193."},
        mapping.INBOUND_FIELDS["applicant_name"]: _TEXT,
        mapping.INBOUND_FIELDS["applicant_kind"]: {"enum": ["1", "2"], "description": "1 a person, 2 an organisation."},
        mapping.INBOUND_FIELDS["applicant_id"]: {**_TEXT, "description": "CCCD (12 digits) or tax code."},
        mapping.INBOUND_FIELDS["email"]: _TEXT,
        mapping.INBOUND_FIELDS["phone"]: _TEXT,
        mapping.INBOUND_FIELDS["address"]: _TEXT,
        mapping.INBOUND_FIELDS["summary"]: _TEXT,
        mapping.INBOUND_FIELDS["submitted_at"]: {**_TEXT, "description": "yyyyMMddHHmmss, Vietnam time."},
        mapping.INBOUND_FIELDS["received_at"]: {**_TEXT, "description": "yyyyMMddHHmmss, Vietnam time."},
        mapping.INBOUND_FIELDS["agency_code"]: {**_TEXT, "description": "Code of the receiving agency."},
        mapping.INBOUND_FIELDS["documents"]: {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["TenTepDinhKem"],
                "properties": {"TenTepDinhKem": _TEXT, "DuongDanTaiTepTin": _TEXT},
            },
        },
        mapping.INBOUND_FIELDS["form_data"]: {"type": "object", "description": "Fields of the procedure's form."},
    },
}


def build_router() -> Router:
    """A fresh router (a ninja router belongs to one API; tests mount their own)."""
    router = Router(tags=["national portal"])

    @router.post(
        "/dossiers",
        auth=NationalInboundToken(),
        response=answers({201: NationalDossierOut}, COMMON, (401,), BODY, CONFLICT),
        summary="Receive a dossier submitted on the national portal",
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": NATIONAL_DOSSIER}}}
        },
    )
    def receive_dossier(request: HttpRequest):
        try:
            payload = json.loads(request.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested absurdly deep
            raise ApiError(_("The request body is not valid JSON."), 400) from None
        try:
            dossier = services.receive_national_dossier(
                payload, channel=NationalInboundLog.Channel.PUSH, ip=request.META.get("REMOTE_ADDR")
            )
        except services.InboundRefused as refused:
            raise ApiError(refused.detail, refused.status, refused.errors) from None
        return Status(
            201,
            {
                "id": dossier.pk,
                "national_code": dossier.national_link.national_code,
                "status": dossier.status,
                "receiving_agency": dossier.receiving_agency.code,
                "competent_agency": dossier.competent_agency.code,
            },
        )

    return router


router = build_router()
