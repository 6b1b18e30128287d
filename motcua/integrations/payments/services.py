"""State changes for fees: request, start a payment, apply a gateway notice, issue and cancel receipts.

The IPN may arrive several times and out of order: the payment row is locked, a paid payment is
never changed again, one receipt per paid payment (a partial unique constraint backs it up).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from motcua import sequences
from motcua.dossiers import lifecycle
from motcua.dossiers import services as dossier_services
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier, DossierEvent
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.integrations.payments.gateway import Gateway, InvalidChecksum, default_gateway
from motcua.integrations.payments.models import (
    CollectingUnit,
    FeeRequest,
    Payment,
    PaymentNotification,
    Receipt,
    ReceiptSeries,
)
from motcua.org.models import Role, User

log = logging.getLogger("motcua.payments")
Action = DossierEvent.Action


def request_fee(dossier: Dossier, *, actor: User, ip: str | None = None, now: datetime | None = None) -> FeeRequest:
    """Ask the applicant to pay the procedure's fees: the dossier waits for payment (the clock runs)."""
    lines = [
        {"name": f.name, "kind": f.kind, "amount": str(f.amount)}
        for f in dossier.procedure_version.fees.all()
        if f.amount > 0
    ]
    total = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
    if total <= 0:
        raise ValidationError(_("This procedure has no fee to pay."))
    created: list[FeeRequest] = []

    def apply(locked: Dossier, moment: datetime) -> list[str]:
        created.append(
            FeeRequest.objects.create(
                dossier=locked, lines=lines, amount=total, requested_by=actor, requested_at=moment
            )
        )
        return []

    dossier_services._transition(
        dossier,
        actor=actor,
        to_status=Status.WAITING_FOR_PAYMENT,
        action=Action.FEE_REQUESTED,
        expected_from={Status.IN_PROCESS},
        ip=ip,
        now=now,
        data={"amount": str(total), "lines": lines},
        apply=apply,
    )
    # The "fee requested" message follows from the FEE_REQUESTED event (messaging/signals.py).
    return created[0]


def start_payment(
    fee: FeeRequest, *, return_url: str, ipn_url: str, gateway: Gateway | None = None
) -> tuple[Payment, str]:
    """A new attempt for an open fee request; returns it and the gateway URL to redirect the browser to."""
    gateway = gateway or default_gateway()
    with transaction.atomic():
        fee = FeeRequest.objects.select_for_update().get(pk=fee.pk)
        if fee.status != FeeRequest.Status.REQUESTED:
            raise ValidationError(_("This fee is not waiting for payment."))
        payment = Payment.objects.create(
            fee_request=fee, txn_ref=uuid.uuid4().hex[:20].upper(), gateway=gateway.name, amount=fee.amount
        )
    url = gateway.create_payment(
        txn_ref=payment.txn_ref,
        amount=int(fee.amount),
        description=_("Fee for dossier %(code)s") % {"code": fee.dossier.code},
        return_url=return_url,
        ipn_url=ipn_url,
    )
    return payment, url


def handle_notice(params: dict[str, str], *, remote: str | None = None, gateway: Gateway | None = None) -> str:
    """Process one server-to-server notice exactly once; returns the outcome stored with it."""
    gateway = gateway or default_gateway()
    raw = dict(params)
    try:
        notice = gateway.verify_notice(raw)
    except InvalidChecksum as exc:
        log.warning("payment notice rejected from %s: %s %s", remote, exc, raw)
        PaymentNotification.objects.create(
            raw=raw, remote_address=remote, outcome=PaymentNotification.Outcome.REJECTED, detail=str(exc)[:255]
        )
        return PaymentNotification.Outcome.REJECTED
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(txn_ref=notice.txn_ref).first()
        outcome, detail = _apply(payment, notice)
        PaymentNotification.objects.create(
            payment=payment, raw=raw, remote_address=remote, outcome=outcome, detail=detail
        )
    if outcome == PaymentNotification.Outcome.REJECTED:
        log.warning("payment notice rejected: %s %s", detail, raw)
    return outcome


def _apply(payment: Payment | None, notice) -> tuple[str, str]:
    out = PaymentNotification.Outcome
    if payment is None:
        return out.REJECTED, "unknown transaction"
    if notice.amount != int(payment.amount):
        return out.REJECTED, "amount mismatch"
    if payment.status == Payment.Status.PAID:
        return (out.DUPLICATE if notice.status == "paid" else out.STALE), "already paid"
    if notice.status == "pending":
        return out.STALE, "pending"
    now = timezone.now()
    payment.gateway_trans_id = notice.gateway_trans_id
    payment.method = notice.method
    payment.completed_at = now
    if notice.status != "paid":
        if payment.status == Payment.Status.FAILED:
            return out.DUPLICATE, "already failed"
        payment.status = Payment.Status.FAILED
        payment.save(update_fields=["status", "gateway_trans_id", "method", "completed_at"])
        return out.APPLIED, "failed"
    fee = FeeRequest.objects.select_for_update().get(pk=payment.fee_request_id)
    if fee.status == FeeRequest.Status.PAID:
        # Another attempt already paid this fee: keep the money trail, refund is a manual matter.
        payment.status = Payment.Status.FAILED
        payment.save(update_fields=["status", "gateway_trans_id", "method", "completed_at"])
        return out.STALE, "fee already paid by another attempt"
    payment.status = Payment.Status.PAID
    payment.save(update_fields=["status", "gateway_trans_id", "method", "completed_at"])
    fee.status = FeeRequest.Status.PAID
    fee.paid_at = now
    fee.save(update_fields=["status", "paid_at"])
    receipt = issue_receipt(payment, fee, now=now)
    _mark_dossier_paid(fee, payment, receipt, now)
    receipt_id = receipt.pk
    transaction.on_commit(lambda: _enqueue_receipt_mail(receipt_id))
    return out.APPLIED, "paid"


