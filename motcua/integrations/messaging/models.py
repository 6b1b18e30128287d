"""Message templates per event and channel, the outgoing messages, every attempt, and the Zalo token."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from motcua.dossiers.models import Dossier


class Event(models.TextChoices):
    RECEIVED = "received", _("dossier received")
    COMPLETION_REQUESTED = "completion_requested", _("completion requested")
    FEE_REQUESTED = "fee_requested", _("fee requested")
    RESULT_READY = "result_ready", _("result ready")
    APOLOGY = "apology", _("apology with a new date")
    RETURNED = "returned", _("result returned")


class Channel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("SMS")
    ZALO = "zalo", _("Zalo")


class MessageTemplate(models.Model):
    """Edited in the desk; Django template syntax, rendered in the documents sandbox with plain values."""

    event = models.CharField(_("event"), max_length=30, choices=Event.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    subject = models.CharField(_("subject"), max_length=255, blank=True, help_text=_("E-mail only."))
    body = models.TextField(_("text"))
    zns_template_id = models.CharField(
        _("ZNS template id"), max_length=30, blank=True, help_text=_("The template approved by Zalo.")
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["event", "channel"]
        constraints = [models.UniqueConstraint(fields=["event", "channel"], name="messaging_one_template")]

    def __str__(self) -> str:
        return f"{self.get_event_display()} — {self.get_channel_display()}"


class Outgoing(models.Model):
    """One message to one applicant on one channel; the idempotency key makes a repeat a no-op."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        FELL_BACK = "fell_back", _("sent by SMS instead")

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="messages")
    event = models.CharField(_("event"), max_length=30, choices=Event.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=255)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"))
    params = models.JSONField(_("template data"), default=dict, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    provider_id = models.CharField(_("provider message id"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient}: {self.get_event_display()}"


class Attempt(models.Model):
    """Every try and its outcome, for the dossier's message log."""

    outgoing = models.ForeignKey(Outgoing, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    ok = models.BooleanField(_("succeeded"))
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {'OK' if self.ok else self.detail}"


class ZaloToken(models.Model):
    """The OA's token pair; the refresh token is single-use, so it is rotated under a row lock."""

    app_id = models.CharField(_("app id"), max_length=40, unique=True)
    access_token = models.TextField(_("access token"), blank=True)
    refresh_token = models.TextField(_("refresh token"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Zalo token")
        verbose_name_plural = _("Zalo tokens")

    def __str__(self) -> str:
        return self.app_id
