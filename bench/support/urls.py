"""The project's URLs plus the baseline view, so both run in the same server process."""

from django.urls import include, path

from bench.support.views import baseline

urlpatterns = [
    path("bench/baseline", baseline),
    path("", include("motcua.urls")),
]
