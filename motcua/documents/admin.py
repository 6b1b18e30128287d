"""Desk pages: form template overrides (checked in the sandbox, previewed as PDF, rolled back by
deactivating, with their history), trusted roots and CRLs, signing certificates, issued documents.

Previews are PDF only: an override's HTML is never shown in the desk's own pages, so a unit
administrator's template cannot run script in a system administrator's browser.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display

from motcua.documents import registry, selectors, services
from motcua.documents.context import CONTEXT_KEYS
from motcua.documents.models import (
    DocumentSignature,
    IssuedDocument,
    RevocationList,
    SigningCertificate,
    TemplateOverride,
    TrustedRoot,
)
from motcua.org.admin_scope import ADMIN_ROLES, VIEW_ROLES, ScopedModelAdmin, ScopeMixin, has_any_role
from motcua.org.models import Role


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _confirm(model_admin, request, obj, title: str, message: str, button: str, cancel_url: str):
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "message": message,
        "button": button,
        "object": obj,
        "cancel_url": cancel_url,
    }
    return TemplateResponse(request, "admin/catalog/confirm_action.html", context)


# --- template overrides -------------------------------------------------------------------------------


class TemplateOverrideForm(forms.ModelForm):
    class Meta:
        model = TemplateOverride
        fields = ["form_key", "unit", "agency", "body", "note"]
        widgets = {"body": forms.Textarea(attrs={"rows": 28, "spellcheck": "false", "class": "font-mono"})}

    def clean(self):
        data = super().clean()
        if bool(data.get("unit")) == bool(data.get("agency")):
            raise ValidationError(_("Choose either an administrative unit or an agency for the override."))
        if data.get("form_key") and data.get("body") is not None:
            try:
                services.check_template(data["form_key"], data["body"].replace("\r\n", "\n"))
            except ValidationError as exc:
                for message in exc.message_dict.get("body", []):
                    self.add_error("body", message)
        return data


@admin.register(TemplateOverride)
class TemplateOverrideAdmin(ScopeMixin, SimpleHistoryAdmin, ModelAdmin):
    form = TemplateOverrideForm
    scope_unit_field = "unit"  # the queryset below also admits agency-scoped rows
    list_display = ["form_key", "scope", "active_badge", "note", "updated_at", "updated_by"]
    list_filter = ["form_key", "is_active"]
    search_fields = ["note", "unit__name", "agency__name", "agency__code"]
    readonly_fields = ["is_active", "created_by", "created_at", "updated_by", "updated_at", "context_help"]
    fieldsets = [
        (None, {"fields": ["form_key", "unit", "agency", "note", "is_active"]}),
        (_("Template"), {"fields": ["context_help", "body"]}),
        (_("Record"), {"fields": ["created_by", "created_at", "updated_by", "updated_at"]}),
    ]
    actions_detail = ["preview_detail", "deactivate_detail"]
    list_before_template = "admin/documents/override_list_before.html"

    def get_queryset(self, request: HttpRequest):
        return selectors.overrides_visible_to(request.user)

    @admin.display(description=_("applies to"))
    def scope(self, obj: TemplateOverride) -> str:
        return obj.scope_name

    @display(description=_("status"), label={True: "success", False: "info"})
    def active_badge(self, obj: TemplateOverride):
        return obj.is_active, gettext("active") if obj.is_active else gettext("inactive")

    @admin.display(description=_("data available"))
    def context_help(self, obj=None) -> str:
        return format_html(
            "{}<br><code>{}</code><br>{}",
            gettext("A form template receives only these names (plus loop variables):"),
            ", ".join(CONTEXT_KEYS),
            gettext(
                "Filters for dates and money: vn_date, vn_datetime, vn_money. Tags such as load, include, url "
                "and debug are not available, and links to outside files are refused."
            ),
        )

    def save_model(self, request: HttpRequest, obj: TemplateOverride, form, change: bool) -> None:
        data = form.cleaned_data
        saved = services.save_override(
            actor=request.user,
            form_key=data["form_key"],
            body=data["body"],
            unit=data.get("unit"),
            agency=data.get("agency"),
            note=data.get("note", ""),
            override=obj if change else None,
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # history matters: roll back by deactivating

    def has_deactivate_permission(self, request: HttpRequest, object_id=None) -> bool:
        return has_any_role(request.user, ADMIN_ROLES)

    def has_preview_permission(self, request: HttpRequest, object_id=None) -> bool:
        return has_any_role(request.user, VIEW_ROLES)

    @action(description=_("Preview (PDF)"), url_path="preview", icon="picture_as_pdf", permissions=["preview"])
    def preview_detail(self, request: HttpRequest, object_id: str):
        override = get_object_or_404(self.get_queryset(request), pk=object_id)
        return _pdf(services.preview_pdf(override.form_key, override=override), f"{override.form_key}-preview.pdf")

    @action(
        description=_("Deactivate (back to the default)"),
        url_path="deactivate",
        icon="undo",
        permissions=["deactivate"],
    )
    def deactivate_detail(self, request: HttpRequest, object_id: str):
        override = get_object_or_404(self.get_queryset(request), pk=object_id)
        change_url = reverse("admin:documents_templateoverride_change", args=[override.pk])
        if request.method != "POST":
            return _confirm(
                self,
                request,
                override,
                gettext("Deactivate this override"),
                gettext(
                    "The form will again use the template of the wider scope, or the default template. "
                    "The override stays in the list and its history, and can be saved again later."
                ),
                gettext("Deactivate"),
                change_url,
            )
        try:
            services.deactivate_override(override, actor=request.user)
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, gettext("The override is no longer in force."), messages.SUCCESS)
        return HttpResponseRedirect(change_url)

    def get_urls(self):
        custom = [
            path(
                "preview-default/<str:form_key>/",
                self.admin_site.admin_view(self.preview_default),
                name="documents_templateoverride_preview_default",
            )
        ]
        return custom + super().get_urls()

    def preview_default(self, request: HttpRequest, form_key: str) -> HttpResponse:
        """The default template of a form with the sample dossier (what an override replaces)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if form_key not in registry.FormKey.values:
            raise Http404
        return _pdf(services.preview_pdf(form_key), f"{form_key}-default.pdf")

    def changelist_view(self, request: HttpRequest, extra_context=None):
        links = [
            (label, reverse("admin:documents_templateoverride_preview_default", args=[key]))
            for key, label in registry.FormKey.choices
        ]
        return super().changelist_view(request, {**(extra_context or {}), "default_previews": links})


