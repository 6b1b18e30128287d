"""Report pages for staff (mounted at ``reports/``) and the public statistics page (``statistics/``)."""

from django.urls import path

from motcua.reports import views

app_name = "reports"

urlpatterns = [
    path("reports/", views.dashboard, name="dashboard"),
    path("reports/ii06a/", views.form_ii06a, name="ii06a"),
    path("reports/dossiers/", views.dossier_list, name="dossiers"),
    path("reports/late/", views.late_report, name="late"),
    path("reports/steps/", views.step_report, name="steps"),
    path("reports/exports/", views.export_request, name="export-request"),
    path("reports/exports/<int:pk>/", views.export_detail, name="export"),
    path("reports/exports/<int:pk>/sign/", views.export_sign, name="export-sign"),
    path("reports/exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("statistics/", views.public_statistics, name="public"),
]
