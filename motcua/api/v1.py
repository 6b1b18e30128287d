"""The HTTP API, version 1: ``/api/v1/``, OpenAPI at ``/api/v1/openapi.json``.

Each domain contributes a router module here; endpoints stay thin and call selectors and
services of their app.
"""

from datetime import datetime
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
        return super().default(o)


class UnicodeJSONRenderer(JSONRenderer):
    """Vietnamese letters as themselves, not \\u escapes: readable in logs and by partners."""

    encoder_class = LocalTimeEncoder
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
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
