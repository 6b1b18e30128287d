"""The citizen portal, mounted at ``/`` by the project; the account pages are django-allauth's at ``/accounts/``."""

from allauth.account.views import LogoutView
from django.urls import path

from motcua.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("signup/", views.signup, name="signup"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("procedures/<str:code>/", views.procedure, name="procedure"),
    path("procedures/<str:code>/templates/<int:pk>/", views.template_download, name="template"),
    path("procedures/<str:code>/apply/", views.start, name="start"),
    path("my/", views.my_list, name="my"),
    path("my/<int:pk>/", views.dossier, name="dossier"),
    path("my/<int:pk>/edit/", views.edit, name="edit"),
    path("my/<int:pk>/check/", views.summary, name="summary"),
    path("my/documents/<int:pk>/", views.document, name="document"),
    path("my/results/<int:pk>/", views.result, name="result"),
    path("lookup/", views.lookup, name="lookup"),
]
