"""Queries of the citizen portal, always scoped to the citizen (or to the public look-up's two factors)."""

import hmac
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier, DossierEvent


def my_dossiers(user) -> QuerySet[Dossier]:
    """The dossiers the citizen submitted online (drafts included), newest first."""
    if not getattr(user, "is_authenticated", False):
        return Dossier.objects.none()
    return (
        Dossier.objects.filter(owner__user=user)
        .select_related("procedure_version__procedure", "competent_agency")
        .order_by("-created_at")
    )


def my_dossier(user, pk: int) -> Dossier | None:
    """One of the citizen's dossiers, or None for every other id (existing or not)."""
    return my_dossiers(user).filter(pk=pk).first()


def timeline(dossier: Dossier) -> QuerySet[DossierEvent]:
    return dossier.events.order_by("at", "pk")


def results(dossier: Dossier):
    """Documents the system issued for the dossier (the signed result among them), newest first."""
    from motcua.documents.models import IssuedDocument

    return IssuedDocument.objects.filter(dossier=dossier).order_by("-created_at")


def current_step(dossier: Dossier) -> str:
    """The name of the open workflow step (read-only view of the engine's step runs), or ''."""
    from motcua.workflow.models import StepRun

    step = StepRun.objects.filter(dossier=dossier, finished_at__isnull=True).order_by("-sequence").first()
    return step.step_name if step else ""


NEXT_STEP = {
    Status.SUBMITTED_ONLINE: _("The one-stop desk checks the submission."),
    Status.RECEIVED: _("The dossier is handed to the competent agency."),
    Status.IN_PROCESS: _("The competent agency processes the dossier."),
    Status.WAITING_FOR_SUPPLEMENT: _("The applicant must supplement the dossier."),
    Status.WAITING_FOR_PAYMENT: _("The applicant must pay the fee."),
    Status.RESULT_READY: _("The result can be collected."),
    Status.RETURNED_FOR_COMPLETION: _("The applicant must complete the dossier and send it again."),
}


@dataclass(frozen=True)
class PublicStatus:
    """All the public look-up shows: nothing personal."""

    code: str
    status: str
    due_at: datetime | None
    next_step: str

    @property
    def status_label(self) -> str:
        from motcua.dossiers.lifecycle import label

        return label(self.status)


def public_lookup(code: str, digits: str) -> PublicStatus | None:
    """The status of dossier ``code`` when ``digits`` are the last 4 of the applicant's phone or ID number.

    The same None for an unknown code and for wrong digits, so the answer reveals nothing.
    """
    code = (code or "").strip().upper()
    digits = (digits or "").strip()
    if not code or len(digits) != 4 or not digits.isdigit():
        return None
    dossier = (
        Dossier.objects.filter(code=code)
        .only("code", "status", "due_at", "applicant_phone", "applicant_id_number")
        .first()
    )
    phone = dossier.applicant_phone[-4:] if dossier and len(dossier.applicant_phone) >= 4 else "----"
    id_number = dossier.applicant_id_number[-4:] if dossier and len(dossier.applicant_id_number) >= 4 else "----"
    ok = hmac.compare_digest(phone, digits) | hmac.compare_digest(id_number, digits)
    if dossier is None or not ok:
        return None
    return PublicStatus(dossier.code, dossier.status, dossier.due_at, str(NEXT_STEP.get(dossier.status, "")))