def _mark_dossier_paid(fee: FeeRequest, payment: Payment, receipt: Receipt, now: datetime) -> None:
    dossier = Dossier.objects.select_for_update().get(pk=fee.dossier_id)
    from_status = dossier.status
    if from_status == Status.WAITING_FOR_PAYMENT:
        lifecycle.check_transition(from_status, Status.IN_PROCESS)
        dossier.status = Status.IN_PROCESS
        dossier.save(update_fields=["status"])
    dossier_services._record(
        dossier,
        actor=None,
        role=Role.CITIZEN,
        action=Action.FEE_PAID,
        from_status=from_status,
        at=now,
        ip=None,
        data={"txn_ref": payment.txn_ref, "amount": str(fee.amount), "receipt": str(receipt)},
    )


def _enqueue_receipt_mail(receipt_id: int) -> None:
    from motcua.integrations.payments import tasks

    tasks.mail_receipt.enqueue(receipt_id)


def _unit_for(dossier: Dossier) -> CollectingUnit:
    agency = dossier.competent_agency
    unit = CollectingUnit.objects.filter(agency=agency).first()
    if unit is None:
        unit, _created = CollectingUnit.objects.get_or_create(
            agency=agency, defaults={"name": agency.name, "tax_code": getattr(agency, "tax_code", "") or "0000000000"}
        )
    return unit


def _next_receipt_number(unit: CollectingUnit) -> int:
    """Gap-free per (unit, form symbol, series): the row stays locked until the transaction ends."""
    return sequences.next_number(ReceiptSeries, unit=unit, form_symbol=unit.form_symbol, series=unit.series)


def issue_receipt(payment: Payment, fee: FeeRequest, *, now: datetime | None = None) -> Receipt:
    """Issue the e-receipt of a confirmed payment; call inside its transaction."""
    dossier = fee.dossier
    unit = _unit_for(dossier)
    return Receipt.objects.create(
        fee_request=fee,
        payment=payment,
        unit=unit,
        form_symbol=unit.form_symbol,
        series=unit.series,
        number=_next_receipt_number(unit),
        unit_name=unit.name,
        tax_code=unit.tax_code,
        payer_name=dossier.applicant_name,
        payer_address=dossier.applicant_address,
        lines=fee.lines,
        total=fee.amount,
        method=payment.method or payment.gateway,
        issued_at=now or timezone.now(),
    )


def cancel_receipt(receipt: Receipt, *, actor: User, reason: str, now: datetime | None = None) -> Receipt:
    """Cancel a receipt: its number stays used and it shows as cancelled (who, when, why)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for cancelling the receipt."))
    if not (actor.is_superuser or actor.has_role(Role.CLERK, Role.LEADER)):
        raise PermissionDenied(_("Your role cannot cancel receipts."))
    if not dossiers_visible_to(actor).filter(pk=receipt.fee_request.dossier_id).exists():
        raise PermissionDenied(_("Your role cannot cancel receipts."))
    with transaction.atomic():
        locked = Receipt.objects.select_for_update().get(pk=receipt.pk)
        if locked.status == Receipt.Status.CANCELLED:
            raise ValidationError(_("This receipt is already cancelled."))
        locked.status = Receipt.Status.CANCELLED
        locked.cancel_reason = reason
        locked.cancelled_by = actor
        locked.cancelled_at = now or timezone.now()
        locked.save(update_fields=["status", "cancel_reason", "cancelled_by", "cancelled_at"])
    receipt.refresh_from_db()
    return locked


def sign_receipt(receipt: Receipt, *, actor: User, certificate=None) -> Receipt:
    """The collector signs the receipt's PDF with their certificate (documents signing, PAdES).

    A separate staff step: the receipt is issued by the gateway's notice, which has no signer.
    """
    from motcua.documents import services as documents
    from motcua.integrations.payments.rendering import receipt_pdf

    if receipt.status != Receipt.Status.ISSUED:
        raise ValidationError(_("This receipt is already cancelled."))
    if receipt.signed_document_id:
        raise ValidationError(_("This receipt is already signed."))
    dossier = receipt.fee_request.dossier
    document = documents.store_result(
        receipt_pdf(receipt),
        actor=actor,
        title=_("E-receipt %(number)s") % {"number": str(receipt)},
        agency=dossier.competent_agency,
        dossier=dossier,
    )
    documents.sign_document(document, actor=actor, certificate=certificate, reason=_("Fee collector"))
    Receipt.objects.filter(pk=receipt.pk).update(signed_document=document)
    receipt.refresh_from_db()
    return receipt
