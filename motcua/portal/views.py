"""Citizen pages at ``/``: catalogue, online submission, "my dossiers", public look-up. Thin: services decide."""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from motcua.catalog import selectors as catalog_selectors
from motcua.catalog.formschema import build_form_class
from motcua.catalog.models import Field, ProcedureVersion
from motcua.dossiers import services as dossier_services
from motcua.dossiers.downloads import uploaded_file_response
from motcua.dossiers.lifecycle import Status
from motcua.dossiers.models import DossierDocument
from motcua.integrations.payments import selectors as fee_selectors
from motcua.org.client_address import client_ip
from motcua.org.models import AdministrativeLevel, Agency, Role
from motcua.portal import selectors, services
from motcua.text import text_problem

PAGE_SIZE = 50


def _is_citizen(user) -> bool:
    return user.is_authenticated and user.has_role(Role.CITIZEN)


def citizen_required(view):
    """Logged in as a citizen; a staff account gets a 403 (citizens and staff are separate)."""

    @login_required(login_url="portal:login")
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _is_citizen(request.user):
            raise PermissionDenied(_("This page is for citizens' accounts."))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _ip(request: HttpRequest) -> str | None:
    return client_ip(request)  # behind the trusted proxies, the client's own address


# --- accounts ----------------------------------------------------------------------------------
# django-allauth serves the account pages under /accounts/ (templates in templates/account/ and
# templates/socialaccount/); the portal's short addresses lead there, keeping ?next=.


def _to(name: str, request: HttpRequest) -> HttpResponse:
    url = reverse(name)
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


def login(request: HttpRequest) -> HttpResponse:
    return _to("account_login", request)


def signup(request: HttpRequest) -> HttpResponse:
    return _to("account_signup", request)


# --- catalogue ---------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    """The citizen's start page: search the catalogue (diacritics ignored), filter by field, level, agency."""
    q = request.GET.get("q", "")[:200]
    field = request.GET.get("field", "")[:50]
    level = request.GET.get("level", "")[:50]
    agency = request.GET.get("agency", "")[:50]
    online = request.GET.get("online", "")
    online = online if online in ProcedureVersion.OnlineLevel.values else ""
    searched = any((q, field, level, agency, online))
    # Without a search the page lists the catalogue itself, so a citizen can browse it.
    results = list(
        catalog_selectors.search_procedures(q, field or None, level or None, agency or None, online or None)[:PAGE_SIZE]
    )
    return render(
        request,
        "portal/home.html",
        {
            "q": q,
            "field": field,
            "level": level,
            "agency": agency,
            "online": online,
            "searched": searched,
            "results": results,
            "fields": Field.objects.order_by("code"),
            "levels": AdministrativeLevel.objects.order_by("rank"),
            "agencies": Agency.objects.filter(is_active=True).order_by("name"),
            "online_levels": ProcedureVersion.OnlineLevel.choices,
        },
    )


def _version_or_404(code: str) -> ProcedureVersion:
    version = catalog_selectors.get_procedure(code)
    if version is None:
        raise Http404(_("No published procedure has this code."))
    return version


def procedure(request: HttpRequest, code: str) -> HttpResponse:
    version = _version_or_404(code)
    return render(
        request,
        "portal/procedure.html",
        {
            "version": version,
            "online": version.online_level != ProcedureVersion.OnlineLevel.NONE,
            "full_online": version.online_level == ProcedureVersion.OnlineLevel.FULL,
        },
    )


def template_download(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """A form template of a published procedure (always as a download)."""
    version = _version_or_404(code)
    component = next((c for c in version.components.all() if c.pk == pk and c.template), None)
    if component is None:
        raise Http404(_("No such form template."))
    response = FileResponse(default_storage.open(component.template.name, "rb"), as_attachment=True)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- online submission -------------------------------------------------------------------------


class ApplicantForm(forms.Form):
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=255, required=False)
    id_number = forms.CharField(
        label=gettext_lazy("Citizen ID number (CCCD, 12 digits)"), max_length=20, required=False
    )
    date_of_birth = forms.CharField(label=gettext_lazy("Date of birth (dd/mm/yyyy)"), max_length=10, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=20, required=False)
    email = forms.CharField(label=gettext_lazy("E-mail"), max_length=254, required=False)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=500, required=False)
    accepts_sms = forms.BooleanField(label=gettext_lazy("Send me SMS notices"), required=False)
    accepts_zalo = forms.BooleanField(label=gettext_lazy("Send me Zalo notices"), required=False)


