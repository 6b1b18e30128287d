"""A read-only desk view of dossiers, for inspection only: intake and every change go through
the services (counter screens come with the next issue), so nothing can be added, edited or
deleted here. The list is what ``dossiers_visible_to`` allows the user."""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from motcua.dossiers.models import Dossier, DossierDocument, DossierEvent, DossierPause
from motcua.dossiers.selectors import dossiers_visible_to
from motcua.org.admin_scope import VIEW_ROLES, ScopedModelAdmin
from motcua.org.models import Role


class ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class EventInline(ReadOnlyInline):
    model = DossierEvent
    fields = ["at", "action", "from_status", "to_status", "actor", "actor_role", "agency", "client_address", "data"]
    readonly_fields = fields


class DocumentInline(ReadOnlyInline):
    model = DossierDocument
    fields = ["name", "originals_received", "copies_received", "scan", "content_type", "size"]
    readonly_fields = fields

    @admin.display(description=_("scan"))
    def scan(self, obj: DossierDocument) -> str:
        # Files are served only through the permission-checked view, never from MEDIA_URL.
        if not obj.file:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("dossiers:document", args=[obj.pk]), obj.original_filename)


class PauseInline(ReadOnlyInline):
    model = DossierPause
    fields = ["started_at", "ended_at", "reason"]
    readonly_fields = fields


@admin.register(Dossier)
class DossierAdmin(ScopedModelAdmin):
    scope_unit_field = "receiving_agency__unit"  # object_in_scope asks get_queryset below
    view_roles = (*VIEW_ROLES, Role.CLERK, Role.LEADER, Role.SPECIALIST)
    list_display = ["code", "applicant_name", "procedure_version", "status", "received_at", "due_at"]
    list_filter = ["status", "channel"]
    search_fields = ["code", "search_text"]
    inlines = [DocumentInline, PauseInline, EventInline]

    def get_queryset(self, request: HttpRequest):
        return dossiers_visible_to(request.user).select_related(
            "procedure_version__procedure", "receiving_agency", "competent_agency"
        )

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [field.name for field in self.model._meta.fields if field.name != "search_text"]

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
