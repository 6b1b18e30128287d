"""Fee and receipt queries, scoped to the caller: the citizen owner or staff who see the dossier."""

from django.db.models import QuerySet

from motcua.dossiers.selectors import dossiers_visible_to
from motcua.dossiers.services import is_applicant
from motcua.integrations.payments.models import FeeRequest, Receipt
from motcua.org.models import User


def can_see(user: User, dossier_id: int) -> bool:
    from motcua.dossiers.models import Dossier

    dossier = Dossier.objects.filter(pk=dossier_id).first()
    if dossier is None or not user.is_authenticated:
        return False
    return is_applicant(user, dossier) or dossiers_visible_to(user).filter(pk=dossier_id).exists()


def fee_for(user: User, fee_id: int) -> FeeRequest | None:
    fee = FeeRequest.objects.select_related("dossier").filter(pk=fee_id).first()
    return fee if fee is not None and can_see(user, fee.dossier_id) else None


def receipt_for(user: User, receipt_id: int) -> Receipt | None:
    receipt = Receipt.objects.select_related("fee_request__dossier").filter(pk=receipt_id).first()
    return receipt if receipt is not None and can_see(user, receipt.fee_request.dossier_id) else None


def fees_of_dossier(user: User, dossier_id: int) -> QuerySet[FeeRequest]:
    if not can_see(user, dossier_id):
        return FeeRequest.objects.none()
    return FeeRequest.objects.filter(dossier_id=dossier_id).prefetch_related("receipts").order_by("-requested_at")
