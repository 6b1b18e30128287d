"""The project's URLs plus the verification page, mounted as motcua/urls.py will mount it."""

from django.urls import include, path

from motcua.urls import urlpatterns as project

urlpatterns = [path("verify/", include("motcua.documents.urls")), *project]
