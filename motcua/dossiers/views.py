"""Staff pages: the counter screen, the dossier search, a dossier's page, its slip and its attachments.

Thin on purpose: every query goes through the scoped selectors, every change through
``services`` (which validate the whole input and raise a dict of field → messages); a view only
maps those messages to the fields on screen and chooses what to render. Every page works
without JavaScript; with it, htmx swaps the counter's workspace and the search results in place,
and ``static/dossiers/counter.js`` adds the keyboard.

Access: the counter needs the one-stop clerk role and an agency; search, pages, slips and files
need a staff scope, and a dossier outside it answers 404 — the same as one that does not exist.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib import messages as flash
from django.contrib.auth.views import LoginView, LogoutView, PasswordChangeView, redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.forms import BoundField, Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from motcua.catalog import selectors as catalog_selectors
from motcua.catalog.formschema import build_form_class
from motcua.catalog.models import ProcedureVersion
from motcua.dossiers import codes, services
from motcua.dossiers.downloads import uploaded_file_response
from motcua.dossiers.forms import (
    GUIDANCE,
    OUTCOMES,
    RECEIVE,
    REFUSE,
    ApplicantForm,
    DocumentRowForm,
    OutcomeForm,
    SearchForm,
    checklist,
    procedure_form_data,
)
from motcua.dossiers.lifecycle import FINAL, Status
from motcua.dossiers.models import Dossier, DossierDocument, DossierEvent
from motcua.dossiers.selectors import (
    agencies_received_for,
    counters_in_scope,
    dossiers_visible_to,
    get_dossier,
    received_between,
    search_dossiers,
    seat_of,
    with_timeliness,
)
from motcua.org.models import Agency, Role
from motcua.org.selectors import scope_path
from motcua.text import ascii_int, normalize

Action = DossierEvent.Action
MAX_PROCEDURES = 20
PAGE_SIZE = 20
COUNTER_ACTIONS = (Action.RECEIVED, Action.RETURNED_FOR_COMPLETION, Action.REFUSED)
SLIP_KIND = {
    Action.RECEIVED: "receipt",
    Action.RETURNED_FOR_COMPLETION: "guidance",
    Action.REFUSED: "refusal",
}
#: Keys of workflow events kept for the record but not shown on the timeline (codes, ids, flags).
WORKFLOW_DETAIL_KEYS = frozenset(
    {
        "workflow",
        "revision",
        "step",
        "agency",
        "department",
        "role",
        "assignee",
        "transition",
        "from_step",
        "requires_signature",
        "from",
        "step_run",
        "parent",
    }
)
#: Words that open the names of administrative units; the place on a slip is the name without them.
UNIT_PREFIXES = ("Thành phố ", "Thị trấn ", "Thị xã ", "Phường ", "Quận ", "Huyện ", "Tỉnh ", "Xã ")


# --- access ---------------------------------------------------------------------------------------


def is_clerk(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.agency_id and user.has_role(Role.CLERK))


def has_scope(user) -> bool:
    return user.is_authenticated and scope_path(user) is not None


def _login_redirect(request: HttpRequest) -> HttpResponse:
    login_url = reverse("dossiers:login")
    if request.htmx:
        back = request.htmx.current_url_abs_path or request.get_full_path()
        return HttpResponseClientRedirect(f"{login_url}?{urlencode({'next': back})}")
    return redirect_to_login(request.get_full_path(), login_url)


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    template = "dossiers/_message.html" if request.htmx else "dossiers/forbidden.html"
    return _render(request, template, {"message": message, "level": "error"}, status=403)


def _guard(check: Callable[[Any], bool], message: Callable[[], str]):
    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return _login_redirect(request)
            if not check(request.user):
                return _forbidden(request, message())
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


clerk_required = _guard(
    is_clerk, lambda: _("The counter screen is for one-stop clerks of an agency; your account has no such role.")
)
staff_required = _guard(
    has_scope, lambda: _("Dossiers are open to staff with a unit; your account has no staff role with a unit.")
)


def _render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    context = {"nav_clerk": is_clerk(request.user), **context}
    return render(request, template, context, status=status)


class StaffLoginView(LoginView):
    """E-mail and password for every staff member; the desk's login admits only desk roles."""

    template_name = "dossiers/login.html"
    redirect_authenticated_user = False  # a signed-in user may switch accounts here

    def get_default_redirect_url(self) -> str:
        return home_url(self.request.user)


class StaffLogoutView(LogoutView):
    next_page = "dossiers:login"


class StaffPasswordChangeView(PasswordChangeView):
    """Password change for staff who do not use the desk (the desk's own page admits only desk roles)."""

    template_name = "dossiers/password_change.html"

    def get_success_url(self) -> str:
        flash.success(self.request, _("Your password has been changed."))
        return home_url(self.request.user)


