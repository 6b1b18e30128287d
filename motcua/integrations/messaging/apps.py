from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    """Notices to applicants by e-mail, SMS and Zalo ZNS, sent by tasks after the commit."""

    name = "motcua.integrations.messaging"
    label = "messaging"
    verbose_name = _("Messages to applicants")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from motcua.integrations.messaging import signals

        signals.connect()
