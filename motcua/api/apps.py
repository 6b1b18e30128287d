from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The HTTP API; its models are the staff's API tokens."""

    name = "motcua.api"
    label = "api"
    verbose_name = _("API access")
