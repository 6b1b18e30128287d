from django.contrib import admin
from django.urls import include, path

from motcua.api import token_views
from motcua.api.v1 import api
from motcua.dossiers import views as dossier_views

# Uploaded files are never served from MEDIA_URL: attachments go through the permission-checked
# view of the dossiers app (dossiers/documents/<id>/), in development too.
urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("motcua.dossiers.urls")),
    path("", include("motcua.workflow.urls")),
    path("online/", include("motcua.dossiers.online_urls")),
    path("verify/", include("motcua.documents.urls")),
    path("", include("motcua.reports.urls")),
    path("payments/", include("motcua.integrations.payments.urls")),
    # Staff start here (the desk, the counter or the search); "/" is the citizen portal.
    path("staff/", dossier_views.home, name="home"),
    path("staff/api-tokens/", token_views.my_tokens, name="my-api-tokens"),  # each staff member's own tokens
    path("accounts/", include("allauth.urls")),  # citizen accounts (django-allauth); staff log in at /staff/login/
    path("", include("motcua.portal.urls")),
]
