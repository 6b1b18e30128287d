"""Staff pages of the workflow: the officer's inbox, acting on a step, reassigning, and the counter's
"results to hand over" list.

Thin: the rows come from ``workflow.selectors`` (scoped to the caller), every change goes through
``workflow.services`` (act / claim / answer / hand_over / reassign), whose refusals are shown as
they are: ValidationError → 422 with the messages by field, PermissionDenied → 403,
WorkflowConflict (someone else moved the dossier first) → 409 with who and when. Nothing changes
on a refusal. Without JavaScript every form posts and redirects back; with htmx the actions part
of the dossier page is swapped in place.
"""

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from motcua.dossiers.views import _render, clerk_required, staff_required
from motcua.org.models import Role, User
from motcua.text import ascii_int
from motcua.workflow import selectors, services
from motcua.workflow.models import StepAttachment, StepRun, StepRunKind

FILTERS = ("", "due_soon", "overdue")


def _filter_labels() -> dict[str, str]:
    return {"": _("All"), "due_soon": _("Due soon"), "overdue": _("Overdue")}


def _urgency_labels() -> dict[str, str]:
    return {
        "overdue": _("Overdue"),
        "due_soon": _("Due soon"),
        "paused": _("Clock paused"),
        "within_time": _("Within time"),
        "no_deadline": _("No deadline"),
    }


@staff_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """The open steps the officer holds, most urgent first, with the counts of each filter."""
    chosen = request.GET.get("filter", "")
    if chosen not in FILTERS:
        chosen = ""
    now = timezone.now()
    user = request.user
    limit = selectors.due_soon_threshold(user, now)
    rows = list(selectors.inbox(user, chosen or None, now)[:200])
    labels = _urgency_labels()
    for row in rows:
        row.urgency = selectors.urgency(row, limit, now)
        row.urgency_label = labels[row.urgency]
        row.claimable = row.assignee_id is None and services.in_queue(user, row)
    counts = {key: selectors.inbox(user, key or None, now).count() for key in FILTERS}
    filters = [(key, label, counts[key]) for key, label in _filter_labels().items()]
    template = (
        "workflow/_inbox_rows.html" if request.htmx and request.htmx.target == "inbox-rows" else "workflow/inbox.html"
    )
    return _render(request, template, {"rows": rows, "filters": filters, "chosen": chosen, "now": now})


# --- the actions on a dossier ----------------------------------------------------------------------


def _eligible(step_run: StepRun) -> list[User]:
    """The officers of the step's queue (absent ones included, marked): who it can be reassigned to."""
    users = User.objects.filter(is_active=True, agency_id=step_run.agency_id, roles__role=step_run.role)
    if step_run.department_id is not None:
        users = users.filter(department_id=step_run.department_id)
    return list(users.distinct().order_by("full_name", "pk"))


def actions_context(user, dossier) -> dict:
    """What the actions part needs: the buttons, the claimable steps, the reassign forms."""
    available = selectors.available_actions(user, dossier)
    labels = {
        services.CLAIM: _("Take this step"),
        services.ANSWER: _("Send the opinion"),
        services.HAND_OVER: _("Hand over the result"),
        services.SUPPLEMENT_RECEIVED: _("Supplement received"),
    }
    transitions, engine = [], []
    for action in available:
        item = {
            "key": action.key,
            "label": action.label or labels.get(action.kind, action.key),
            "kind": action.kind,
            "reason": action.requires_reason,
            "attachment": action.requires_attachment,
            "signature": action.requires_signature,
            "step_run": action.step_run,
        }
        (engine if action.kind in labels else transitions).append(item)
    open_rows = list(
        StepRun.objects.filter(dossier=dossier, finished_at__isnull=True).select_related("agency__unit", "assignee")
    )
    reassign = []
    for row in open_rows:
        if services.may_reassign(user, row):
            reassign.append({"row": row, "users": _eligible(row)})
    current = next((r for r in open_rows if r.parent_id is None), None)
    return {
        "dossier": dossier,
        "transitions": transitions,
        "engine": engine,
        "needs_comment": any(a.kind != services.CLAIM for a in available),
        "expected_step": current.pk if current else "",
        "reassign": reassign,
        "attachment_kinds": [
            (k, label) for k, label in StepAttachment.Kind.choices if k != StepAttachment.Kind.OPINION
        ],
        "signing": _signing_notes(user, dossier, current, available),
    }


