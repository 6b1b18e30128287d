"""The project's own app (checks, owner-role migrate/flush) and configurations that only rename
third-party apps for the desk's sidebar."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class ProjectConfig(AppConfig):
    name = "motcua"
    label = "motcua"
    verbose_name = _("Một cửa")

    def ready(self) -> None:
        from motcua import checks

        checks.register()


class BackgroundTasksConfig(TasksAppConfig):
    verbose_name = _("Background tasks")
