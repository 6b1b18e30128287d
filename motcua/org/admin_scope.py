"""The base of every desk (admin) page: scoped to the user's unit subtree, permissions by role.

A unit administrator (the seed's district IT administrator) manages users, workflows and
settings only inside their own unit and the units below it. Rather than grant Django model
permissions row by row, each ModelAdmin states which unit field scopes it and which roles
may view or manage it; the queryset and every foreign-key choice are then filtered, so an
object outside the scope can be neither listed, opened, chosen nor saved.
"""

from django.db import models
from django.http import HttpRequest
from unfold.admin import ModelAdmin, StackedInline, TabularInline

from motcua.org import selectors
from motcua.org.models import AdministrativeUnit, Agency, Department, Role, User

ADMIN_ROLES = (Role.SYSTEM_ADMIN, Role.UNIT_ADMIN)
VIEW_ROLES = (*ADMIN_ROLES, Role.MONITOR)

_SCOPED_CHOICES = {
    AdministrativeUnit: selectors.units_in_scope,
    Agency: selectors.agencies_in_scope,
    Department: selectors.departments_in_scope,
    User: selectors.users_in_scope,
}


def has_any_role(user, roles) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return selectors.is_system_admin(user) or user.has_role(*roles)


class ScopeMixin:
    """Shared by model admins and inlines; see the module docstring."""

    #: Lookup from the model to the AdministrativeUnit that scopes it; None for province-wide data.
    scope_unit_field: str | None = None
    #: Roles that may add, change and delete (inside their scope).
    manage_roles: tuple[str, ...] = ADMIN_ROLES
    #: Roles that may look.
    view_roles: tuple[str, ...] = VIEW_ROLES

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request)
        if self.scope_unit_field is None:
            return qs
        return qs.filter(selectors.scope_filter(request.user, self.scope_unit_field)).distinct()

    def object_in_scope(self, request: HttpRequest, obj) -> bool:
        if obj is None or obj.pk is None or self.scope_unit_field is None:
            return True
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_any_role(request.user, self.view_roles)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return has_any_role(request.user, self.view_roles) and self.object_in_scope(request, obj)

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return has_any_role(request.user, self.manage_roles)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return has_any_role(request.user, self.manage_roles) and self.object_in_scope(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def _limit(self, db_field, request: HttpRequest, kwargs: dict) -> dict:
        chooser = _SCOPED_CHOICES.get(db_field.related_model)
        if chooser is not None and "queryset" not in kwargs:
            kwargs["queryset"] = chooser(request.user)
        return kwargs

    def formfield_for_foreignkey(self, db_field: models.ForeignKey, request: HttpRequest, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **self._limit(db_field, request, kwargs))

    def formfield_for_manytomany(self, db_field: models.ManyToManyField, request: HttpRequest, **kwargs):
        return super().formfield_for_manytomany(db_field, request, **self._limit(db_field, request, kwargs))


class ScopedModelAdmin(ScopeMixin, ModelAdmin):
    pass


class ScopedTabularInline(ScopeMixin, TabularInline):
    pass


class ScopedStackedInline(ScopeMixin, StackedInline):
    pass
