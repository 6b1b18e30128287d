"""Staff pages of the workflow: the inbox, the actions on a dossier, reassigning, results to hand over."""

from django.urls import path

from motcua.workflow import views

app_name = "workflow"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/dossiers/<str:code>/act/", views.act, name="act"),
    path("inbox/steps/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("inbox/documents/<int:pk>/", views.issued_document, name="issued-document"),
    path("counter/results/", views.results, name="results"),
    path("counter/results/<str:code>/hand-over/", views.hand_over, name="hand-over"),
]
