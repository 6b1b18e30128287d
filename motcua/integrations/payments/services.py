"""State changes for fees: request, start a payment, apply a gateway notice, record a payment at the counter,
issue and cancel receipts.

The IPN may arrive several times and out of order: the payment row is locked, a paid payment is
never changed again, one receipt per paid payment (a partial unique constraint backs it up).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from motcua import sequences
from motcua.dossiers import lifecycle
from motcua.dossiers import services as dossier_services
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier, DossierEvent
from motcua.integrations.payments.gateway import Gateway, InvalidChecksum, default_gateway
from motcua.integrations.payments.models import (
    RECEIPT_METHOD,
    CollectingUnit,
    CounterMethod,
    FeeRequest,
    Payment,
    PaymentNotification,
    Receipt,
    ReceiptSeries,
)
from motcua.integrations.payments.selectors import FEE_ROLES, fee_lines, may_cancel_receipt, may_handle_fee
from motcua.org.models import Role, User

log = logging.getLogger("motcua.payments")
Action = DossierEvent.Action


def request_fee(dossier: Dossier, *, actor: User, ip: str | None = None, now: datetime | None = None) -> FeeRequest:
    """Ask the applicant to pay the procedure's fees: the dossier waits for payment (the clock runs)."""
    if not may_handle_fee(actor, dossier):
        raise PermissionDenied(_("You cannot request the fee of this dossier."))
    lines, total = fee_lines(dossier)
    if total <= 0:
        raise ValidationError(_("This procedure has no fee to pay."))
    if FeeRequest.objects.filter(dossier=dossier, status=FeeRequest.Status.PAID).exists():
        raise ValidationError(_("The fee of this dossier has already been paid."))
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


def cancel_fee(
    fee: FeeRequest, *, actor: User, reason: str, ip: str | None = None, now: datetime | None = None
) -> FeeRequest:
    """Staff withdraw an unpaid fee request (asked by mistake, fee waived): the dossier goes back to
    processing and the event log says who, when and why. A later "paid" notice is kept but not applied."""
    from motcua.text import normalize

    reason = normalize(str(reason or ""))[:1000]
    if not may_handle_fee(actor, fee.dossier):
        raise PermissionDenied(_("You cannot cancel the fee of this dossier."))
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for cancelling the fee request.")]})

    def apply(locked: Dossier, moment: datetime) -> list[str]:
        row = FeeRequest.objects.select_for_update().get(pk=fee.pk)
        if row.status != FeeRequest.Status.REQUESTED:
            raise ValidationError(_("This fee is not waiting for payment."))
        row.status = FeeRequest.Status.CANCELLED
        row.save(update_fields=["status"])
        return []

    dossier_services._transition(
        fee.dossier,
        actor=actor,
        to_status=Status.IN_PROCESS,
        action=Action.FEE_CANCELLED,
        expected_from={Status.WAITING_FOR_PAYMENT},
        ip=ip,
        now=now,
        data={"amount": str(fee.amount), "reason": reason},
        apply=apply,
    )
    fee.refresh_from_db()
    return fee


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
        if payment.status == Payment.Status.EXPIRED:
            return out.STALE, "already expired"
        payment.status = Payment.Status.FAILED
        payment.save(update_fields=["status", "gateway_trans_id", "method", "completed_at"])
        return out.APPLIED, "failed"
    fee = FeeRequest.objects.select_for_update().get(pk=payment.fee_request_id)
    if fee.status != FeeRequest.Status.REQUESTED:
        # Another attempt already paid this fee, or staff cancelled it: keep the money trail (the notice
        # and the gateway's transaction), refund is a manual matter.
        payment.status = Payment.Status.FAILED
        payment.save(update_fields=["status", "gateway_trans_id", "method", "completed_at"])
        if fee.status == FeeRequest.Status.PAID:
            return out.STALE, "fee already paid by another attempt"
        return out.STALE, f"fee {fee.status}"
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