# --- trust material ------------------------------------------------------------------------------------


class TrustedRootForm(forms.ModelForm):
    class Meta:
        model = TrustedRoot
        fields = ["name", "certificate_pem", "unit", "is_active"]
        widgets = {"certificate_pem": forms.Textarea(attrs={"rows": 12, "class": "font-mono"})}
        help_texts = {"name": _("Leave empty to use the certificate's own name.")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required = self.instance.pk is not None


@admin.register(TrustedRoot)
class TrustedRootAdmin(ScopedModelAdmin):
    form = TrustedRootForm
    manage_roles = (Role.SYSTEM_ADMIN,)
    list_display = ["name", "subject", "not_after", "unit", "is_active"]
    list_filter = ["is_active"]
    readonly_fields = ["fingerprint", "subject", "not_after", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "certificate_pem"] if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: TrustedRoot, form, change: bool) -> None:
        if change:
            obj.save(update_fields=["name", "unit", "is_active"])
            return
        try:
            saved = services.add_trusted_root(
                form.cleaned_data["certificate_pem"],
                name=form.cleaned_data.get("name", ""),
                unit=form.cleaned_data.get("unit"),
                actor=request.user,
            )
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        obj.pk = saved.pk

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class CheckedForm(form):
            def clean_certificate_pem(self):
                from motcua.documents import pki

                value = self.cleaned_data.get("certificate_pem", "")
                if obj is None:
                    try:
                        facts = pki.describe(pki.load_certificate(value))
                    except ValueError as exc:
                        raise forms.ValidationError(_("This is not a certificate in PEM or DER form.")) from exc
                    if not facts.is_ca:
                        raise forms.ValidationError(_("This certificate is not a certification authority."))
                return value

        return CheckedForm


@admin.register(RevocationList)
class RevocationListAdmin(ScopedModelAdmin):
    manage_roles = (Role.SYSTEM_ADMIN,)
    list_display = ["issuer", "this_update", "next_update", "revoked_count"]
    fields = ["crl_pem", "issuer", "this_update", "next_update", "revoked_count"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        base = ["issuer", "this_update", "next_update", "revoked_count"]
        return [*base, "crl_pem"] if obj is not None else base

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class CheckedForm(form):
            def clean_crl_pem(self):
                from motcua.documents import pki

                value = self.cleaned_data.get("crl_pem", "")
                try:
                    pki.load_crl(value)
                except ValueError as exc:
                    raise forms.ValidationError(
                        _("This is not a certificate revocation list in PEM or DER form.")
                    ) from exc
                return value

        return CheckedForm

    def save_model(self, request: HttpRequest, obj: RevocationList, form, change: bool) -> None:
        saved = services.store_crl(form.cleaned_data["crl_pem"], actor=request.user)
        obj.pk = saved.pk

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)


# --- signing certificates -----------------------------------------------------------------------------------


