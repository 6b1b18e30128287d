"""One shape for every API error: ``{"detail": "<readable sentence>", "errors": [...]}``.

Clients (the portal, partners, the national platform) show ``detail`` to a person, so it is
a whole sentence in the request's language; ``errors`` lists field-level problems.

Besides ``ApiError`` and request validation, the exceptions the services raise are answered
here once for every router: ``IllegalTransition`` → 409, Django ``ValidationError`` → 422
with its fields, ``PermissionDenied`` → 403, and ninja's authentication and HTTP errors (401
with ``WWW-Authenticate: Bearer``, CSRF 403, 404) in the same shape.
"""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from motcua.dossiers.lifecycle import IllegalTransition


class ApiError(Exception):
    """Raise from an endpoint to answer ``status`` with a readable ``detail``."""

    def __init__(self, detail: str, status: int = 400, errors: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.errors = errors or []


def field_errors(exc: DjangoValidationError) -> list[dict]:
    """``[{"field", "message"}]`` of a Django ValidationError; non-field errors have field ''."""
    if hasattr(exc, "error_dict"):
        return [
            {"field": "" if field == NON_FIELD_ERRORS else field, "message": str(message)}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"field": "", "message": str(message)} for message in exc.messages]


def validation_detail(errors: list[dict]) -> str:
    """The readable sentence of a 422: the messages themselves, each already a sentence."""
    messages = list(dict.fromkeys(e["message"] for e in errors if e["message"]))
    if not messages:
        return _("The request is not valid.")
    return " ".join(messages)


def install(api: NinjaAPI) -> None:
    def answer(request: HttpRequest, detail: str, status: int, errors: list[dict] | None = None) -> HttpResponse:
        return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)

    @api.exception_handler(ApiError)
    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return answer(request, exc.detail, exc.status, exc.errors)

    @api.exception_handler(NinjaValidationError)
    def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path")),
                "message": err.get("msg", ""),
            }
            for err in exc.errors
        ]
        return answer(request, _("The request is not valid."), 422, errors)

    @api.exception_handler(DjangoValidationError)
    def on_django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        errors = field_errors(exc)
        return answer(request, validation_detail(errors), 422, errors)

    @api.exception_handler(IllegalTransition)
    def on_illegal_transition(request: HttpRequest, exc: IllegalTransition) -> HttpResponse:
        return answer(request, str(exc), 409)

    @api.exception_handler(PermissionDenied)
    def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return answer(request, str(exc) or _("You are not allowed to do this."), 403)

    @api.exception_handler(AuthenticationError)
    def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        detail = exc.message
        if detail == "Unauthorized":  # ninja's own: no credentials were presented at all
            detail = _("Authentication is required: send an API token as “Authorization: Bearer <token>”.")
        response = answer(request, str(detail), exc.status_code)
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return answer(request, str(exc.message), exc.status_code)

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return answer(request, _("Not found."), 404)

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return answer(request, _("The request is too large: send smaller files."), 413)