def _mark_dossier_paid(
    fee: FeeRequest,
    payment: Payment,
    receipt: Receipt,
    now: datetime,
    *,
    actor: User | None = None,
    ip: str | None = None,
    data: dict | None = None,
) -> None:
    """The dossier goes back to processing and the FEE_PAID event says how it was paid.

    Online payments have no actor (the gateway's notice, on the citizen's behalf) and carry the gateway's
    transaction; counter payments name the clerk who collected. The reports read ``channel``.
    """
    dossier = Dossier.objects.select_for_update().get(pk=fee.dossier_id)
    from_status = dossier.status
    if from_status == Status.WAITING_FOR_PAYMENT:
        lifecycle.check_transition(from_status, Status.IN_PROCESS)
        dossier.status = Status.IN_PROCESS
        dossier.save(update_fields=["status"])
    if data is None:
        data = {"channel": "online", "txn_ref": payment.txn_ref}
    dossier_services._record(
        dossier,
        actor=actor,
        role=Role.CITIZEN if actor is None else dossier_services._role_of(actor, *FEE_ROLES),
        action=Action.FEE_PAID,
        from_status=from_status,
        at=now,
        ip=ip,
        data={**data, "amount": str(fee.amount), "receipt": str(receipt)},
    )


def record_counter_payment(
    fee: FeeRequest, *, actor: User, method: str, ip: str | None = None, now: datetime | None = None
) -> Receipt:
    """The applicant paid at the one-stop counter (cash, transfer, card at the desk): record it as paid.

    The same path as a gateway payment, in one transaction: a paid Payment row (channel "counter", the
    method, who collected), one e-receipt with the method printed on it, the dossier back in process,
    a FEE_PAID event naming the counter channel, and the receipt mailed after the commit. The fee row is
    locked first, as ``_apply`` does, so a double click (or a gateway notice for an attempt still pending
    online) waits and then finds the fee paid: the second gets "already paid", the notice is kept as
    stale and issues no receipt. Returns the receipt.
    """
    if not may_handle_fee(actor, fee.dossier):
        raise PermissionDenied(_("You cannot collect the fee of this dossier."))
    if method not in CounterMethod.values:
        raise ValidationError({"method": [_("Choose how the fee was paid at the counter.")]})
    moment = now or timezone.now()
    with transaction.atomic():
        locked = FeeRequest.objects.select_for_update().get(pk=fee.pk)
        if locked.status == FeeRequest.Status.PAID:
            raise ValidationError(_("The fee of this dossier has already been paid."))
        if locked.status != FeeRequest.Status.REQUESTED:
            raise ValidationError(_("This fee is not waiting for payment."))
        printed = RECEIPT_METHOD[CounterMethod(method)]
        payment = Payment.objects.create(
            fee_request=locked,
            txn_ref=f"QUAY{uuid.uuid4().hex[:16].upper()}",
            gateway=Payment.Channel.COUNTER,
            channel=Payment.Channel.COUNTER,
            amount=locked.amount,
            status=Payment.Status.PAID,
            method=printed,
            collected_by=actor,
            completed_at=moment,
        )
        locked.status = FeeRequest.Status.PAID
        locked.paid_at = moment
        locked.save(update_fields=["status", "paid_at"])
        receipt = issue_receipt(payment, locked, now=moment)
        _mark_dossier_paid(
            locked,
            payment,
            receipt,
            moment,
            actor=actor,
            ip=ip,
            # The method as on the receipt: the dossier's timeline shows it as it is.
            data={"channel": "counter", "method": printed},
        )
        receipt_id = receipt.pk
        transaction.on_commit(lambda: _enqueue_receipt_mail(receipt_id))
    fee.refresh_from_db()
    return receipt


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