def _signing_notes(user, dossier, current: StepRun | None, available) -> list[dict]:
    """What a signing button will do, said before the click: which certificate signs, or why none can."""
    from motcua.documents import selectors as document_selectors
    from motcua.documents import services as document_services
    from motcua.documents.models import SigningCertificate

    notes = []
    now = timezone.now()
    if any(a.requires_signature for a in available):
        certificate = document_services.result_certificate(user, now=now)
        if certificate is None:
            problem = document_services.certificate_problem(user, SigningCertificate.Kind.PERSONAL, None, now)
            notes.append({"level": "warning", "text": problem})
        else:
            notes.append(
                {
                    "level": "info",
                    "text": _("The result will be signed with your certificate “%(label)s” (valid until %(date)s).")
                    % {
                        "label": certificate.label,
                        "date": timezone.localtime(certificate.not_after).strftime("%d/%m/%Y"),
                    },
                }
            )
    sealing = current is not None and current.role == Role.DOCUMENT_CLERK
    if sealing and any(a.kind in services.SEALING_ACTIONS for a in available):
        document = document_selectors.unsealed_result(dossier, current.agency)
        if document is not None:
            seal = document_services.result_certificate(user, SigningCertificate.Kind.SEAL, current.agency, now)
            if seal is None:
                problem = document_services.certificate_problem(user, SigningCertificate.Kind.SEAL, current.agency, now)
                notes.append({"level": "warning", "text": problem})
            else:
                notes.append(
                    {
                        "level": "info",
                        "text": _("Registering it adds the seal “%(label)s” to “%(title)s”.")
                        % {"label": seal.label, "title": document.title},
                    }
                )
    return notes


def _visible_dossier(user, code: str):
    dossier = selectors.get_dossier(user, code)
    if dossier is None:
        raise Http404(_("No dossier with this code is within your scope."))
    return dossier


def _back(request: HttpRequest, dossier) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("dossiers:detail", args=[dossier.code])


def _answer(request: HttpRequest, dossier, message: str, level: str, status: int, errors=None) -> HttpResponse:
    """The refusal or the success: the actions part again (htmx) or the dossier page with a flash."""
    if request.htmx:
        context = {**actions_context(request.user, dossier), "message": message, "level": level}
        context["errors"] = errors or {}
        context["comment"] = request.POST.get("comment", "") if status != 200 else ""
        return _render(request, "workflow/_actions.html", context, status=status)
    (flash.success if level == "success" else flash.error)(request, message)
    return redirect(_back(request, dossier))


def _messages_of(error: ValidationError) -> tuple[str, dict[str, list[str]]]:
    if hasattr(error, "error_dict"):
        by_field = {key: [str(m) for m in value] for key, value in error.message_dict.items()}
        text = " ".join(m for value in by_field.values() for m in value)
        return text, by_field
    return " ".join(str(m) for m in error.messages), {}


def _expected(request: HttpRequest) -> int | None:
    # ASCII and bounded: "²" fails int(), and 40 digits fail the database (bigint).
    return ascii_int(request.POST.get("expected_step", ""), minimum=1)


def _attachments(request: HttpRequest) -> list:
    """The uploaded files, with the kind the officer chose (draft, result…) when the form sends one."""
    files = request.FILES.getlist("attachments")
    kind = request.POST.get("attachment_kind", "")
    if kind not in StepAttachment.Kind.values:
        return files
    return [{"name": f.name, "content": f.read(), "kind": kind} for f in files]


