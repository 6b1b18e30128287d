"""The clerk's queue of online submissions, mounted at ``online/`` by the project."""

from django.urls import path

from motcua.dossiers import online_views

app_name = "online"

urlpatterns = [
    path("", online_views.queue, name="queue"),
    path("<int:pk>/", online_views.submission, name="submission"),
]
