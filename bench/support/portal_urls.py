"""The project's URLs plus the portal look-up baseline, so both run in the same server process."""

from django.urls import include, path

from bench.support.portal_views import lookup_baseline

urlpatterns = [
    path("bench/lookup-baseline", lookup_baseline),
    path("", include("motcua.urls")),
]