@staff_required
@require_POST
def act(request: HttpRequest, code: str) -> HttpResponse:
    """One button of the actions part: a transition, claim, answer, hand-over or supplement received."""
    dossier = _visible_dossier(request.user, code)
    # Engine buttons name their step run ("claim@12"): a claim or an answer is about that row.
    action, _at, step_run = request.POST.get("action", "").strip().partition("@")
    step_run = step_run or request.POST.get("step_run", "")
    expected = _expected(request)
    if action in (services.CLAIM, services.ANSWER):
        expected = ascii_int(step_run, minimum=1) or expected
    try:
        move = services.act(
            dossier,
            user=request.user,
            action=action,
            comment=request.POST.get("comment", ""),
            attachments=_attachments(request),
            ip=request.META.get("REMOTE_ADDR"),
            expected_step=expected,
        )
    except ValidationError as error:
        text, by_field = _messages_of(error)
        return _answer(request, dossier, text, "error", 422, by_field)
    except PermissionDenied as error:
        return _answer(request, dossier, str(error) or _("You may not do this."), "error", 403)
    except services.WorkflowConflict as error:
        dossier.refresh_from_db()
        return _answer(request, dossier, error.message, "warning", 409)
    done = _("Done: dossier %(code)s.") % {"code": move.dossier.code}
    if move.current is not None and move.current.finished_at is None and move.finished is not None:
        done = _("Done: dossier %(code)s is now at “%(step)s” (%(agency)s).") % {
            "code": move.dossier.code,
            "step": move.current.step_name,
            "agency": move.current.agency.name,
        }
    if request.htmx and not selectors.available_actions(request.user, move.dossier):
        flash.success(request, done)
        return HttpResponseClientRedirect(_back(request, move.dossier))
    return _answer(request, move.dossier, done, "success", 200)


@staff_required
@require_POST
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    """Give an open step to another officer of its queue (unit admins and leaders of the agency)."""
    row = StepRun.objects.select_related("dossier", "agency__unit", "assignee").filter(pk=pk).first()
    dossier = _visible_dossier(request.user, row.dossier.code) if row is not None and row.dossier.code else None
    if row is None or dossier is None:
        raise Http404(_("No such step is within your scope."))
    raw = request.POST.get("to_user", "")
    to_user = None
    if raw:
        to_user = User.objects.filter(pk=ascii_int(raw, minimum=1) or 0, is_active=True).first()
        if to_user is None:
            return _answer(request, dossier, _("Choose an officer from the list."), "error", 422, {"to_user": []})
    try:
        services.reassign(
            row,
            to_user=to_user,
            by=request.user,
            ip=request.META.get("REMOTE_ADDR"),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as error:
        text, by_field = _messages_of(error)
        return _answer(request, dossier, text, "error", 422, by_field)
    except PermissionDenied as error:
        return _answer(request, dossier, str(error), "error", 403)
    except services.WorkflowConflict as error:
        return _answer(request, dossier, error.message, "warning", 409)
    who = to_user.full_name if to_user else _("the queue")
    return _answer(
        request,
        dossier,
        _("Step “%(step)s” now goes to %(who)s.") % {"step": row.step_name, "who": who},
        "success",
        200,
    )


@staff_required
@require_GET
def issued_document(request: HttpRequest, pk: int) -> FileResponse:
    """Download an issued document (a signed result, a slip): only staff who may see it (documents_visible_to)."""
    from motcua.documents import selectors as document_selectors

    document = document_selectors.documents_visible_to(request.user).filter(pk=pk).first()
    if document is None or not document.file:
        raise Http404(_("No such document is within your scope."))
    response = FileResponse(document.file.open("rb"), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.token}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- the counter: results to hand over --------------------------------------------------------------


def results_to_hand_over(user):
    """Open result/refusal steps of the clerk's agency whose dossier's result is ready (private selector)."""
    return (
        StepRun.objects.filter(
            agency_id=user.agency_id,
            finished_at__isnull=True,
            kind__in=[StepRunKind.RESULT, StepRunKind.REFUSAL],
            dossier__status=selectors.Status.RESULT_READY,
        )
        .select_related("dossier__procedure_version__procedure", "assignee")
        .order_by("started_at", "pk")
    )


@clerk_required
@require_GET
def results(request: HttpRequest) -> HttpResponse:
    rows = [row for row in results_to_hand_over(request.user) if services.holds(request.user, row)]
    return _render(request, "workflow/results.html", {"rows": rows})


@clerk_required
@require_POST
def hand_over(request: HttpRequest, code: str) -> HttpResponse:
    """One click: the result (or the written refusal) is handed to the applicant; recorded with the time."""
    dossier = _visible_dossier(request.user, code)
    try:
        services.hand_over(dossier, user=request.user, ip=request.META.get("REMOTE_ADDR"))
    except PermissionDenied as error:
        flash.error(request, str(error))
        return redirect("workflow:results")
    except (services.WorkflowConflict, ValidationError) as error:
        flash.warning(request, getattr(error, "message", None) or " ".join(getattr(error, "messages", [str(error)])))
        return redirect("workflow:results")
    flash.success(request, _("Dossier %(code)s: the result was handed over to the applicant.") % {"code": dossier.code})
    return redirect("workflow:results")
