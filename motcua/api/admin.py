"""Desk page of API tokens: list, filter, revoke; a new token's secret is shown once, never again.

Scoped like every desk page: a unit administrator sees and revokes only the tokens of the staff
of their unit subtree (``selectors.tokens_visible_to``); monitors look; nobody edits or deletes a
token (a revoked token stays as the record of who could call the API).

A token is issued only to the person adding it (the form has no "user"): an administrator who
could mint a token for a leader could act, and sign, as that leader. Other staff get theirs from
the system operator on the server (``manage.py issue_api_token``), who can do anything anyway.
"""

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from motcua.api import selectors, services
from motcua.api.models import ApiToken
from motcua.org.admin_scope import ScopedModelAdmin, has_any_role


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("active")), ("revoked", _("revoked")), ("expired", _("expired"))]

    def queryset(self, request, queryset: QuerySet[ApiToken]):
        now = timezone.now()
        expired = Q(expires_at__isnull=False, expires_at__lte=now)
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True).exclude(expired)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(expired, revoked_at__isnull=True)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(ScopedModelAdmin):
    scope_unit_field = "user__unit"  # get_queryset below narrows further, as users_in_scope does
    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "expires_at", "revoked_at", "state"]
    list_filter = [StateFilter, "user__unit", "created_at"]
    search_fields = ["prefix", "name", "user__email", "user__full_name"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at", "revoked_by"]
    fields = ["user", "name", "expires_at", "prefix", "created_at", "last_used_at", "revoked_at", "revoked_by"]
    add_fields = ["name", "expires_at"]  # the owner is always the person adding it
    actions = ["revoke_selected"]

    def get_queryset(self, request: HttpRequest):
        return selectors.tokens_visible_to(request.user)

    @admin.display(description=_("state"))
    def state(self, obj: ApiToken) -> str:
        if obj.revoked_at is not None:
            return str(_("revoked"))
        if obj.expires_at is not None and obj.expires_at <= timezone.now():
            return str(_("expired"))
        if not obj.user.is_active:
            return str(_("account disabled"))
        return str(_("active"))

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # a token is issued or revoked, never edited

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return has_any_role(request.user, self.manage_roles)

    def get_fields(self, request: HttpRequest, obj=None):
        return self.add_fields if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return []
        return self.fields

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        """Issue to the requester through the service; the secret goes into one message to them and is
        not kept anywhere."""
        if change:
            return  # never edited (has_change_permission); nothing to save
        token, plaintext = services.issue_token(request.user, obj.name, expires_at=obj.expires_at, by=request.user)
        obj.pk = token.pk
        obj.prefix, obj.secret_hash, obj.created_at = token.prefix, token.secret_hash, token.created_at
        obj._state.adding = False
        obj._state.db = token._state.db
        obj.user = request.user
        messages.warning(
            request,
            _("Your new API token is %(token)s — copy it now: it is not stored and will not be shown again.")
            % {"token": plaintext},
        )

    @admin.action(description=_("Revoke the selected tokens"), permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = sum(services.revoke(token, by=request.user) for token in queryset.filter(revoked_at__isnull=True))
        self.message_user(request, _("%(count)s token(s) revoked.") % {"count": count}, messages.SUCCESS)
