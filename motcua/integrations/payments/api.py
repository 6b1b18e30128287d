"""Staff API: request the fee of a dossier (``POST /api/v1/payments/dossiers/{id}/fee``).

Errors take the API's one shape through ``motcua.api.errors`` (403, 409 illegal transition, 422).
"""

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja import Status as Answer

from motcua.api.auth import token_auth
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.integrations.payments import selectors, services

router = Router(auth=token_auth)


class FeeOut(Schema):
    id: int
    dossier_id: int
    amount: int
    status: str
    lines: list[dict]


@router.post("/dossiers/{dossier_id}/fee", response={201: FeeOut})
def request_fee(request, dossier_id: int):
    """Copy the procedure's fee lines into a fee request; the dossier waits for payment."""
    dossier = get_object_or_404(dossiers_visible_to(request.user), pk=dossier_id)
    fee = services.request_fee(dossier, actor=request.user, ip=request.META.get("REMOTE_ADDR"))
    return Answer(
        201,
        {
            "id": fee.pk,
            "dossier_id": dossier.pk,
            "amount": int(fee.amount),
            "status": fee.status,
            "lines": fee.lines,
        },
    )


class CancelIn(Schema):
    reason: str


class ReceiptOut(Schema):
    id: int
    number: str
    status: str
    cancel_reason: str


@router.post("/receipts/{receipt_id}/cancel", response={200: ReceiptOut})
def cancel_receipt(request, receipt_id: int, payload: CancelIn):
    """Cancel an e-receipt: the number stays used, the receipt shows as cancelled, the dossier's
    timeline gets the event. Only the issuing agency's clerks and leaders (and the receiving desk's
    clerks) may: others get 403."""
    receipt = selectors.receipt_for(request.user, receipt_id)
    if receipt is None:
        raise Http404
    receipt = services.cancel_receipt(
        receipt, actor=request.user, reason=payload.reason, ip=request.META.get("REMOTE_ADDR")
    )
    return {
        "id": receipt.pk,
        "number": receipt.display_number,
        "status": receipt.status,
        "cancel_reason": receipt.cancel_reason,
    }