def _initial_applicant(request: HttpRequest, draft) -> dict:
    if draft is not None:
        return {
            "full_name": draft.applicant_name,
            "id_number": draft.applicant_id_number,
            "date_of_birth": draft.applicant_birth_date.strftime("%d/%m/%Y") if draft.applicant_birth_date else "",
            "phone": draft.applicant_phone,
            "email": draft.applicant_email,
            "address": draft.applicant_address,
            "accepts_sms": draft.accepts_sms,
            "accepts_zalo": draft.accepts_zalo,
        }
    citizen = getattr(request.user, "citizen", None)
    email = request.user.email
    return {
        "full_name": getattr(citizen, "full_name", "") or request.user.full_name,
        "id_number": getattr(citizen, "id_number", "") or "",
        "phone": getattr(citizen, "phone", ""),
        # Phone-only and SSO accounts have an address that cannot receive mail: not the applicant's.
        "email": "" if email.endswith(".invalid") else email,
        "address": getattr(citizen, "address", ""),
    }


def _errors_list(error: ValidationError) -> list[str]:
    return [f"{m}" for messages in error.message_dict.values() for m in messages]


def _edit(request: HttpRequest, version: ProcedureVersion, draft=None) -> HttpResponse:
    schema_form_class = build_form_class(version)
    agencies = list(version.agencies.filter(is_active=True).order_by("name"))
    errors: list[str] = []
    if request.method == "POST":
        applicant_form = ApplicantForm(request.POST)
        applicant_form.is_valid()
        schema_form = schema_form_class(request.POST, prefix="f")
        form_data = {name: request.POST.get(f"f-{name}", "") for name in schema_form.fields}
        documents = [
            {"component": c.pk, "file": request.FILES[f"doc_{c.pk}"]}
            for c in version.components.all()
            if f"doc_{c.pk}" in request.FILES
        ]
        try:
            saved = dossier_services.save_draft(
                request.user,
                procedure_code=version.procedure.code,
                draft=draft,
                agency=request.POST.get("agency") or None,
                applicant=applicant_form.cleaned_data,
                form_data=form_data,
                documents=documents,
            )
        except ValidationError as error:
            errors = _errors_list(error)
        else:
            if request.POST.get("action") == "check":
                return redirect("portal:summary", pk=saved.pk)
            return redirect(reverse("portal:edit", args=[saved.pk]) + "?saved=1")
    else:
        applicant_form = ApplicantForm(initial=_initial_applicant(request, draft))
        schema_form = schema_form_class(initial=draft.form_data if draft else None, prefix="f")
    return render(
        request,
        "portal/edit.html",
        {
            "version": version,
            "draft": draft,
            "applicant_form": applicant_form,
            "schema_form": schema_form,
            "components": version.components.all(),
            "agencies": agencies,
            "errors": errors,
            "saved": request.GET.get("saved") == "1",
            "max_mb": round(
                int(getattr(settings, "MOTCUA_MAX_FILE_SIZE", dossier_services.DEFAULT_MAX_FILE_SIZE)) / 1_048_576
            ),
        },
        status=422 if errors else 200,
    )


@citizen_required
def start(request: HttpRequest, code: str) -> HttpResponse:
    version = _version_or_404(code)
    if version.online_level == ProcedureVersion.OnlineLevel.NONE:
        raise Http404(_("This procedure cannot be submitted online."))
    return _edit(request, version)


def _mine_or_404(request: HttpRequest, pk: int):
    dossier = selectors.my_dossier(request.user, pk)
    if dossier is None:
        raise Http404(_("No such dossier among yours."))
    return dossier


@citizen_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    draft = _mine_or_404(request, pk)
    if draft.status not in dossier_services.EDITABLE_ONLINE:
        return redirect("portal:dossier", pk=pk)
    return _edit(request, draft.procedure_version, draft)


@citizen_required
def summary(request: HttpRequest, pk: int) -> HttpResponse:
    """Check everything before sending; the submit button posts here."""
    draft = _mine_or_404(request, pk)
    if draft.status not in dossier_services.EDITABLE_ONLINE:
        return redirect("portal:dossier", pk=pk)
    errors: list[str] = []
    if request.method == "POST":
        try:
            dossier_services.submit_online(request.user, draft, ip=_ip(request))
        except ValidationError as error:
            errors = _errors_list(error)
        else:
            return redirect(reverse("portal:dossier", args=[pk]) + "?sent=1")
    form = build_form_class(draft.procedure_version)(initial=draft.form_data)
    answers = [(form[name].label, draft.form_data.get(name, "")) for name in form.fields]
    return render(
        request,
        "portal/summary.html",
        {"dossier": draft, "answers": answers, "documents": draft.documents.all(), "errors": errors},
        status=422 if errors else 200,
    )


# --- my dossiers -------------------------------------------------------------------------------


