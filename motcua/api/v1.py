"""The HTTP API, version 1: ``/api/v1/``, OpenAPI at ``/api/v1/openapi.json``.

Each domain contributes a router module here; endpoints stay thin and call selectors and
services of their app.
"""

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from ninja import NinjaAPI
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from motcua.api import dossiers, errors, procedures, workflow, worktime
from motcua.integrations import api as integrations_api
from motcua.integrations.payments import api as payments_api


class LocalTimeEncoder(NinjaJSONEncoder):
    """Moments in Vietnam time (+07:00), as every screen and form shows them (invariant 4)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime) and timezone.is_aware(o):
            o = timezone.localtime(o)
            offset = o.utcoffset()
            if offset is not None and offset.seconds % 60:
                # Before 1906 Vietnam time was +07:06:30, which RFC 3339 cannot write: such a moment goes in UTC.
                o = o.astimezone(UTC)
        return super().default(o)


class UnicodeJSONRenderer(JSONRenderer):
    """Vietnamese letters as themselves, not \\u escapes: readable in logs and by partners."""

    encoder_class = LocalTimeEncoder
    json_dumps_params = {"ensure_ascii": False}


class MotcuaAPI(NinjaAPI):
    """The API: readable validation errors, and an OpenAPI document that says what the server accepts."""

    def validation_error_from_error_contexts(self, error_contexts: list):
        return errors.keep_values(super().validation_error_from_error_contexts(error_contexts), error_contexts)

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> dict:
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    _absent_not_null(parameter)
        return schema


def _absent_not_null(parameter: dict) -> None:
    """An optional parameter is left out, never "null": drop pydantic's ``{"type": "null"}`` choice."""
    if parameter.get("in") not in ("query", "header"):
        return
    schema = parameter.get("schema", {})
    choices = schema.get("anyOf")
    if not choices or {"type": "null"} not in choices:
        return
    rest = [choice for choice in choices if choice != {"type": "null"}]
    del schema["anyOf"]
    if len(rest) == 1:
        schema.update(rest[0])
    else:
        schema["anyOf"] = rest
    if schema.get("default", ...) is None:
        del schema["default"]


api = MotcuaAPI(
    renderer=UnicodeJSONRenderer(),
    title="Một cửa API",
    version="1",
    description="Procedures, working-time calendar and dossiers of the one-stop system.",
    urls_namespace="api-v1",
)
errors.install(api)
api.add_router("/procedures", procedures.router, tags=["procedures"])
api.add_router("/worktime", worktime.router, tags=["worktime"])
api.add_router("/dossiers", dossiers.router, tags=["dossiers"])
api.add_router("", workflow.router, tags=["workflow"])
api.add_router("/national", integrations_api.router, tags=["national portal"])
api.add_router("/payments", payments_api.router, tags=["payments"])
