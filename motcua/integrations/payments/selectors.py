"""Fee and receipt queries, scoped to the caller: the citizen owner or staff who see the dossier."""

from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from motcua.dossiers.selectors import dossiers_visible_to
from motcua.dossiers.services import is_applicant
from motcua.integrations.payments.models import CounterMethod, FeeRequest, Payment, Receipt
from motcua.org.models import Role, User

FEE_ROLES = (Role.CLERK, Role.SPECIALIST, Role.LEADER)


def can_see(user: User, dossier_id: int) -> bool:
    from motcua.dossiers.models import Dossier

    dossier = Dossier.objects.filter(pk=dossier_id).first()
    if dossier is None or not user.is_authenticated:
        return False
    return is_applicant(user, dossier) or dossiers_visible_to(user).filter(pk=dossier_id).exists()


def fee_for(user: User, fee_id: int) -> FeeRequest | None:
    fee = FeeRequest.objects.select_related("dossier").filter(pk=fee_id).first()
    return fee if fee is not None and can_see(user, fee.dossier_id) else None


def fee_in_scope(user: User, fee_id: int) -> FeeRequest | None:
    """A fee of a dossier ``user`` sees as staff (not as its applicant): what the staff fee card acts on."""
    fee = FeeRequest.objects.select_related("dossier").filter(pk=fee_id).first()
    if fee is None or not dossiers_visible_to(user).filter(pk=fee.dossier_id).exists():
        return None
    return fee


def receipt_for(user: User, receipt_id: int) -> Receipt | None:
    receipt = Receipt.objects.select_related("fee_request__dossier").filter(pk=receipt_id).first()
    return receipt if receipt is not None and can_see(user, receipt.fee_request.dossier_id) else None


def fees_of_dossier(user: User, dossier_id: int) -> QuerySet[FeeRequest]:
    if not can_see(user, dossier_id):
        return FeeRequest.objects.none()
    return FeeRequest.objects.filter(dossier_id=dossier_id).prefetch_related("receipts").order_by("-requested_at")


def may_handle_fee(user: User, dossier) -> bool:
    """Officers of the competent agency and the one-stop clerks of the receiving one, within their scope."""
    if not user.is_authenticated or not dossiers_visible_to(user).filter(pk=dossier.pk).exists():
        return False
    if user.is_superuser:
        return True
    if user.agency_id == dossier.competent_agency_id and user.has_role(*FEE_ROLES):
        return True
    return user.agency_id == dossier.receiving_agency_id and user.has_role(Role.CLERK)


def may_cancel_receipt(user: User, receipt: Receipt) -> bool:
    """Clerks and leaders who may handle the dossier's fees (``may_handle_fee``) and work for the agency
    that issued the receipt, or clerks of the desk that received the dossier (who collect at the counter);
    not every clerk or leader of the subtree who can see the dossier."""
    dossier = receipt.fee_request.dossier
    if not may_handle_fee(user, dossier):
        return False
    if user.is_superuser:
        return True
    if user.agency_id == receipt.unit.agency_id and user.has_role(Role.CLERK, Role.LEADER):
        return True
    return user.agency_id == dossier.receiving_agency_id and user.has_role(Role.CLERK)


def fee_lines(dossier) -> tuple[list[dict], Decimal]:
    """The procedure version's positive fee lines (as a fee request stores them) and their total."""
    lines = [
        {"name": f.name, "kind": f.kind, "amount": str(f.amount)}
        for f in dossier.procedure_version.fees.all()
        if f.amount > 0
    ]
    return lines, sum((Decimal(line["amount"]) for line in lines), Decimal(0))


def fee_panel(user: User, dossier) -> dict:
    """What the staff dossier page shows about fees: the requests with their attempts and receipts, and
    whether this user may request (the dossier in process, a fee in the procedure, none open), cancel, or
    record a payment made at the counter."""
    from motcua.dossiers.lifecycle import Status

    if not user.is_authenticated or not dossiers_visible_to(user).filter(pk=dossier.pk).exists():
        return {"shown": False}
    fees = list(
        FeeRequest.objects.filter(dossier=dossier)
        .select_related("requested_by")
        .prefetch_related(
            Prefetch("payments", queryset=Payment.objects.order_by("-created_at")),
            Prefetch("receipts", queryset=Receipt.objects.order_by("number")),
        )
        .order_by("-requested_at", "-pk")
    )
    lines, total = fee_lines(dossier)
    allowed = may_handle_fee(user, dossier)
    # One fee per dossier: none may be asked while one waits or after one was paid.
    blocking = any(f.status in (FeeRequest.Status.REQUESTED, FeeRequest.Status.PAID) for f in fees)
    can_request = allowed and total > 0 and dossier.status == Status.IN_PROCESS and not blocking
    return {
        "shown": bool(fees) or can_request,
        "fees": fees,
        "lines": lines,
        "total": total,
        "can_request": can_request,
        "can_cancel": allowed and dossier.status == Status.WAITING_FOR_PAYMENT,
        # The applicant pays at the desk: the same people record it (a waiting fee, see the template).
        "can_collect": allowed,
        "counter_methods": CounterMethod.choices,
    }
