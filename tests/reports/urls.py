"""The project's URLs plus the report pages, whether or not motcua/urls.py mounts them yet."""

from django.urls import include, path

from motcua.urls import urlpatterns as project

names = {getattr(p, "namespace", None) for p in project}
urlpatterns = [
    *([path("", include("motcua.reports.urls"))] if "reports" not in names else []),
    *([path("verify/", include("motcua.documents.urls"))] if "documents" not in names else []),
    *project,
]
