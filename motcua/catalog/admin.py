"""Desk pages of the procedure catalogue.

The catalogue is province-wide: only the province's system administrator edits it, unit
administrators and monitors look (``manage_roles``/``view_roles``). A published version is
shown read-only with its documents, fees and form; changing it means "Create new version",
editing that draft and publishing it. The Procedure list carries the catalogue import (upload
a file, see a row-by-row report) and the exports, as unfold list actions (views added to
``get_urls`` by unfold's ModelAdmin).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminFileFieldWidget

from motcua.catalog import codes, selectors, services, transfer
from motcua.catalog.models import DocumentComponent, FeeLine, Field, FormField, Procedure, ProcedureVersion
from motcua.org.admin_scope import ScopedModelAdmin, ScopedTabularInline, has_any_role
from motcua.org.models import Role
from motcua.text import fold

CATALOGUE_ROLES = (Role.SYSTEM_ADMIN,)
Status = ProcedureVersion.Status


def _is_draft(obj) -> bool:
    return obj is None or obj.status == Status.DRAFT


@admin.register(Field)
class FieldAdmin(ScopedModelAdmin):
    manage_roles = CATALOGUE_ROLES
    list_display = ["code", "name"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # A field in use is protected by the database; don't offer what would fail.
        return super().has_delete_permission(request, obj) and (obj is None or not obj.versions.exists())


# --- versions ------------------------------------------------------------------------------------


class VersionChildInline(ScopedTabularInline):
    """Documents, fees and form fields: editable while the version is a draft, read-only after."""

    manage_roles = CATALOGUE_ROLES
    extra = 0
    ordering_field = "order"
    hide_ordering_field = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_add_permission(request, obj) and _is_draft(obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and _is_draft(obj)


class DocumentComponentInline(VersionChildInline):
    model = DocumentComponent
    fields = ["order", "name", "originals", "copies", "requirement", "condition_note", "template"]


class FeeLineInline(VersionChildInline):
    model = FeeLine
    fields = ["order", "name", "kind", "amount", "exemption_note"]


class FormFieldInline(VersionChildInline):
    model = FormField
    fields = ["order", "name", "label", "type", "required", "choices", "help_text"]


class ProcedureVersionForm(forms.ModelForm):
    class Meta:
        model = ProcedureVersion
        fields = [
            "procedure",
            "name",
            "field",
            "levels",
            "agencies",
            "online_level",
            "time_kind",
            "resolution_days",
            "same_day_cutoff",
            "legal_basis",
            "result_type",
            "requirements",
            "description",
        ]

    def clean(self):
        cleaned = super().clean()
        procedure = cleaned.get("procedure")
        if self.instance.pk is None and procedure is not None:
            draft = procedure.versions.filter(status=Status.DRAFT).first()
            if draft is not None:
                raise ValidationError(
                    {
                        "procedure": gettext(
                            "Version %(number)s of %(code)s is already a draft: edit or publish it first."
                        )
                        % {"number": draft.number, "code": procedure.code}
                    }
                )
        return cleaned


@admin.register(ProcedureVersion)
class ProcedureVersionAdmin(ScopedModelAdmin):
    form = ProcedureVersionForm
    manage_roles = CATALOGUE_ROLES
    list_display = ["procedure_code", "name", "number", "status_badge", "field", "time_limit", "online_level"]
    list_display_links = ["name"]
    list_filter = ["field", "online_level", "status", "time_kind"]
    list_select_related = ["procedure", "field"]
    search_fields = ["name"]
    search_help_text = _("Code or words of the name; accents and case do not matter.")
    filter_horizontal = ["levels", "agencies"]
    inlines = [DocumentComponentInline, FeeLineInline, FormFieldInline]
    readonly_fields = ["number", "status", "created_by", "created_at", "published_by", "published_at"]
    fieldsets = [
        (None, {"fields": ["procedure", "number", "status", "name", "field"]}),
        (_("Implementation"), {"fields": ["levels", "agencies", "online_level"]}),
        (_("Time limit"), {"fields": ["time_kind", "resolution_days", "same_day_cutoff"]}),
        (_("Content"), {"fields": ["legal_basis", "result_type", "requirements", "description"]}),
        (_("Record"), {"fields": ["created_by", "created_at", "published_by", "published_at"]}),
    ]
    actions = ["publish_selected", "new_version_selected"]
    actions_detail = ["publish_detail", "new_version_detail"]

    @admin.display(description=_("procedure code"), ordering="procedure__code")
    def procedure_code(self, obj: ProcedureVersion) -> str:
        return obj.procedure.code

    @display(
        description=_("status"),
        ordering="status",
        label={Status.DRAFT: "warning", Status.PUBLISHED: "success", Status.RETIRED: "info"},
    )
    def status_badge(self, obj: ProcedureVersion):
        return obj.status, obj.get_status_display()

    @admin.display(description=_("time limit"), ordering="resolution_days")
    def time_limit(self, obj: ProcedureVersion) -> str:
        if obj.time_kind == ProcedureVersion.TimeKind.WORKING_DAYS:
            return gettext("%(days)s working days") % {"days": f"{obj.resolution_days.normalize():f}"}
        return str(obj.get_time_kind_display())

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "procedure"] if obj is not None else fields

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and _is_draft(obj)

    def has_publish_permission(self, request: HttpRequest, object_id=None) -> bool:
        if not has_any_role(request.user, self.manage_roles):
            return False
        if object_id is None:
            return True
        return ProcedureVersion.objects.filter(pk=object_id, status=Status.DRAFT).exists()

    def has_new_version_permission(self, request: HttpRequest, object_id=None) -> bool:
        if not has_any_role(request.user, self.manage_roles):
            return False
        if object_id is None:
            return True
        return ProcedureVersion.objects.filter(pk=object_id).exclude(status=Status.DRAFT).exists()

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        if not search_term.strip():
            return queryset, False
        national = codes.national_code(search_term)
        if national:
            return queryset.filter(procedure__code=national), False
        for word in fold(search_term).split():
            queryset = queryset.filter(search_text__contains=word)
        return queryset, False

    def save_model(self, request: HttpRequest, obj: ProcedureVersion, form, change: bool) -> None:
        services.save_draft(obj, actor=request.user)

    # Publishing and copying change state, so the buttons lead to a confirmation page that POSTs.

    def _confirm(self, request: HttpRequest, version: ProcedureVersion, title: str, message: str, button: str):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "message": message,
            "button": button,
            "object": version,
            "cancel_url": reverse("admin:catalog_procedureversion_change", args=[version.pk]),
        }
        return TemplateResponse(request, "admin/catalog/confirm_action.html", context)

    def _publish(self, request: HttpRequest, version: ProcedureVersion) -> bool:
        try:
            services.publish(version, actor=request.user)
        except ValidationError as exc:
            problems = "; ".join(services.messages_of(exc, ProcedureVersion))
            self.message_user(
                request,
                gettext("%(version)s was not published: %(problems)s") % {"version": version, "problems": problems},
                messages.ERROR,
            )
            return False
        self.message_user(request, gettext("%(version)s is published.") % {"version": version}, messages.SUCCESS)
        return True

    def _new_version(self, request: HttpRequest, version: ProcedureVersion) -> ProcedureVersion | None:
        try:
            draft = services.new_draft(version.procedure, actor=request.user)
        except ValidationError as exc:
            self.message_user(request, "; ".join(services.messages_of(exc)), messages.ERROR)
            return None
        self.message_user(
            request,
            gettext("Version %(number)s of %(code)s was created as a draft.")
            % {"number": draft.number, "code": draft.procedure.code},
            messages.SUCCESS,
        )
        return draft

    @action(description=_("Publish"), url_path="publish", icon="publish", permissions=["publish"])
    def publish_detail(self, request: HttpRequest, object_id: str):
        version = get_object_or_404(self.get_queryset(request), pk=object_id)
        if request.method != "POST":
            return self._confirm(
                request,
                version,
                gettext("Publish %(version)s") % {"version": version},
                gettext(
                    "Once published, this version can no longer be changed and the current version is retired. "
                    "Dossiers received from now on use this version."
                ),
                gettext("Publish"),
            )
        self._publish(request, version)
        return HttpResponseRedirect(reverse("admin:catalog_procedureversion_change", args=[version.pk]))

    @action(
        description=_("Create new version"), url_path="new-version", icon="content_copy", permissions=["new_version"]
    )
    def new_version_detail(self, request: HttpRequest, object_id: str):
        version = get_object_or_404(self.get_queryset(request), pk=object_id)
        if request.method != "POST":
            return self._confirm(
                request,
                version,
                gettext("Create a new version of %(code)s") % {"code": version.procedure.code},
                gettext("A draft copying the current version with its documents, fees and form will be created."),
                gettext("Create new version"),
            )
        draft = self._new_version(request, version)
        target = draft or version
        return HttpResponseRedirect(reverse("admin:catalog_procedureversion_change", args=[target.pk]))

    @admin.action(description=_("Publish the selected drafts"), permissions=["publish"])
    def publish_selected(self, request: HttpRequest, queryset) -> None:
        for version in queryset.select_related("procedure"):
            if version.status != Status.DRAFT:
                self.message_user(
                    request, gettext("%(version)s is not a draft; skipped.") % {"version": version}, messages.WARNING
                )
                continue
            self._publish(request, version)

    @admin.action(description=_("Create a new version of the selected procedures"), permissions=["new_version"])
    def new_version_selected(self, request: HttpRequest, queryset) -> None:
        seen = set()
        for version in queryset.select_related("procedure"):
            if version.procedure_id not in seen:
                seen.add(version.procedure_id)
                self._new_version(request, version)


# --- procedures ----------------------------------------------------------------------------------


class ProcedureVersionInline(ScopedTabularInline):
    """The versions of a procedure, newest first; each opens in the version page."""

    model = ProcedureVersion
    manage_roles = CATALOGUE_ROLES
    fields = ["number", "status", "name", "published_at"]
    readonly_fields = fields
    ordering = ["-number"]
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Catalogue file"),
        help_text=_("An .xlsx, .csv or .json file in the format of the export."),
        widget=UnfoldAdminFileFieldWidget,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = transfer.limits()["bytes"]
        if upload.size > limit:
            raise ValidationError(_("The file is larger than %(size)s MB.") % {"size": f"{limit / 1024 / 1024:,.0f}"})
        return upload


@admin.register(Procedure)
class ProcedureAdmin(ScopedModelAdmin):
    manage_roles = CATALOGUE_ROLES
    list_display = ["code", "current_name", "current_field", "current_online_level", "current_number"]
    list_select_related = ["current_version", "current_version__field"]
    list_filter = ["current_version__field", "current_version__online_level", "current_version__time_kind"]
    search_fields = ["code"]
    search_help_text = _("Code or words of the name; accents and case do not matter.")
    fields = ["code"]
    inlines = [ProcedureVersionInline]
    actions_list = [
        "import_catalogue",
        {"title": _("Export catalogue"), "icon": "download", "items": ["export_xlsx", "export_csv", "export_json"]},
    ]

    @admin.display(description=_("name"), ordering="current_version__name")
    def current_name(self, obj: Procedure) -> str:
        return obj.current_version.name if obj.current_version_id else "—"

    @admin.display(description=_("field of activity"), ordering="current_version__field__name")
    def current_field(self, obj: Procedure) -> str:
        version = obj.current_version
        return str(version.field) if version and version.field_id else "—"

    @admin.display(description=_("online public service"))
    def current_online_level(self, obj: Procedure) -> str:
        return str(obj.current_version.get_online_level_display()) if obj.current_version_id else "—"

    @admin.display(description=_("current version"))
    def current_number(self, obj: Procedure) -> str:
        return str(obj.current_version.number) if obj.current_version_id else "—"

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ["code"] if obj is not None else []

    def get_inlines(self, request: HttpRequest, obj=None):
        return self.inlines if obj is not None else []

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # The code is the identity; the content lives in versions.
        return super().has_change_permission(request, obj) and obj is None

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Once a version was published, dossiers may point at it: the procedure stays.
        return super().has_delete_permission(request, None) and (obj is None or not selectors.has_published(obj))

    def has_import_permission(self, request: HttpRequest) -> bool:
        return has_any_role(request.user, self.manage_roles)

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        if not search_term.strip():
            return queryset, False
        national = codes.national_code(search_term)
        if national:
            return queryset.filter(code=national), False
        return queryset.filter(selectors.procedures_for_admin(search_term)).distinct(), True

    def save_model(self, request: HttpRequest, obj: Procedure, form, change: bool) -> None:
        services.save_procedure(obj)

    def response_add(self, request: HttpRequest, obj: Procedure, post_url_continue=None):
        # A procedure is only a code: go straight on to its first version.
        if "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request, gettext("Procedure %(code)s was added; now enter its first version.") % {"code": obj.code}
        )
        return HttpResponseRedirect(f"{reverse('admin:catalog_procedureversion_add')}?procedure={obj.pk}")

    @action(description=_("Import catalogue"), url_path="import", icon="upload", permissions=["import"])
    def import_catalogue(self, request: HttpRequest):
        form = ImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = services.import_catalogue(upload.read(), filename=upload.name, actor=request.user)
            except transfer.CatalogueFileError as exc:
                form.add_error("file", exc.messages)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Import the procedure catalogue"),
            "form": form,
            "report": report,
            "required_columns": transfer.REQUIRED_COLUMNS,
            "main_columns": transfer.MAIN_COLUMNS,
            "child_columns": transfer.CHILD_COLUMNS,
            "changelist_url": reverse("admin:catalog_procedure_changelist"),
        }
        return TemplateResponse(request, "admin/catalog/import.html", context)

    def _export(self, fmt: str) -> HttpResponse:
        response = HttpResponse(services.export_catalogue(fmt), content_type=transfer.CONTENT_TYPES[fmt])
        stamp = timezone.localdate().strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="danh-muc-tthc-{stamp}.{fmt}"'
        return response

    @action(description=_("Excel (.xlsx)"), url_path="export/xlsx", icon="table_view", permissions=["view"])
    def export_xlsx(self, request: HttpRequest) -> HttpResponse:
        return self._export("xlsx")

    @action(description=_("CSV"), url_path="export/csv", icon="csv", permissions=["view"])
    def export_csv(self, request: HttpRequest) -> HttpResponse:
        return self._export("csv")

    @action(description=_("JSON"), url_path="export/json", icon="data_object", permissions=["view"])
    def export_json(self, request: HttpRequest) -> HttpResponse:
        return self._export("json")
