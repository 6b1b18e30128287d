"""The desk pages of the organisation: units, agencies, departments, counters and staff."""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from motcua.org import selectors, services
from motcua.org.admin_scope import ADMIN_ROLES, ScopedModelAdmin, ScopedTabularInline, has_any_role
from motcua.org.models import AdministrativeLevel, AdministrativeUnit, Agency, Counter, Department, Role, User, UserRole


@admin.register(AdministrativeLevel)
class AdministrativeLevelAdmin(ScopedModelAdmin):
    list_display = ["name", "code", "rank"]
    manage_roles = (Role.SYSTEM_ADMIN,)


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(ScopedModelAdmin):
    scope_unit_field = ""
    list_display = ["indented_name", "level", "statistical_code", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "statistical_code"]
    autocomplete_fields = []
    fields = ["name", "level", "parent", "statistical_code", "is_active", "successor"]

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj: AdministrativeUnit) -> str:
        depth = obj.path.count("/") - 2
        return "— " * max(depth, 0) + obj.name

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # A unit administrator manages what is below their unit, not the unit itself.
        if obj is not None and not selectors.is_system_admin(request.user) and obj.pk == request.user.unit_id:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        services.save_unit(obj)


class DepartmentInline(ScopedTabularInline):
    model = Department
    extra = 0
    fields = ["name", "code"]


class CounterInline(ScopedTabularInline):
    model = Counter
    extra = 0
    fields = ["number", "name", "is_active"]


@admin.register(Agency)
class AgencyAdmin(ScopedModelAdmin):
    scope_unit_field = "unit"
    list_display = ["name", "code", "kind", "unit", "parent", "is_active"]
    list_filter = ["kind", "unit__level", "is_active"]
    search_fields = ["name", "code"]
    fields = [
        "name",
        "code",
        "kind",
        "unit",
        "parent",
        "supervising_units",
        "tax_code",
        "address",
        "phone",
        "email",
        "is_active",
    ]
    filter_horizontal = ["supervising_units"]
    inlines = [DepartmentInline, CounterInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            # The line an agency belongs to may sit above the administrator's unit
            # (a district branch of a provincial office); choosing it reveals nothing private.
            kwargs["queryset"] = Agency.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "supervising_units":
            kwargs["queryset"] = AdministrativeUnit.objects.filter(is_active=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        services.save_agency(obj)


@admin.register(Department)
class DepartmentAdmin(ScopedModelAdmin):
    scope_unit_field = "agency__unit"
    list_display = ["name", "code", "agency"]
    search_fields = ["name", "code", "agency__name"]


@admin.register(Counter)
class CounterAdmin(ScopedModelAdmin):
    scope_unit_field = "agency__unit"
    list_display = ["__str__", "agency", "is_active"]


class UserRoleInline(ScopedTabularInline):
    model = UserRole
    extra = 1
    fields = ["role"]

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not selectors.is_system_admin(request.user):
            kwargs["choices"] = [(value, label) for value, label in Role.choices if value != Role.SYSTEM_ADMIN]
        return super().formfield_for_choice_field(db_field, request, **kwargs)


class StaffPasswordForm(AdminPasswordChangeForm):
    """The desk's "set password" page (scoped like the user page): how staff get a new password."""

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        return services.password_set_by_administrator(user)


@admin.register(User)
class UserAdmin(ScopedModelAdmin, DjangoUserAdmin):
    scope_unit_field = "unit"
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = StaffPasswordForm
    ordering = ["full_name"]
    list_display = ["full_name", "email", "unit", "agency", "role_list", "is_active", "is_absent"]
    list_filter = ["roles__role", "unit__level", "is_active", "is_absent"]
    search_fields = ["full_name", "email", "phone"]
    readonly_fields = ["last_login", "date_joined", "password_changed_at"]
    inlines = [UserRoleInline]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "unit", "agency", "password1", "password2"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        fieldsets = [
            (None, {"fields": ["email", "password", "full_name", "phone"]}),
            (_("Place of work"), {"fields": ["unit", "agency", "department"]}),
            (_("Status"), {"fields": ["is_active", "is_absent", "last_login", "date_joined", "password_changed_at"]}),
        ]
        if selectors.is_system_admin(request.user):
            fieldsets.append((_("System"), {"fields": ["is_superuser"]}))
        return fieldsets

    @admin.display(description=_("roles"))
    def role_list(self, obj: User) -> str:
        return ", ".join(str(Role(r.role).label) for r in obj.roles.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("roles")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "unit" in form.base_fields and not selectors.is_system_admin(request.user):
            # Without a unit the person would fall outside the administrator's own scope.
            form.base_fields["unit"].required = True
        return form

    def save_model(self, request, obj, form, change) -> None:
        services.save_user(obj)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        services.sync_desk_access(form.instance)


# Roles replace Django's groups; an unused "Groups" page would only invite confusion.
admin.site.unregister(Group)


# --- staff log-in records (django-axes, see motcua/org/login_limits.py) -------------------------------


class LoginRecordAdmin(ScopedModelAdmin):
    """Read-only records of staff log-ins; a unit administrator sees those of the staff of their scope.

    Records of unknown e-mail addresses (someone guessing) are for system administrators only.
    """

    list_filter = ["attempt_time", "path_info"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "attempt_time"

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request)
        if selectors.is_system_admin(request.user):
            return qs
        return qs.filter(username__in=selectors.users_in_scope(request.user).values("email"))

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AccessAttempt)
class FailedLoginAdmin(LoginRecordAdmin):
    """Failed log-ins still counting (within the cool-off); "unlock" forgets them."""

    list_display = ["username", "ip_address", "failures_since_start", "locked", "attempt_time", "path_info"]
    fields = ["username", "ip_address", "user_agent", "path_info", "failures_since_start", "attempt_time"]
    readonly_fields = fields
    actions = ["unlock_selected"]

    @admin.display(description=_("locked"), boolean=True)
    def locked(self, obj: AccessAttempt) -> bool:
        return obj.failures_since_start >= settings.AXES_FAILURE_LIMIT

    def has_unlock_permission(self, request: HttpRequest) -> bool:
        return has_any_role(request.user, ADMIN_ROLES)

    @admin.action(description=_("Unlock: forget these failed log-ins"), permissions=["unlock"])
    def unlock_selected(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        count = services.unlock_attempts(queryset)
        self.message_user(
            request, _("%(count)s record(s) of failed log-ins forgotten.") % {"count": count}, messages.SUCCESS
        )


@admin.register(AccessFailureLog)
class FailedLoginLogAdmin(LoginRecordAdmin):
    """Every failed staff log-in, kept (up to AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT per account)."""

    list_display = ["attempt_time", "username", "ip_address", "locked_out", "path_info"]
    list_filter = ["locked_out", "attempt_time", "path_info"]
    fields = ["username", "ip_address", "user_agent", "path_info", "attempt_time", "locked_out"]
    readonly_fields = fields


@admin.register(AccessLog)
class LoginLogAdmin(LoginRecordAdmin):
    """Successful staff log-ins and their log-outs."""

    list_display = ["attempt_time", "logout_time", "username", "ip_address", "path_info"]
    fields = ["username", "ip_address", "user_agent", "path_info", "attempt_time", "logout_time"]
    readonly_fields = fields