class SigningCertificateForm(forms.ModelForm):
    class Meta:
        model = SigningCertificate
        fields = [
            "user",
            "label",
            "kind",
            "agency",
            "mode",
            "certificate_pem",
            "key_file",
            "secret_ref",
            "token_label",
            "remote_user_id",
        ]
        widgets = {"certificate_pem": forms.Textarea(attrs={"rows": 10, "class": "font-mono"})}
        help_texts = {"label": _("Leave empty to use the certificate's own name.")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "label" in self.fields:
            self.fields["label"].required = self.instance.pk is not None


@admin.register(SigningCertificate)
class SigningCertificateAdmin(ScopedModelAdmin):
    form = SigningCertificateForm
    scope_unit_field = "user__unit"
    list_display = ["label", "user", "kind", "mode", "not_after", "state_badge"]
    list_filter = ["mode", "kind", "is_active"]
    search_fields = ["label", "subject_name", "user__email", "user__full_name", "serial_number"]
    readonly_fields = [
        "subject_name",
        "organisation",
        "issuer_name",
        "serial_number",
        "fingerprint",
        "not_before",
        "not_after",
        "revoked_at",
        "revocation_reason",
        "created_at",
    ]
    actions_detail = ["revoke_detail"]

    @display(description=_("state"), label={"valid": "success", "expired": "warning", "revoked": "danger"})
    def state_badge(self, obj: SigningCertificate):
        if obj.revoked_at:
            return "revoked", gettext("revoked")
        if obj.not_after <= timezone.now():
            return "expired", gettext("expired")
        return "valid", gettext("valid")

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["user", "mode", "certificate_pem", "kind"]
        return fields

    def save_model(self, request: HttpRequest, obj: SigningCertificate, form, change: bool) -> None:
        if change:
            obj.save(update_fields=["label", "agency", "key_file", "secret_ref", "token_label", "remote_user_id"])
            return
        data = form.cleaned_data
        saved = services.register_certificate(
            user=data["user"],
            certificate=data["certificate_pem"],
            mode=data["mode"],
            label=data.get("label", ""),
            kind=data["kind"],
            agency=data.get("agency"),
            key_file=data.get("key_file", ""),
            secret_ref=data.get("secret_ref", ""),
            token_label=data.get("token_label", ""),
            remote_user_id=data.get("remote_user_id", ""),
            actor=request.user,
        )
        obj.pk = saved.pk

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form

        class CheckedForm(form):
            def clean(self):
                data = super().clean()
                if self.errors:
                    return data
                try:
                    services.check_registration(
                        certificate=data["certificate_pem"],
                        mode=data["mode"],
                        key_file=data.get("key_file", ""),
                        secret_ref=data.get("secret_ref", ""),
                        token_label=data.get("token_label", ""),
                        remote_user_id=data.get("remote_user_id", ""),
                        new=True,
                    )
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        self.add_error(field if field in self.fields else None, errors)
                return data

        return CheckedForm

    def has_revoke_permission(self, request: HttpRequest, object_id=None) -> bool:
        return has_any_role(request.user, ADMIN_ROLES)

    @action(description=_("Revoke"), url_path="revoke", icon="block", permissions=["revoke"])
    def revoke_detail(self, request: HttpRequest, object_id: str):
        certificate = get_object_or_404(self.get_queryset(request), pk=object_id)
        change_url = reverse("admin:documents_signingcertificate_change", args=[certificate.pk])
        if request.method != "POST":
            return _confirm(
                self,
                request,
                certificate,
                gettext("Revoke this certificate"),
                gettext("Nothing can be signed with it any more. Ask the certification authority to revoke it too."),
                gettext("Revoke"),
                change_url,
            )
        services.revoke_certificate(certificate, actor=request.user, reason=gettext("Revoked in the desk"))
        self.message_user(request, gettext("The certificate is revoked."), messages.SUCCESS)
        return HttpResponseRedirect(change_url)


# --- issued documents ---------------------------------------------------------------------------------------


class SignatureInline(TabularInline):
    model = DocumentSignature
    extra = 0
    can_delete = False
    fields = ["field_name", "signer", "certificate", "mode", "reason", "signed_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(ScopedModelAdmin):
    view_roles = (*VIEW_ROLES, Role.CLERK, Role.LEADER, Role.SPECIALIST, Role.DOCUMENT_CLERK)
    list_display = ["title", "form_key", "agency", "dossier", "created_at", "signature_count"]
    list_filter = ["form_key", "is_pdf_a"]
    search_fields = ["title", "token", "dossier__code"]
    fields = ["title", "form_key", "dossier", "agency", "sha256", "size", "is_pdf_a", "created_by", "created_at"]
    readonly_fields = fields
    inlines = [SignatureInline]
    actions_detail = ["download_detail", "verify_detail"]

    def get_queryset(self, request: HttpRequest):
        return selectors.documents_visible_to(request.user).select_related("agency", "dossier")

    @admin.display(description=_("signatures"))
    def signature_count(self, obj: IssuedDocument) -> int:
        return obj.signatures.count()

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_download_permission(self, request: HttpRequest, object_id=None) -> bool:
        return self.has_view_permission(request)

    @action(description=_("Download the PDF"), url_path="download", icon="download", permissions=["download"])
    def download_detail(self, request: HttpRequest, object_id: str):
        document = get_object_or_404(self.get_queryset(request), pk=object_id)
        response = FileResponse(document.file.open("rb"), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{document.token}.pdf"'
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @action(description=_("Verification page"), url_path="verify", icon="verified", permissions=["download"])
    def verify_detail(self, request: HttpRequest, object_id: str):
        document = get_object_or_404(self.get_queryset(request), pk=object_id)
        return HttpResponseRedirect(reverse("documents:verify-token", args=[document.token]))
