"""The national portal's inbound endpoint: ``POST /api/v1/national/dossiers``.

The portal (or the provincial platform) sends one dossier submitted there as a JSON object with
the fields of integrations.md §1.3 and ``Authorization: Bearer <token>``, the token being the
value of the environment variable the desk's configuration names. Answers: 201 with our id,
401 wrong credentials, 400 malformed JSON, 422 invalid dossier or unknown procedure, 409 a
national dossier already received — always the API's one error shape, nothing half-created.

Mounted in ``motcua/api/v1.py`` with ``api.add_router("/national", integrations_api.router)``.
"""

import json

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from motcua.api.errors import ApiError
from motcua.integrations.models import NationalInboundLog
from motcua.integrations.national import services


class NationalDossierOut(Schema):
    id: int
    national_code: str
    status: str
    receiving_agency: str
    competent_agency: str


class ErrorOut(Schema):
    detail: str
    errors: list[dict]


def build_router() -> Router:
    """A fresh router (a ninja router belongs to one API; tests mount their own)."""
    router = Router(tags=["national portal"])

    @router.post(
        "/dossiers",
        auth=None,
        response={201: NationalDossierOut, 400: ErrorOut, 401: ErrorOut, 409: ErrorOut, 422: ErrorOut},
        summary="Receive a dossier submitted on the national portal",
    )
    def receive_dossier(request: HttpRequest):
        try:
            services.check_inbound_token(request.headers.get("Authorization"))
        except services.InboundRefused as refused:
            raise ApiError(refused.detail, refused.status, refused.errors) from None
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