def home_url(user) -> str:
    """Where a signed-in person starts: the desk for administrators, the counter for clerks, else the inbox."""
    if not user.is_authenticated:
        return reverse("dossiers:login")
    if user.is_staff:
        return reverse("admin:index")
    return reverse("dossiers:counter" if is_clerk(user) else "workflow:inbox")


def home(request: HttpRequest) -> HttpResponse:
    return redirect(home_url(request.user))


# --- the counter: choosing a procedure ------------------------------------------------------------


def _receivable(agency: Agency) -> Q:
    """Versions the one-stop desk of ``agency`` may receive for: those it carries out itself (by its
    list of agencies, or by level when the version lists none) and those of an active agency the
    desk receives for (its own unit; a service centre: its unit's subtree).

    A listing convenience mirroring ``services._carries_out``/``_may_receive_for``: the service
    still decides on receipt and its message is shown.
    """
    by_level = Q(agencies__isnull=True) & (Q(levels__isnull=True) | Q(levels=agency.unit.level_id))
    return Q(agencies=agency) | Q(agencies__in=agencies_received_for(agency)) | by_level


def _procedures(user, q: str) -> list[ProcedureVersion]:
    q = normalize(q or "")
    if not q:
        return []
    versions = catalog_selectors.search_procedures(q).filter(_receivable(user.agency)).distinct()
    return list(versions[:MAX_PROCEDURES])


def _competent_choices(version: ProcedureVersion, receiving: Agency) -> list[Agency]:
    """The agencies to choose from when the desk receives for several that carry out ``version``
    (empty when the desk's own agency does, or when there is at most one: services pick it)."""
    listed = list(version.agencies.all())
    if not listed or receiving.pk in {a.pk for a in listed}:
        return []
    candidates = list(
        agencies_received_for(receiving).select_related("unit").filter(pk__in=[a.pk for a in listed]).order_by("name")
    )
    return candidates if len(candidates) > 1 else []


@dataclass
class FieldView:
    field: BoundField
    errors: list[str] = field(default_factory=list)


@dataclass
class RowView:
    form: DocumentRowForm
    errors: list[str] = field(default_factory=list)
    fields: dict[str, BoundField] = field(default_factory=dict)


def _field_views(form: Form, errors: dict[str, list[str]]) -> list[FieldView]:
    return [FieldView(bound, errors.pop(bound.html_name, [])) for bound in form]


def _map_errors(message_dict: dict[str, list[str]], rows: list[int]) -> dict[str, list[str]]:
    """Services' keys (``applicant.phone``, ``form_data.x``, ``documents.2.file``…) → HTML names on screen."""
    mapped: dict[str, list[str]] = {}
    for key, messages in message_dict.items():
        head, _dot, rest = key.partition(".")
        if head == "applicant" and rest:
            target = f"applicant-{rest}"
        elif head == "form_data" and rest:
            target = f"form-{rest}"
        elif head == "documents" and rest:
            index = rest.partition(".")[0]
            number = ascii_int(index, minimum=0, maximum=len(rows) - 1)
            target = f"doc-{rows[number]}" if number is not None else "documents"
        elif key in ("competent_agency", "missing", "reason", "documents"):
            target = key
        else:
            target = "__all__"
        mapped.setdefault(target, []).extend(str(m) for m in messages)
    return mapped


def _form_context(
    request: HttpRequest,
    version: ProcedureVersion,
    *,
    data=None,
    files=None,
    errors: dict[str, list[str]] | None = None,
) -> dict:
    errors = dict(errors or {})
    applicant = ApplicantForm(data, prefix="applicant")
    procedure_form = build_form_class(version)(data, prefix="form")
    procedure_form.use_required_attribute = False
    outcome = OutcomeForm(data, agencies=_competent_choices(version, request.user.agency))
    rows = [
        RowView(row, errors.pop(f"doc-{i}", []), {name: row[name] for name in row.fields})
        for i, row in enumerate(checklist(version, data, files))
    ]
    kind_errors = errors.pop("applicant-kind", [])
    context = {
        "panel": "form",
        "version": version,
        "applicant_kind": applicant["kind"],
        "kind_errors": kind_errors,
        "applicant_marked": ("full_name", "id_number"),
        "applicant_fields": [f for f in _field_views(applicant, errors) if f.field.name != "kind"],
        "procedure_fields": _field_views(procedure_form, errors),
        "rows": rows,
        "competent": FieldView(outcome["competent_agency"], errors.pop("competent_agency", [])),
        "show_competent": len(outcome.fields["competent_agency"].choices) > 1,
        "missing": FieldView(outcome["missing"], errors.pop("missing", [])),
        "reason": FieldView(outcome["reason"], errors.pop("reason", [])),
        "documents_errors": errors.pop("documents", []),
        # One key per form shown: a second submit of it (double click, back and resend, a retry)
        # answers the dossier the first one received. A refused submit keeps its key (nothing was saved).
        "intake_key": _intake_key_of(data),
    }
    errors.pop("idempotency_key", None)
    # Whatever is left has no field on screen: show it at the top of the form.
    context["general_errors"] = [message for messages in errors.values() for message in messages]
    return context


