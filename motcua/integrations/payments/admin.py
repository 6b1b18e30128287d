"""Desk: collecting units (tax code, receipt symbols), fees, payments, notices and receipts (read-only money trail)."""

from django.contrib import admin
from unfold.admin import ModelAdmin

from motcua.integrations.payments.models import CollectingUnit, FeeRequest, Payment, PaymentNotification, Receipt


@admin.register(CollectingUnit)
class CollectingUnitAdmin(ModelAdmin):
    list_display = ["name", "tax_code", "agency", "form_symbol", "series"]


class ReadOnly(ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FeeRequest)
class FeeRequestAdmin(ReadOnly):
    list_display = ["dossier", "amount", "status", "requested_at", "paid_at"]
    list_filter = ["status"]


@admin.register(Payment)
class PaymentAdmin(ReadOnly):
    list_display = ["txn_ref", "fee_request", "amount", "status", "channel", "method", "collected_by", "created_at"]
    list_filter = ["status", "channel"]


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnly):
    list_display = ["received_at", "payment", "outcome", "detail", "remote_address"]
    list_filter = ["outcome"]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnly):
    list_display = ["__str__", "payer_name", "total", "status", "issued_at", "cancelled_at"]
    list_filter = ["status", "series"]