def cancel_receipt(
    receipt: Receipt, *, actor: User, reason: str, ip: str | None = None, now: datetime | None = None
) -> Receipt:
    """Cancel a receipt: its number stays used and it shows as cancelled (who, when, why).

    Only the issuing agency's fee handlers may (``selectors.may_cancel_receipt``); the dossier's
    RECEIPT_CANCELLED event is written in the same transaction (the dossier's status does not change).
    """
    from motcua.text import normalize

    reason = normalize(str(reason or "")).strip()[:1000]
    if not reason:
        raise ValidationError(_("Give the reason for cancelling the receipt."))
    if not may_cancel_receipt(actor, receipt):
        raise PermissionDenied(_("Only the agency that issued this receipt can cancel it."))
    moment = now or timezone.now()
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().get(pk=receipt.fee_request.dossier_id)
        locked = Receipt.objects.select_for_update().get(pk=receipt.pk)
        if locked.status == Receipt.Status.CANCELLED:
            raise ValidationError(_("This receipt is already cancelled."))
        locked.status = Receipt.Status.CANCELLED
        locked.cancel_reason = reason
        locked.cancelled_by = actor
        locked.cancelled_at = moment
        locked.save(update_fields=["status", "cancel_reason", "cancelled_by", "cancelled_at"])
        dossier_services._record(
            dossier,
            actor=actor,
            role=dossier_services._role_of(actor, Role.CLERK, Role.LEADER),
            action=Action.RECEIPT_CANCELLED,
            from_status=dossier.status,
            at=moment,
            ip=ip,
            data={"receipt": str(locked), "amount": str(locked.total), "reason": reason},
        )
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


# --- reconciliation and expiry ---------------------------------------------------------------------
# settings.MOTCUA_PAYMENT_RECONCILE_AFTER_MINUTES (15): ask the gateway about attempts without an answer;
# settings.MOTCUA_PAYMENT_EXPIRE_AFTER_HOURS (24): an attempt still unanswered then is given up.


def reconcile_after() -> timedelta:
    return timedelta(minutes=float(getattr(settings, "MOTCUA_PAYMENT_RECONCILE_AFTER_MINUTES", 15)))


def expire_after() -> timedelta:
    return timedelta(hours=float(getattr(settings, "MOTCUA_PAYMENT_EXPIRE_AFTER_HOURS", 24)))


def reconcile_payments(*, now: datetime | None = None, gateway: Gateway | None = None) -> dict[str, int]:
    """Ask the gateway about every attempt still pending after the reconcile delay (its IPN may be lost).

    A definite answer goes through the same locked, exactly-once path as the IPN (``_apply``) and is
    stored as a notification like any notice; an attempt still unanswered after the expiry is marked
    expired (the fee stays requested, the dossier keeps waiting, the citizen can start a new attempt).
    The gateway is called outside any transaction. Returns counts by outcome.
    """
    gateway = gateway or default_gateway()
    moment = now or timezone.now()
    counts = {"checked": 0, "paid": 0, "failed": 0, "expired": 0, "errors": 0}
    due = Payment.objects.filter(status=Payment.Status.PENDING, created_at__lte=moment - reconcile_after())
    for pk, txn_ref in due.order_by("created_at").values_list("pk", "txn_ref"):
        counts["checked"] += 1
        try:
            answer = {str(k): str(v) for k, v in dict(gateway.query_status(txn_ref)).items()}
            notice = gateway.verify_notice(answer)
        except (InvalidChecksum, requests.RequestException, ValueError) as exc:
            log.warning("payment %s: status query failed: %s", txn_ref, exc)
            counts["errors"] += 1
            answer, notice = None, None
        if notice is not None and notice.txn_ref == txn_ref and notice.status != "pending":
            with transaction.atomic():
                payment = Payment.objects.select_for_update().get(pk=pk)
                outcome, detail = _apply(payment, notice)
                PaymentNotification.objects.create(
                    payment=payment, raw={**answer, "_source": "query"}, outcome=outcome, detail=f"query: {detail}"
                )
            if outcome == PaymentNotification.Outcome.APPLIED:
                counts["paid" if detail == "paid" else "failed"] += 1
            continue
        if Payment.objects.filter(pk=pk).values_list("created_at", flat=True).get() <= moment - expire_after():
            with transaction.atomic():
                expired = Payment.objects.filter(pk=pk, status=Payment.Status.PENDING).update(
                    status=Payment.Status.EXPIRED, completed_at=moment
                )
            counts["expired"] += expired
    return counts
