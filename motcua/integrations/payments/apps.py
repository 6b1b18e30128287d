from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """Fee payment through a gateway adapter, and e-receipts (biên lai điện tử)."""

    name = "motcua.integrations.payments"
    label = "payments"
    verbose_name = _("Fees and e-receipts")
    default_auto_field = "django.db.models.BigAutoField"
