"""Citizen pages: the fee and its pay button, the return page (display only), the receipt; the IPN.
Staff: request or cancel the fee, or record its payment at the counter, from the dossier page (POST,
CSRF-protected, scope-checked)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from motcua.documents import services as documents
from motcua.dossiers.lifecycle import IllegalTransition
from motcua.dossiers.selectors import dossiers_visible_to
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
    # A refused attempt (nothing left to pay, an amount the gateway cannot take) is a 422, as on the portal's forms.
    return render(request, "payments/pay.html", {"fee": fee, "error": error}, status=422 if error else 200)


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


def _staff_dossier_url(dossier) -> str:
    if dossier.code:
        return reverse("dossiers:detail", args=[dossier.code])
    return reverse("dossiers:detail-by-id", args=[dossier.pk])


def _staff_action(request: HttpRequest, dossier, action, done: str) -> HttpResponse:
    """Run a fee action; its refusal is shown on the dossier page as a message (nothing changed)."""
    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except IllegalTransition:
        messages.error(request, _("The dossier is not in a state that allows this."))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You cannot do this."))
    else:
        messages.success(request, done)
    return redirect(_staff_dossier_url(dossier))


@login_required
@require_POST
def staff_request_fee(request: HttpRequest, dossier_id: int) -> HttpResponse:
    """The "request the fee" button of the staff dossier page."""
    dossier = dossiers_visible_to(request.user).filter(pk=dossier_id).first()
    if dossier is None:
        raise Http404
    ip = request.META.get("REMOTE_ADDR")
    return _staff_action(
        request,
        dossier,
        lambda: services.request_fee(dossier, actor=request.user, ip=ip),
        _("The fee was requested: the applicant has been told to pay."),
    )


@login_required
@require_POST
def staff_cancel_fee(request: HttpRequest, fee_id: int) -> HttpResponse:
    fee = selectors.fee_in_scope(request.user, fee_id)
    if fee is None:
        raise Http404
    ip = request.META.get("REMOTE_ADDR")
    reason = request.POST.get("reason", "")[:1000]
    return _staff_action(
        request,
        fee.dossier,
        lambda: services.cancel_fee(fee, actor=request.user, reason=reason, ip=ip),
        _("The fee request was cancelled."),
    )


@login_required
@require_POST
def staff_counter_payment(request: HttpRequest, fee_id: int) -> HttpResponse:
    """The "collect at the counter" form: the applicant paid at the desk, the e-receipt is issued."""
    fee = selectors.fee_in_scope(request.user, fee_id)
    if fee is None:
        raise Http404
    ip = request.META.get("REMOTE_ADDR")
    method = request.POST.get("method", "")[:20]
    return _staff_action(
        request,
        fee.dossier,
        lambda: services.record_counter_payment(fee, actor=request.user, method=method, ip=ip),
        _("The fee was collected at the counter and the e-receipt issued."),
    )
