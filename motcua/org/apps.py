import axes.apps
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "motcua.org"
    label = "org"
    verbose_name = _("Organisation")


class LoginRecordsConfig(axes.apps.AppConfig):
    """django-axes (the staff log-in limits), named for the desk's sidebar."""

    default = False
    verbose_name = _("Log-in records")
