"""Staff API: request the fee of a dossier (``POST /api/v1/payments/dossiers/{id}/fee``) and cancel an
e-receipt (``POST /api/v1/payments/receipts/{id}/cancel``).

Errors take the API's one shape through ``motcua.api.errors``: 404 unknown or not the caller's, 403 a
role or agency that may not, 409 the state does not allow it (already asked or paid, no fee, already
cancelled), 422 a missing reason.
"""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja import Status as Answer

from motcua.api import params
from motcua.api.auth import token_auth
from motcua.api.errors import AUTHENTICATED, BODY, COMMON, CONFLICT, NOT_FOUND, ApiError, answers, field_errors
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.integrations.payments import selectors, services

router = Router(auth=token_auth)


class FeeOut(Schema):
    id: int
    dossier_id: int
    amount: int
    status: str
    lines: list[dict]


@router.post(
    "/dossiers/{dossier_id}/fee",
    response=answers({201: FeeOut}, COMMON, AUTHENTICATED, NOT_FOUND, CONFLICT),
    summary="Ask for the fee of a dossier",
)
def request_fee(request, dossier_id: params.RowId):
    """Copy the procedure's fee lines into a fee request; the dossier waits for payment."""
    dossier = get_object_or_404(dossiers_visible_to(request.user), pk=dossier_id)
    try:
        fee = services.request_fee(dossier, actor=request.user, ip=request.META.get("REMOTE_ADDR"))
    except ValidationError as error:
        # The request has no body: "no fee to pay" and "already paid" are the dossier's state, a conflict.
        raise ApiError(" ".join(error.messages), status=409, errors=field_errors(error)) from None
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
    reason: params.reason(1000, lambda: _("Give the reason for cancelling the receipt."))


class ReceiptOut(Schema):
    id: int
    number: str
    status: str
    cancel_reason: str


@router.post(
    "/receipts/{receipt_id}/cancel",
    response=answers({200: ReceiptOut}, COMMON, AUTHENTICATED, BODY, NOT_FOUND, CONFLICT),
    summary="Cancel an e-receipt",
)
def cancel_receipt(request, receipt_id: params.RowId, payload: CancelIn):
    """Cancel an e-receipt: the number stays used, the receipt shows as cancelled, the dossier's
    timeline gets the event. Only the issuing agency's clerks and leaders (and the receiving desk's
    clerks) may: others get 403."""
    receipt = selectors.receipt_for(request.user, receipt_id)
    if receipt is None:
        raise Http404
    try:
        receipt = services.cancel_receipt(
            receipt, actor=request.user, reason=payload.reason, ip=request.META.get("REMOTE_ADDR")
        )
    except ValidationError as error:
        receipt.refresh_from_db(fields=["status"])
        if receipt.status != receipt.Status.CANCELLED:
            raise
        raise ApiError(" ".join(error.messages), status=409, errors=field_errors(error)) from None  # already done
    return {
        "id": receipt.pk,
        "number": receipt.display_number,
        "status": receipt.status,
        "cancel_reason": receipt.cancel_reason,
    }
