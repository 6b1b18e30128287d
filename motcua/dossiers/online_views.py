"""The one-stop clerk's queue of online submissions: list, open, receive / ask to complete / refuse.

Thin: the services in ``dossiers.services`` (receive_online, return_online_for_completion,
refuse_online) decide and log; the list is the clerk's visible dossiers waiting for receipt.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from motcua.dossiers import lifecycle, services
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import Dossier
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.dossiers.views import _render, clerk_required


def online_queue(clerk) -> QuerySet[Dossier]:
    """Online submissions waiting for receipt that the clerk may see (their agency's scope)."""
    return (
        dossiers_visible_to(clerk)
        .filter(status=Status.SUBMITTED_ONLINE)
        .select_related("procedure_version__procedure", "competent_agency")
        .order_by("submitted_at", "pk")
    )


@clerk_required
def queue(request: HttpRequest) -> HttpResponse:
    return _render(request, "dossiers/online/queue.html", {"dossiers": online_queue(request.user)[:200]})


@clerk_required
def submission(request: HttpRequest, pk: int) -> HttpResponse:
    """One submission; POST ``action`` = receive | complete | refuse."""
    dossier = online_queue(request.user).filter(pk=pk).first()
    if dossier is None:
        raise Http404(_("No online submission with this number is waiting in your queue."))
    errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action")
        ip = request.META.get("REMOTE_ADDR")
        try:
            if action == "receive":
                done = services.receive_online(dossier, request.user, ip=ip)
                return redirect(reverse("dossiers:detail", args=[done.code]))
            if action == "complete":
                missing = [line for line in request.POST.get("missing", "").splitlines() if line.strip()]
                services.return_online_for_completion(
                    dossier, request.user, missing=missing, reason=request.POST.get("reason", ""), ip=ip
                )
                return redirect(reverse("online:queue") + "?done=complete")
            if action == "refuse":
                services.refuse_online(dossier, request.user, reason=request.POST.get("reason", ""), ip=ip)
                return redirect(reverse("online:queue") + "?done=refuse")
            errors = [_("Unknown action.")]
        except ValidationError as error:
            errors = [str(m) for messages in error.message_dict.values() for m in messages]
        except (PermissionDenied, lifecycle.IllegalTransition) as error:
            errors = [str(error)]
    return _render(
        request,
        "dossiers/online/submission.html",
        {"dossier": dossier, "documents": dossier.documents.all(), "errors": errors},
        status=422 if errors else 200,
    )