@citizen_required
def my_list(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/my_list.html", {"dossiers": selectors.my_dossiers(request.user)})


@citizen_required
def dossier(request: HttpRequest, pk: int) -> HttpResponse:
    """Status, current step, deadline, timeline; the supplement answer and the rating are posted here."""
    item = _mine_or_404(request, pk)
    errors: list[str] = []
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "supplement":
        documents = [{"name": _("Supplement"), "file": f} for f in request.FILES.getlist("files")]
        try:
            dossier_services.answer_supplement(request.user, item, documents=documents, ip=_ip(request))
        except ValidationError as error:
            errors = _errors_list(error)
        except PermissionDenied as error:
            errors = [str(error)]
        else:
            return redirect(reverse("portal:dossier", args=[pk]) + "?supplemented=1")
    elif action == "rate":
        try:
            services.rate(request.user, item, score=request.POST.get("score"), comment=request.POST.get("comment", ""))
        except ValidationError as error:
            errors = _errors_list(error)
        else:
            return redirect(reverse("portal:dossier", args=[pk]) + "?rated=1")
    elif request.method == "POST":
        errors = [_("Unknown action.")]
    return render(
        request,
        "portal/dossier.html",
        {
            "dossier": item,
            "events": selectors.timeline(item),
            "step": selectors.current_step(item),
            "documents": item.documents.all(),
            "errors": errors,
            "rating": getattr(item, "rating", None) if hasattr(item, "rating") else None,
            "can_rate": item.status == Status.RETURNED and not hasattr(item, "rating"),
            "verify_url": _verify_url(),
            "results": selectors.results(item),
            "fees": fee_selectors.fees_of_dossier(request.user, item.pk),
            "notice": request.GET.get("sent") or request.GET.get("supplemented") or request.GET.get("rated"),
        },
        status=422 if errors else 200,
    )


def _verify_url() -> str:
    """The documents app's verification page, when the project mounts it."""
    try:
        return reverse("documents:verify")
    except NoReverseMatch:
        return ""


@citizen_required
def document(request: HttpRequest, pk: int) -> HttpResponse:
    """A file of one of the citizen's dossiers; always a download."""
    doc = DossierDocument.objects.filter(pk=pk, dossier__owner__user=request.user).exclude(file="").first()
    if doc is None:
        raise Http404(_("No such document among yours."))
    try:
        # The name and type are those of the bytes, not the uploader's (dossiers/downloads.py).
        return uploaded_file_response(doc.file.name, doc.original_filename)
    except FileNotFoundError:
        raise Http404(_("No such document among yours.")) from None


@citizen_required
def result(request: HttpRequest, pk: int) -> HttpResponse:
    """An issued (signed) document of one of the citizen's dossiers, byte for byte, as a download."""
    from motcua.documents.models import IssuedDocument

    doc = IssuedDocument.objects.filter(pk=pk, dossier__owner__user=request.user).exclude(file="").first()
    if doc is None:
        raise Http404(_("No such document among yours."))
    response = FileResponse(
        default_storage.open(doc.file.name, "rb"),
        as_attachment=True,
        filename=doc.file.name.rsplit("/", 1)[-1],
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- public look-up ----------------------------------------------------------------------------

LOOKUP_LIMIT_PER_IP = 20
LOOKUP_LIMIT_PER_CODE = 5
LOOKUP_WINDOW = 600


def _over_limit(key: str, limit: int) -> bool:
    """Count one attempt in the shared cache (locmem here; Redis when there are several servers)."""
    cache.add(key, 0, LOOKUP_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, LOOKUP_WINDOW)
        count = 1
    return count > limit


def lookup(request: HttpRequest) -> HttpResponse:
    """Status, deadline and next step from the code plus the last 4 digits of the phone or ID number."""
    result = None
    message = ""
    status = 200
    code = request.POST.get("code", "")[:50].strip().upper() if request.method == "POST" else ""
    if text_problem(code):
        code = ""  # a NUL would reach the database (cache key, look-up) as a 500: no code, the 422 below
    if request.method == "POST":
        digits = request.POST.get("digits", "")[:10].strip()
        per_ip = getattr(settings, "PORTAL_LOOKUP_LIMIT_PER_IP", LOOKUP_LIMIT_PER_IP)
        per_code = getattr(settings, "PORTAL_LOOKUP_LIMIT_PER_CODE", LOOKUP_LIMIT_PER_CODE)
        limited = _over_limit(f"portal:lookup:ip:{_ip(request)}", per_ip)
        limited = _over_limit(f"portal:lookup:code:{code}", per_code) or limited
        if limited:
            message = _("Too many look-ups. Please wait a few minutes and try again.")
            status = 429
        elif not code or not (len(digits) == 4 and digits.isdigit()):
            message = _("Enter the dossier code and the last 4 digits of the phone or ID number.")
            status = 422
        else:
            result = selectors.public_lookup(code, digits)
            if result is None:
                message = _("No dossier matches this code and these digits.")
                status = 404
    return render(request, "portal/lookup.html", {"result": result, "message": message, "code": code}, status=status)
