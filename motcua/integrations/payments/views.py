"""Citizen pages: the fee and its pay button, the return page (display only), the receipt; the IPN."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from motcua.documents import services as documents
from motcua.integrations.payments import rendering, selectors, services
from motcua.integrations.payments.models import Payment, PaymentNotification, Receipt


@login_required
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, fee_id: int) -> HttpResponse:
    """GET: what is to be paid; POST: a new attempt, redirected to the gateway (retry after a failure)."""
    fee = selectors.fee_for(request.user, fee_id)
    if fee is None:
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            _payment, url = services.start_payment(
                fee,
                return_url=request.build_absolute_uri(reverse("payments:return")),
                ipn_url=request.build_absolute_uri(reverse("payments:ipn")),
            )
            return redirect(url)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    return render(request, "payments/pay.html", {"fee": fee, "error": error})


@login_required
def payment_return(request: HttpRequest) -> HttpResponse:
    """Never trusted: shows what our database says (the IPN decides), found by the reference."""
    ref = request.GET.get("merchant_trans_id", "")
    payment = Payment.objects.select_related("fee_request__dossier").filter(txn_ref=ref).first()
    if payment is None or selectors.fee_for(request.user, payment.fee_request_id) is None:
        raise Http404
    fee = payment.fee_request
    return render(
        request,
        "payments/return.html",
        {"payment": payment, "fee": fee, "receipt": fee.receipts.filter(status="issued").first()},
    )


@login_required
def receipt_pdf(request: HttpRequest, receipt_id: int) -> HttpResponse:
    receipt = selectors.receipt_for(request.user, receipt_id)
    if receipt is None:
        raise Http404
    signed = receipt.signed_document if receipt.status == Receipt.Status.ISSUED else None
    data = documents.read_document(signed) if signed else rendering.receipt_pdf(receipt)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="bien-lai-{receipt.display_number}.pdf"'
    return response


@csrf_exempt
@require_POST
def ipn(request: HttpRequest) -> JsonResponse:
    """Server to server: verified by its keyed hash, processed exactly once."""
    outcome = services.handle_notice(request.POST.dict(), remote=request.META.get("REMOTE_ADDR"))
    if outcome == PaymentNotification.Outcome.REJECTED:
        return JsonResponse({"RspCode": "97", "Message": "rejected"}, status=400)
    return JsonResponse({"RspCode": "00", "Message": outcome})
