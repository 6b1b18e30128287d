"""One shape for every API error: ``{"detail": "<readable sentence>", "errors": [...]}``.

Clients (the portal, partners, the national platform) show ``detail`` to a person, so it is
a whole sentence in the request's language; ``errors`` lists field-level problems.

Besides ``ApiError`` and request validation, the exceptions the services raise are answered
here once for every router: ``IllegalTransition`` → 409, Django ``ValidationError`` → 422
with its fields, ``PermissionDenied`` → 403, and ninja's authentication and HTTP errors (401
with ``WWW-Authenticate: Bearer``, CSRF 403, 404) in the same shape.
"""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from motcua.api import params
from motcua.dossiers.lifecycle import IllegalTransition


class FieldError(Schema):
    field: str = Field(
        description="The parameter or body field, dotted (applicant.phone, documents.0.file); '' for the whole request."
    )
    message: str = Field(description="A sentence about this field.")


class ErrorOut(Schema):
    """The body of every error answer (4xx) of the API."""

    detail: str = Field(description="A whole sentence for a person, in Vietnamese unless the request asks for English.")
    errors: list[FieldError] = Field(description="Field-level problems; empty when the error is not about a field.")


#: Error statuses that every operation can answer: 400 a request that cannot be read (a body that is not
#: JSON, too many parameters), 422 a parameter or body the schema refuses.
COMMON = (400, 422)
#: Statuses of an operation behind ``token_auth``: 401 no, bad, expired or revoked token (or an expired
#: password); 403 the caller's role or scope does not allow it, or the session's CSRF check failed.
AUTHENTICATED = (401, 403)
#: Statuses of an operation that reads a body: 413 too large.
BODY = (413,)
#: 404 no such object for the caller (the same answer as "not yours").
NOT_FOUND = (404,)
#: 409 the object's state does not allow it (someone else moved it first, wrong status, duplicate).
CONFLICT = (409,)


def answers(success: dict[int, Any], *groups: Iterable[int]) -> dict[int, Any]:
    """The ``response=`` of an operation: its success answers, and each error status it can answer
    (from ``groups`` such as ``COMMON``, ``AUTHENTICATED``) with the ``ErrorOut`` schema."""
    codes = sorted({code for group in groups for code in group})
    return {**success, **dict.fromkeys(codes, ErrorOut)}


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


def keep_values(error: NinjaValidationError, error_contexts: list) -> NinjaValidationError:
    """ninja drops the refused value from validation errors; put it back as ``value`` for the sentence."""
    values = [err.get("input") for context in error_contexts for err in context.pydantic_validation_error.errors()]
    for err, value in zip(error.errors, values, strict=False):
        err["value"] = value if isinstance(value, str | int | float) else ""
    return error


def _quoted(value: object, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field_name(err: dict) -> str:
    loc = list(err.get("loc", ()))
    if loc and loc[0] in ("query", "path", "header", "cookie"):
        # A parameter by its name: not the schema grouping it, nor the index of a repeated one.
        names = [str(part) for part in loc[1:] if not isinstance(part, int)]
        return names[-1] if names else ""
    return ".".join(str(part) for part in loc if part != "body")


def readable(err: dict) -> str:
    """A pydantic error as a sentence in the request's language (pydantic's own are English)."""
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        message = params.pattern_message(str(ctx.get("pattern", "")), _quoted(err.get("value", "")))
        return message or _("The value does not have the expected form.")
    if kind == "value_error":  # our validators raise ValueError with the sentence itself
        return str(ctx.get("error") or err.get("msg", "")).removeprefix("Value error, ")
    sentences = {
        "missing": _("This field is required."),
        "string_type": _("Enter a text."),
        "string_unicode": _("The text is not valid Unicode."),
        "string_too_long": _("At most %(max_length)s characters."),
        "string_too_short": _("At least %(min_length)s characters."),
        "int_type": _("Enter a whole number."),
        "int_parsing": _("Enter a whole number (digits 0–9)."),
        "int_from_float": _("Enter a whole number."),
        "int_parsing_size": _("The number is too large."),
        "float_type": _("Enter a number."),
        "float_parsing": _("Enter a number."),
        "bool_type": _("Enter true or false."),
        "bool_parsing": _("Enter true or false."),
        "greater_than_equal": _("Enter a number of at least %(ge)s."),
        "greater_than": _("Enter a number greater than %(gt)s."),
        "less_than_equal": _("Enter a number of at most %(le)s."),
        "less_than": _("Enter a number less than %(lt)s."),
        "enum": _("Use one of: %(expected)s."),
        "literal_error": _("Use one of: %(expected)s."),
        "dict_type": _("Send a JSON object."),
        "model_type": _("Send a JSON object."),
        "model_attributes_type": _("Send a JSON object."),
        "list_type": _("Send a list."),
        "json_invalid": _("The request body is not valid JSON."),
        "json_type": _("The request body is not valid JSON."),
        "extra_forbidden": _("Unknown field."),
        "datetime_type": _("Enter a date and time such as 2026-03-02T09:00:00+07:00."),
        "datetime_parsing": _("Enter a date and time such as 2026-03-02T09:00:00+07:00."),
        "datetime_from_date_parsing": _("Enter a date and time such as 2026-03-02T09:00:00+07:00."),
        "date_type": _("Enter a date such as 2026-03-02."),
        "date_parsing": _("Enter a date such as 2026-03-02."),
        "date_from_datetime_parsing": _("Enter a date such as 2026-03-02."),
    }
    sentence = sentences.get(kind)
    if sentence is None:
        return _("This value is not valid.")
    try:
        values = {key: str(value).replace("' or '", "', '") for key, value in ctx.items()}  # pydantic's English "or"
        return sentence % values if "%(" in sentence else sentence
    except (KeyError, ValueError, TypeError):
        return _("This value is not valid.")


def install(api: NinjaAPI) -> None:
    def answer(request: HttpRequest, detail: str, status: int, errors: list[dict] | None = None) -> HttpResponse:
        return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)

    @api.exception_handler(ApiError)
    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return answer(request, exc.detail, exc.status, exc.errors)

    @api.exception_handler(NinjaValidationError)
    def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [{"field": _field_name(err), "message": readable(err)} for err in exc.errors]
        return answer(request, validation_detail(errors), 422, errors)

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
        message = str(exc.message)
        if exc.status_code == 400 and message.startswith("Cannot parse request body"):  # ninja's own, in English
            message = _("The request body is not valid JSON.")
        return answer(request, message, exc.status_code)

    @api.exception_handler(SuspiciousOperation)
    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        # Too many parameters or fields, a malformed multipart body: Django refuses to read it.
        return answer(request, _("The request cannot be read: it has too many parameters or a malformed body."), 400)

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return answer(request, _("Not found."), 404)

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return answer(request, _("The request is too large: send smaller files."), 413)
