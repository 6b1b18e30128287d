"""Receipt e-mail, sent by a task after the commit (no outside call inside a request's transaction)."""

from django.core.mail import EmailMessage
from django.tasks import task
from django.utils.translation import gettext as _

from motcua import schedule
from motcua.integrations.payments.models import Receipt


@task()
def mail_receipt(receipt_id: int) -> bool:
    """E-mail the receipt (PDF attached when rendering works) to the payer's address, if any."""
    receipt = Receipt.objects.select_related("fee_request__dossier").get(pk=receipt_id)
    address = receipt.fee_request.dossier.applicant_email
    if not address:
        return False
    message = EmailMessage(
        subject=_("E-receipt %(number)s") % {"number": str(receipt)},
        body=_("Your fee for dossier %(code)s has been received. Total: %(total)s VND.")
        % {"code": receipt.fee_request.dossier.code, "total": receipt.total},
        to=[address],
    )
    from motcua.integrations.payments.rendering import receipt_pdf

    message.attach(f"bien-lai-{receipt.display_number}.pdf", receipt_pdf(receipt), "application/pdf")
    message.send()
    return True


@task(takes_context=True)
@schedule.job("payments_reconcile")
def payments_reconcile() -> str:
    """Every 5 minutes: ask the gateway about unanswered attempts, apply its answer once, expire old ones."""
    from motcua.integrations.payments.services import reconcile_payments

    counts = reconcile_payments()
    return ", ".join(f"{key} {value}" for key, value in counts.items())
