"""The project's URLs, plus the national router under /api/v1/national/ until v1.py mounts it."""

from django.urls import path
from ninja import NinjaAPI

from motcua.api import errors
from motcua.api.v1 import UnicodeJSONRenderer
from motcua.api.v1 import api as v1
from motcua.integrations import api as integrations_api
from motcua.urls import urlpatterns as project_urlpatterns

MOUNTED = any(prefix.strip("/") == "national" for prefix, _router in v1._routers)

if MOUNTED:
    urlpatterns = project_urlpatterns
else:
    national_api = NinjaAPI(renderer=UnicodeJSONRenderer(), urls_namespace="national-test", docs_url=None)
    errors.install(national_api)
    national_api.add_router("/national", integrations_api.build_router())
    urlpatterns = [path("api/v1/", national_api.urls), *project_urlpatterns]
