"""Mounted at ``verify/`` by the project: ``path("verify/", include("motcua.documents.urls"))``."""

from django.urls import path, re_path

from motcua.documents import views

app_name = "documents"

TOKEN = r"(?P<token>[A-Za-z0-9_-]{8,43})"

urlpatterns = [
    path("", views.verify_upload, name="verify"),
    path("api/", views.verify_upload_json, name="verify-json"),
    re_path(rf"^{TOKEN}/$", views.verify_token, name="verify-token"),
    re_path(rf"^{TOKEN}/json/$", views.verify_token_json, name="verify-token-json"),
]
