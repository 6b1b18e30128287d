"""The HTTP API, version 1: ``/api/v1/``, OpenAPI at ``/api/v1/openapi.json``.

Each domain contributes a router module here; endpoints stay thin and call selectors and
services of their app.
"""

from ninja import NinjaAPI

from motcua.api import errors, procedures, worktime

api = NinjaAPI(
    title="Một cửa API",
    version="1",
    description="Procedures, working-time calendar and dossiers of the one-stop system.",
    urls_namespace="api-v1",
)
errors.install(api)
api.add_router("/procedures", procedures.router, tags=["procedures"])
api.add_router("/worktime", worktime.router, tags=["worktime"])
