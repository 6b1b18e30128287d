"""Fee requests, payment attempts, gateway notifications and e-receipts."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from motcua.dossiers.models import Dossier
from motcua.org.models import Agency


class CollectingUnit(models.Model):
    """The unit that collects fees for an agency and issues its receipts (its tax code, receipt symbols)."""

    agency = models.OneToOneField(Agency, on_delete=models.CASCADE, related_name="collecting_unit")
    name = models.CharField(_("collecting unit"), max_length=255)
    tax_code = models.CharField(_("tax code"), max_length=14)
    address = models.CharField(_("address"), max_length=500, blank=True)
    form_symbol = models.CharField(_("form symbol"), max_length=20, default="01BLP0-001")
    series = models.CharField(_("series"), max_length=20, default="BL-26E")

    class Meta:
        verbose_name = _("collecting unit")
        verbose_name_plural = _("collecting units")

    def __str__(self) -> str:
        return f"{self.name} ({self.tax_code})"


class FeeRequest(models.Model):
    """What the applicant of a dossier is asked to pay, with the lines copied from the procedure version."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        PAID = "paid", _("paid")
        CANCELLED = "cancelled", _("cancelled")
        FAILED = "failed", _("failed")

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="fee_requests")
    lines = models.JSONField(_("fee lines"), default=list)
    amount = models.DecimalField(_("amount (VND)"), max_digits=14, decimal_places=0)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("fee request")
        verbose_name_plural = _("fee requests")
        constraints = [
            models.UniqueConstraint(
                fields=["dossier"], condition=Q(status="requested"), name="payments_one_open_fee_request"
            ),
            models.CheckConstraint(condition=Q(amount__gt=Decimal(0)), name="payments_fee_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier} — {self.amount} VND"


class CounterMethod(models.TextChoices):
    """How a fee is paid at the one-stop counter (cash, a bank transfer, a card at the desk's POS)."""

    CASH = "cash", _("Cash")
    TRANSFER = "transfer", _("Bank transfer")
    CARD = "card", _("Card (POS at the desk)")


#: The payment method as printed on the e-receipt. The receipt is an official Vietnamese document whose
#: template is written in Vietnamese, so its wording does not follow the interface language.
RECEIPT_METHOD = {
    CounterMethod.CASH: "Tiền mặt",
    CounterMethod.TRANSFER: "Chuyển khoản",
    CounterMethod.CARD: "Thẻ",
}


class Payment(models.Model):
    """One attempt to pay a fee request: through the gateway (a failed attempt can be followed by another),
    or collected at the counter by a clerk (born paid, with the method and who collected it)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PAID = "paid", _("paid")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("expired")

    class Channel(models.TextChoices):
        ONLINE = "online", _("paid online")
        COUNTER = "counter", _("paid at the counter")

    fee_request = models.ForeignKey(FeeRequest, on_delete=models.PROTECT, related_name="payments")
    txn_ref = models.CharField(_("transaction reference"), max_length=40, unique=True)
    gateway = models.CharField(_("gateway"), max_length=30)
    amount = models.DecimalField(_("amount (VND)"), max_digits=14, decimal_places=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    gateway_trans_id = models.CharField(_("gateway transaction"), max_length=64, blank=True)
    method = models.CharField(_("payment method"), max_length=40, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("collected by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["fee_request"], condition=Q(status="paid"), name="payments_one_paid_attempt"
            ),
        ]

    def __str__(self) -> str:
        return self.txn_ref


class PaymentNotification(models.Model):
    """Every server-to-server notice as received (raw), with what we did with it: the audit trail."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("applied")
        DUPLICATE = "duplicate", _("duplicate, ignored")
        STALE = "stale", _("out of order, ignored")
        REJECTED = "rejected", _("rejected")

    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="notices")
    raw = models.JSONField(_("payload"))
    remote_address = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    detail = models.CharField(_("detail"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.outcome}"


class ReceiptSeries(models.Model):
    """Running numbers per (collecting unit, form symbol, series): locked while a receipt is issued."""

    unit = models.ForeignKey(CollectingUnit, on_delete=models.PROTECT, related_name="+")
    form_symbol = models.CharField(max_length=20)
    series = models.CharField(max_length=20)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "form_symbol", "series"], name="payments_receipt_series_unique")
        ]

    def __str__(self) -> str:
        return f"{self.form_symbol} {self.series}: {self.last_number}"


class Receipt(models.Model):
    """An e-receipt for fees and charges (Nghị định 11/2020, 123/2020): cancelled receipts keep their number."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("issued")
        CANCELLED = "cancelled", _("cancelled")

    fee_request = models.ForeignKey(FeeRequest, on_delete=models.PROTECT, related_name="receipts")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="receipts")
    unit = models.ForeignKey(CollectingUnit, on_delete=models.PROTECT, related_name="receipts")
    form_symbol = models.CharField(_("form symbol"), max_length=20)
    series = models.CharField(_("series"), max_length=20)
    number = models.PositiveIntegerField(_("number"))
    unit_name = models.CharField(_("collecting unit"), max_length=255)
    tax_code = models.CharField(_("tax code"), max_length=14)
    payer_name = models.CharField(_("payer"), max_length=255)
    payer_address = models.CharField(_("address"), max_length=500, blank=True)
    lines = models.JSONField(_("fee lines"))
    total = models.DecimalField(_("total (VND)"), max_digits=14, decimal_places=0)
    method = models.CharField(_("payment method"), max_length=40)
    issued_at = models.DateTimeField(_("issued at"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ISSUED)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    signed_document = models.ForeignKey(
        "documents.IssuedDocument",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signed PDF"),
    )

    class Meta:
        verbose_name = _("e-receipt")
        verbose_name_plural = _("e-receipts")
        constraints = [
            models.UniqueConstraint(fields=["unit", "form_symbol", "series", "number"], name="payments_receipt_number"),
            models.UniqueConstraint(
                fields=["payment"], condition=Q(status="issued"), name="payments_one_receipt_per_payment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form_symbol} {self.series} {self.display_number}"

    @property
    def display_number(self) -> str:
        return f"{self.number:07d}"