def _intake_key_of(data) -> str:
    sent = (data.get("intake_key") or "") if data is not None else ""
    return sent if sent and len(sent) <= 100 and sent.isascii() and sent.isprintable() else uuid.uuid4().hex


def _workspace(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    """The workspace part for htmx, the whole counter page otherwise."""
    template = "dossiers/counter/_workspace.html" if request.htmx else "dossiers/counter/counter.html"
    return _render(request, template, context, status=status)


@clerk_required
@require_GET
def counter(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    context: dict = {"q": q, "results": _procedures(request.user, q), "panel": "help", **_seat_context(request)}
    code = request.GET.get("procedure")
    if code:
        version = catalog_selectors.get_procedure(code)
        if version is None:
            context.update(panel="message", message=_unknown_procedure(code), level="error")
        else:
            context.update(_form_context(request, version))
    return _render(request, "dossiers/counter/counter.html", context)


@clerk_required
@require_GET
def counter_procedures(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    return _render(request, "dossiers/counter/_results.html", {"q": q, "results": _procedures(request.user, q)})


@clerk_required
@require_GET
def counter_go(request: HttpRequest) -> HttpResponse:
    """Enter in the search box: a dossier code (typed, or scanned from a slip's QR) opens the dossier;
    a search with one procedure opens its form; otherwise the clerk picks from the list."""
    q = normalize(request.GET.get("q", ""))
    if codes.is_dossier_code(q, services.code_format()):
        dossier = get_dossier(request.user, q)
        if dossier is not None:
            url = _dossier_url(dossier)
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        message = _("No dossier with the code “%(code)s” is within your scope.") % {"code": q}
        return _workspace(request, {"panel": "message", "message": message, "level": "error", "q": q}, status=404)
    results = _procedures(request.user, q)
    if len(results) == 1:
        return _workspace(request, {**_form_context(request, results[0]), "q": q, "results": results})
    message = (
        _("Several procedures match: choose one with the arrow keys and Enter.")
        if results
        else _("No procedure that your desk receives matches “%(q)s”.") % {"q": q}
    )
    return _workspace(request, {"panel": "message", "message": message, "level": "info", "q": q, "results": results})


SEAT_KEY = "motcua_counter"


def _seat(request: HttpRequest):
    """The counter (quầy) the clerk said they sit at, kept in the session; it goes on every dossier
    they receive, so the tracking book can be kept per counter."""
    return seat_of(request.user, request.session.get(SEAT_KEY))


def _seat_context(request: HttpRequest) -> dict:
    return {"seats": counters_in_scope(request.user).filter(agency=request.user.agency_id), "seat": _seat(request)}


@clerk_required
@require_http_methods(["POST"])
def counter_seat(request: HttpRequest) -> HttpResponse:
    """Choose (or clear) the counter the clerk sits at today."""
    chosen = request.POST.get("counter", "")
    seat = seat_of(request.user, chosen)
    if chosen and seat is None:
        flash.error(request, _("This counter is not one of your agency's open counters."))
    elif seat is None:
        request.session.pop(SEAT_KEY, None)
    else:
        request.session[SEAT_KEY] = seat.pk
        flash.success(request, _("You receive at %(counter)s.") % {"counter": seat})
    return redirect("dossiers:counter")


def _unknown_procedure(code: str) -> str:
    return _("No published procedure has the code “%(code)s”.") % {"code": code}


# --- the counter: the three outcomes --------------------------------------------------------------


@clerk_required
@require_http_methods(["GET", "POST"])
def counter_form(request: HttpRequest, procedure_code: str) -> HttpResponse:
    version = catalog_selectors.get_procedure(procedure_code)
    if version is None:
        context = {"panel": "message", "message": _unknown_procedure(procedure_code), "level": "error"}
        return _workspace(request, context, status=404)
    if request.method == "POST":
        return _counter_submit(request, version)
    return _workspace(request, _form_context(request, version))


def _counter_submit(request: HttpRequest, version: ProcedureVersion) -> HttpResponse:
    outcome = request.POST.get("outcome")
    rows_sent: list[int] = []
    try:
        if outcome not in OUTCOMES:
            raise ValidationError({"__all__": [_("Choose one of the three outcomes: receive, guidance or refusal.")]})
        if request.POST.get("version") != str(version.pk):
            raise ValidationError(
                {"__all__": [_("This procedure has been updated since the form was opened: check the form again.")]}
            )
        applicant = ApplicantForm(request.POST, prefix="applicant").service_data()
        choices = _competent_choices(version, request.user.agency)
        outcome_form = OutcomeForm(request.POST, agencies=choices)
        common = {
            "clerk": request.user,
            "procedure_code": version.procedure.code,
            "applicant": applicant,
            "ip": request.META.get("REMOTE_ADDR"),
            "idempotency_key": request.POST.get("intake_key") or None,
        }
        rows = checklist(version, request.POST, request.FILES)
        if outcome == RECEIVE:
            documents = []
            for index, row in enumerate(rows):
                document = row.service_row()
                if document is not None:
                    documents.append(document)
                    rows_sent.append(index)
            dossier = services.receive_at_counter(
                **common,
                form_data=procedure_form_data(request.POST, "form"),
                documents=documents,
                competent_agency=outcome_form["competent_agency"].value() or None,
                counter=_seat(request),
            )
        elif outcome == GUIDANCE:
            not_received = [r.component.name for r in rows if r.is_mandatory and not r.is_ticked() and not r.uploaded()]
            dossier = services.return_for_completion(
                **common,
                missing=list(dict.fromkeys(not_received + outcome_form.missing_items())),
                reason=outcome_form["reason"].value() or "",
            )
        else:
            dossier = services.refuse(**common, reason=outcome_form["reason"].value() or "")
    except ValidationError as error:
        errors = _map_errors(error.message_dict, rows_sent)
        context = _form_context(request, version, data=request.POST, files=None, errors=errors)
        context["files_dropped"] = bool(request.FILES)
        return _workspace(request, context, status=422)
    except PermissionDenied as error:
        return _forbidden(request, str(error))
    if not request.htmx:
        return redirect(_dossier_url(dossier))
    return _workspace(request, _done_context(dossier, outcome))


def _done_context(dossier: Dossier, outcome: str) -> dict:
    version = dossier.procedure_version
    return {
        "panel": "done",
        "outcome": outcome,
        "dossier": dossier,
        "immediate": version.time_kind == ProcedureVersion.TimeKind.IMMEDIATE,
        "slip_url": _slip_url(dossier),
        "slip_pdf_url": _slip_pdf_url(dossier),
        "dossier_url": _dossier_url(dossier),
        "is_receipt": outcome == RECEIVE,
        "is_guidance": outcome == GUIDANCE,
        "is_refusal": outcome == REFUSE,
    }


# --- dossiers: search and page ---------------------------------------------------------------------


def _dossier_url(dossier: Dossier) -> str:
    if dossier.code:
        return reverse("dossiers:detail", args=[dossier.code])
    return reverse("dossiers:detail-by-id", args=[dossier.pk])


def _slip_url(dossier: Dossier) -> str:
    if dossier.code:
        return reverse("dossiers:slip", args=[dossier.code])
    return reverse("dossiers:slip-by-id", args=[dossier.pk])


def _timeliness_label(value: str) -> str:
    labels = {
        "early": _("early"),
        "on_time": _("on time"),
        "late": _("late"),
        "within_time": _("within time"),
        "overdue": _("overdue"),
    }
    return labels.get(value or "", "")


@staff_required
@require_GET
def dossier_search(request: HttpRequest) -> HttpResponse:
    procedures = catalog_selectors.current_versions().select_related("procedure").order_by("procedure__code")
    form = SearchForm(request.GET, procedures=procedures)
    page = None
    if form.is_valid():
        filters = {key: value for key, value in form.cleaned_data.items() if value not in (None, "")}
        results = search_dossiers(request.user, **filters)
        if "timeliness_now" not in results.query.annotations:
            results = with_timeliness(results)
        page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
        for dossier in page.object_list:
            dossier.timeliness_label = _timeliness_label(dossier.timeliness_now)
            dossier.url = _dossier_url(dossier)
    context = {"form": form, "page": page, "fields": _field_views(form, {})}
    for view in context["fields"]:
        view.errors = list(form.errors.get(view.field.name, []))
    partial = request.htmx and request.htmx.target == "search-results"
    template = "dossiers/search/_results.html" if partial else "dossiers/search/search.html"
    # Filters that cannot be searched (a NUL, a year 9999…) are a bad request, shown next to the field
    # (422 for htmx, which swaps that status in: base_staff.html).
    status = (422 if request.htmx else 400) if form.is_bound and form.errors else 200
    return _render(request, template, context, status=status)


def _visible(user) -> QuerySet[Dossier]:
    """The dossiers of the user's subtree and those routed to them by the workflow."""
    from motcua.workflow.selectors import dossiers_visible

    return with_timeliness(dossiers_visible(user)).select_related(
        "procedure_version__procedure",
        "receiving_agency",
        "competent_agency",
        "received_by",
        "counter",
    )


@staff_required
@require_GET
def dossier_detail(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _visible(request.user).filter(code=code.strip().upper()).first()
    if dossier is None:
        raise Http404(_("No dossier with this code is within your scope."))
    return _render(request, "dossiers/detail.html", _detail_context(dossier, request.user))


@staff_required
@require_GET
def dossier_detail_by_id(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = _visible(request.user).filter(pk=pk).first()
    if dossier is None:
        raise Http404(_("No such dossier is within your scope."))
    if dossier.code:
        return redirect(_dossier_url(dossier))
    return _render(request, "dossiers/detail.html", _detail_context(dossier, request.user))


def _current_holder(dossier: Dossier) -> str:
    """Who holds the dossier now: the open main step of its workflow run (agency, and the officer or the
    queue); without a run, the desk holds a received dossier and a ready result, the competent agency the rest."""
    from motcua.workflow.models import StepRun

    if dossier.status in FINAL or dossier.status == Status.DRAFT:
        return ""
    current = (
        StepRun.objects.filter(dossier=dossier, parent__isnull=True, finished_at__isnull=True)
        .select_related("agency", "assignee")
        .order_by("-sequence")
        .first()
    )
    if current is not None:
        queue = _("queue: %(role)s") % {"role": current.get_role_display()}
        who = current.assignee.full_name if current.assignee_id else queue
        values = {"step": current.step_name, "agency": current.agency.name, "who": who}
        return _("%(step)s – %(agency)s (%(who)s)") % values
    if dossier.status in (Status.RECEIVED, Status.RESULT_READY, Status.SUBMITTED_ONLINE):
        return _("One-stop desk – %(agency)s") % {"agency": dossier.receiving_agency.name}
    return dossier.competent_agency.name


def _step_rows(user, dossier: Dossier) -> list:
    """The process control sheet: every step run with its timeliness label (workflow.selectors.steps_of)."""
    from motcua.workflow import selectors as workflow_selectors

    now = timezone.now()
    rows = list(workflow_selectors.steps_of(user, dossier))
    for row in rows:
        row.timeliness_code = workflow_selectors.step_timeliness(row, now)
        row.timeliness_label = _timeliness_label(row.timeliness_code) if row.timeliness_code else ""
    return rows


def _display(value: Any) -> str:
    """A stored JSON value as a reader expects it: dates dd/mm/yyyy, moments in local time, yes/no."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return "; ".join(_display(item) for item in value)
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        moment = parse_datetime(value) if "T" in value else None
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")
        try:
            day = parse_date(value)
        except ValueError:
            day = None
        if day is not None:
            return day.strftime("%d/%m/%Y")
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _event_data(event: DossierEvent) -> list[tuple[str, str]]:
    labels = {
        "code": _("Dossier code"),
        "due_at": _("Due"),
        "previous_due_at": _("Previous due moment"),
        "channel": _("Channel"),
        "documents": _("Documents"),
        "missing": _("To add or correct"),
        "reason": _("Reason"),
        "timeliness": _("Timeliness"),
        "step_name": _("Step"),
        "label": _("Action"),
        "comment": _("Comment"),
        "step_due_at": _("Step due"),
        "to": _("Next step"),
        # RESULT_SIGNED: the signed result, who signed it with which certificate, where to verify it.
        "title": _("Signed document"),
        "signer": _("Signed by"),
        "certificate": _("Certificate holder"),
        "certificate_fingerprint": _("Certificate fingerprint (SHA-256)"),
        "signature_kind": _("Signature kind"),
        "signature_field": _("Signature field"),
        "verification_token": _("Verification page"),
        # Fees: FEE_REQUESTED, FEE_PAID, FEE_CANCELLED, RECEIPT_CANCELLED.
        "amount": _("Amount (VND)"),
        "lines": _("Fees"),
        "method": _("Payment method"),
        "receipt": _("E-receipt"),
        "txn_ref": _("Transaction reference"),
    }
    signature_kinds = {"personal": _("personal signature"), "seal": _("agency seal")}
    rows = []
    for key, value in (event.data or {}).items():
        if key in WORKFLOW_DETAIL_KEYS or (key == "attachments" and not value):
            continue  # the workflow's technical keys: the control sheet shows them readably
        if event.action == DossierEvent.Action.RESULT_SIGNED and key == "document":
            continue  # the row's id: the verification page below identifies the document
        if key == "signature_kind":
            shown = str(signature_kinds.get(value, value))
        elif key == "verification_token":
            shown = reverse("documents:verify-token", args=[value])
        elif key == "to" and isinstance(value, dict):
            shown = str(value.get("step_name") or value.get("step") or "—")
        elif key == "channel":
            shown = str(dict(Dossier._meta.get_field("channel").choices).get(value, value))
        elif key == "timeliness":
            shown = _timeliness_label(value) or str(value)
        elif key == "lines" and isinstance(value, list):
            shown = "; ".join(
                f"{line.get('name', '')}: {line.get('amount', '')}" for line in value if isinstance(line, dict)
            )
        else:
            shown = _display(value)
        rows.append((labels.get(key, key), shown))
    return rows


def _role_label(code: str) -> str:
    try:
        return str(Role(code).label)
    except ValueError:
        return code


def _detail_context(dossier: Dossier, user=None) -> dict:
    version = dossier.procedure_version
    labels = {f.name: f.label for f in version.form_fields.all()}
    form_rows = [(labels.get(name, name), _display(value)) for name, value in (dossier.form_data or {}).items()]
    events = list(dossier.events.select_related("actor", "agency").order_by("at", "pk"))
    for event in events:
        event.role_label = _role_label(event.actor_role)
        event.rows = _event_data(event)
    documents = list(dossier.documents.all())
    for document in documents:
        document.url = reverse("dossiers:document", args=[document.pk]) if document.file else ""
    has_slip = any(event.action in COUNTER_ACTIONS for event in events)
    return {
        "dossier": dossier,
        "version": version,
        "form_rows": form_rows,
        "documents": documents,
        "events": events,
        "pauses": list(dossier.pauses.all()),
        "holder": _current_holder(dossier),
        "timeliness": _timeliness_label(getattr(dossier, "timeliness_now", "")),
        "slip_url": _slip_url(dossier) if has_slip else "",
        "slip_pdf_url": _slip_pdf_url(dossier) if has_slip else "",
        **(_workflow_context(user, dossier) if user is not None and dossier.code else {}),
        "national": _national_sync(user, dossier) if user is not None else None,
    }


def _national_sync(user, dossier: Dossier):
    """Where the national portal's copy of the dossier stands (pending, sent, acknowledged, failed)."""
    from motcua.integrations.national import selectors as national_selectors  # integrations imports dossiers

    return national_selectors.sync_state(user, dossier)


def _workflow_context(user, dossier: Dossier) -> dict:
    """The control sheet and the actions part (the same one the inbox links to)."""
    from motcua.workflow.views import actions_context

    return {"steps": _step_rows(user, dossier), **actions_context(user, dossier), "actions_shown": True}


# --- slips ---------------------------------------------------------------------------------------


def _place(agency: Agency) -> str:
    name = agency.unit.name
    for prefix in UNIT_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _qr(code: str) -> SafeString:
    """The dossier code as an inline SVG QR code (a scanner at any counter opens the dossier)."""
    # segno writes the markup itself; the code is only encoded in the path data, never copied as text.
    return mark_safe(segno.make(code, error="m").svg_inline(scale=3, border=0))


def _slip(request: HttpRequest, dossier: Dossier | None) -> HttpResponse:
    if dossier is None:
        raise Http404(_("No such dossier is within your scope."))
    event = (
        dossier.events.filter(action__in=COUNTER_ACTIONS).select_related("actor", "agency").order_by("at", "pk").first()
    )
    if event is None:
        raise Http404(_("This dossier has no counter slip."))
    agency = dossier.receiving_agency
    context = {
        "dossier": dossier,
        "version": dossier.procedure_version,
        "event": event,
        "agency": agency,
        "superior": agency.parent.name if agency.parent_id and agency.kind == Agency.Kind.SERVICE_CENTRE else "",
        "is_centre": agency.kind == Agency.Kind.SERVICE_CENTRE,
        "place": _place(agency),
        "moment": timezone.localtime(event.at),
        "officer": event.actor,
        "documents": list(dossier.documents.all()),
        "missing": (event.data or {}).get("missing", []),
        "reason": (event.data or {}).get("reason", ""),
        "qr": _qr(dossier.code) if dossier.code else "",
        "immediate": dossier.procedure_version.time_kind == ProcedureVersion.TimeKind.IMMEDIATE,
        "print": request.GET.get("print") == "1",
    }
    return render(request, f"dossiers/slips/{SLIP_KIND[event.action]}.html", context)


@staff_required
@require_GET
def slip(request: HttpRequest, code: str) -> HttpResponse:
    return _slip(request, _visible(request.user).filter(code=code.strip().upper()).first())


@staff_required
@require_GET
def slip_by_id(request: HttpRequest, pk: int) -> HttpResponse:
    return _slip(request, _visible(request.user).filter(pk=pk).first())


# --- attachments ---------------------------------------------------------------------------------


@staff_required
@require_GET
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    """A scan, only for someone who may see its dossier; always a download, never rendered by the browser."""
    document = (
        DossierDocument.objects.filter(pk=pk, dossier__in=dossiers_visible_to(request.user).values("pk"))
        .exclude(file="")
        .first()
    )
    if document is None or not document.file:
        raise Http404(_("No such document is within your scope."))
    try:
        # The name and type are those of the bytes, not the uploader's (downloads.py).
        return uploaded_file_response(document.file.name, document.original_filename)
    except FileNotFoundError:
        raise Http404(_("The file of this document is missing.")) from None


# --- official PDFs of the counter slips ----------------------------------------------------------------

#: The documents form issued for each counter action (receipt, guidance to complete, refusal).
SLIP_FORM = {
    Action.RECEIVED: "receipt",
    Action.RETURNED_FOR_COMPLETION: "supplement",
    Action.REFUSED: "refusal",
}


def _slip_pdf_url(dossier: Dossier) -> str:
    if dossier.code:
        return reverse("dossiers:slip-pdf", args=[dossier.code])
    return reverse("dossiers:slip-pdf-by-id", args=[dossier.pk])


def _pdf_response(document) -> FileResponse:
    response = FileResponse(document.file.open("rb"), content_type="application/pdf")
    name = f"{document.form_key}-{document.dossier.code or document.dossier_id}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _slip_pdf(request: HttpRequest, dossier: Dossier | None) -> HttpResponse:
    """The official form of the counter slip, issued once per dossier and form and then re-used
    (the stored PDF carries its own verification QR, so re-rendering would make a second document)."""
    from django.db import transaction

    from motcua.documents.models import IssuedDocument
    from motcua.documents.services import issue_form

    if dossier is None:
        raise Http404(_("No such dossier is within your scope."))
    event = dossier.events.filter(action__in=COUNTER_ACTIONS).order_by("at", "pk").first()
    if event is None:
        raise Http404(_("This dossier has no counter slip."))
    form_key = SLIP_FORM[event.action]
    with transaction.atomic():
        Dossier.objects.select_for_update().filter(pk=dossier.pk).first()  # one issue at a time
        document = IssuedDocument.objects.filter(dossier=dossier, form_key=form_key).order_by("pk").first()
        if document is None:
            data = event.data or {}
            extra: dict[str, Any] = {"issued_at": event.at}
            if data.get("reason"):
                extra["reason"] = data["reason"]
            if data.get("missing"):
                extra["items"] = [
                    {"name": str(item), "originals": "", "copies": "", "note": ""} for item in data["missing"]
                ]
            document = issue_form(form_key, dossier, actor=request.user, now=event.at, extra=extra)
    return _pdf_response(document)


@staff_required
@require_GET
def slip_pdf(request: HttpRequest, code: str) -> HttpResponse:
    return _slip_pdf(request, _visible(request.user).filter(code=code.strip().upper()).first())


@staff_required
@require_GET
def slip_pdf_by_id(request: HttpRequest, pk: int) -> HttpResponse:
    return _slip_pdf(request, _visible(request.user).filter(pk=pk).first())


# --- tracking book (sổ theo dõi hồ sơ) ------------------------------------------------------------------


def parse_date_safe(value: str) -> date | None:
    """``parse_date`` that answers None for a malformed or impossible date instead of raising."""
    try:
        return parse_date(value.strip())
    except ValueError:
        return None


def _book_counter(request: HttpRequest):
    """The counter asked for (``counter``, an id among the counters in scope), or None for all of them."""
    value = request.GET.get("counter", "")
    pk = ascii_int(value, minimum=1)  # "²".isdigit() is True, and int("²") fails
    return counters_in_scope(request.user).filter(pk=pk).first() if pk is not None else None


def _book_period(request: HttpRequest) -> tuple[date, date]:
    """The period asked for (``from``/``to`` as YYYY-MM-DD); the current month when absent or invalid."""
    today = timezone.localdate()
    start = parse_date_safe(request.GET.get("from") or "")
    end = parse_date_safe(request.GET.get("to") or "")
    start = start or today.replace(day=1)
    end = end or today
    if end < start:
        start, end = end, start
    return start, end


def _moment(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else ""


def _book_dossiers(user, start: date, end: date, counter=None) -> QuerySet[Dossier]:
    return received_between(_visible(user), start, end, counter.pk if counter else None)


def _book_rows(user, start: date, end: date, counter=None) -> list[dict[str, str]]:
    """One row per dossier received in the period (at ``counter`` when given), within the user's scope."""
    dossiers = _book_dossiers(user, start, end, counter)
    return [
        {
            "code": d.code,
            "applicant": d.applicant_name,
            "procedure": d.procedure_version.name,
            "received": _moment(d.received_at),
            "due": _moment(d.due_at),
            "finished": _moment(d.finished_at),
            "returned": _moment(d.returned_at),
            "timeliness": _timeliness_label(getattr(d, "timeliness_now", "")),
        }
        for d in dossiers
    ]


def _book_headers() -> list[str]:
    return [
        _("Dossier code"),
        _("Applicant"),
        _("Procedure"),
        _("Received on"),
        _("Due"),
        _("Finished"),
        _("Returned on"),
        _("Timeliness"),
    ]


def _book_xlsx(rows: list[dict[str, str]], start: date, end: date, counter=None) -> HttpResponse:
    from openpyxl import Workbook

    from motcua.spreadsheets import save_workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("Tracking book")[:31]
    sheet.append([_("Dossier tracking book"), f"{start:%d/%m/%Y} – {end:%d/%m/%Y}", str(counter or "")])
    sheet.append(_book_headers())
    for row in rows:
        sheet.append(list(row.values()))
    # Applicants' names are typed by them: save_workbook writes every text as text, never a formula.
    response = HttpResponse(
        save_workbook(book), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="so-theo-doi-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"'
    return response


def _book_pdf(user, start: date, end: date, counter=None) -> HttpResponse:
    """Mẫu 07 rendered with the template in force for the user's agency (not stored: a book is a
    report of the moment, not a document issued to anyone)."""
    from motcua.documents import context as form_context
    from motcua.documents import rendering
    from motcua.documents import selectors as document_selectors

    agency = counter.agency if counter else getattr(user, "agency", None)
    data = form_context.empty("tracking_book")
    if agency is not None:
        data.update(issuer=form_context.issuer(agency), place=form_context.place_name(agency.unit.name))
    data["issued_at"] = timezone.now()
    data["rows"] = [
        {
            "number": number,
            "code": d.code,
            "procedure": d.procedure_version.name,
            "sets": 1,
            "applicant": d.applicant_name,
            "contact": ", ".join(v for v in (d.applicant_address, d.applicant_phone) if v),
            "agency": d.competent_agency.name,
            "received_at": timezone.localtime(d.received_at) if d.received_at else None,
            "due_at": timezone.localtime(d.due_at) if d.due_at else None,
            "returned_at": timezone.localtime(d.returned_at) if d.returned_at else None,
            "note": "",
        }
        for number, d in enumerate(_book_dossiers(user, start, end, counter), start=1)
    ]
    choice = document_selectors.select_template("tracking_book", agency)
    pdf = rendering.render_pdf(document_selectors.compiled_template(choice), data)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="so-theo-doi-{start:%Y%m%d}-{end:%Y%m%d}.pdf"'
    return response


@staff_required
@require_GET
def tracking_book(request: HttpRequest) -> HttpResponse:
    """The book of dossiers received in a period in the user's scope, or at one counter (``?counter=``);
    XLSX with ``?format=xlsx``, Mẫu 07 with ``?format=pdf``."""
    counters = counters_in_scope(request.user)
    bad = [name for name in ("from", "to") if request.GET.get(name) and parse_date_safe(request.GET[name]) is None]
    counter = _book_counter(request)
    if bad or (request.GET.get("counter") and counter is None):
        error = _("Enter dates as YYYY-MM-DD.") if bad else _("Choose one of the counters in the list.")
        context = {"error": error, "rows": [], "headers": _book_headers(), "counters": counters}
        return render(request, "dossiers/tracking_book.html", context, status=400)
    start, end = _book_period(request)
    rows = _book_rows(request.user, start, end, counter)
    if request.GET.get("format") == "xlsx":
        return _book_xlsx(rows, start, end, counter)
    if request.GET.get("format") == "pdf":
        return _book_pdf(request.user, start, end, counter)
    period = {"from": start.isoformat(), "to": end.isoformat()}
    query = urlencode({**period, "counter": counter.pk} if counter else period)
    context = {
        "counters": counters,
        "counter": counter,
        "rows": rows,
        "headers": _book_headers(),
        "start": start,
        "end": end,
        "xlsx_url": f"{reverse('dossiers:tracking-book')}?{query}&format=xlsx",
        "pdf_url": f"{reverse('dossiers:tracking-book')}?{query}&format=pdf",
    }
    return render(request, "dossiers/tracking_book.html", context)
