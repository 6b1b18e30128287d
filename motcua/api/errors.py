"""One shape for every API error: ``{"detail": "<readable sentence>", "errors": [...]}``.

Clients (the portal, partners, the national platform) show ``detail`` to a person, so it is
a whole sentence in the request's language; ``errors`` lists field-level problems.
"""

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError


class ApiError(Exception):
    """Raise from an endpoint to answer ``status`` with a readable ``detail``."""

    def __init__(self, detail: str, status: int = 400, errors: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.errors = errors or []


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return api.create_response(request, {"detail": exc.detail, "errors": exc.errors}, status=exc.status)

    @api.exception_handler(NinjaValidationError)
    def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path")),
                "message": err.get("msg", ""),
            }
            for err in exc.errors
        ]
        return api.create_response(request, {"detail": _("The request is not valid."), "errors": errors}, status=422)
