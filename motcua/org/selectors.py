"""Queries over the organisation, always scoped to the person asking (invariant 5).

System administrators see everything; everyone else sees their own unit and the units
below it. A user with no unit (a citizen) sees no organisation records here.
"""

from django.db.models import Q, QuerySet

from motcua.org.models import STAFF_ROLES, AdministrativeUnit, Agency, Department, Role, User


def is_system_admin(user) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.has_role(Role.SYSTEM_ADMIN)))


def is_unit_admin(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.unit_id and user.has_role(Role.UNIT_ADMIN))


def scope_path(user) -> str | None:
    """The path prefix of the user's scope: '' for everything, None for nothing."""
    if is_system_admin(user):
        return ""
    if user.is_authenticated and user.is_active and user.unit_id and user.has_role(*STAFF_ROLES):
        return user.unit.path
    return None


def scope_filter(user, unit_field: str) -> Q:
    """A Q that keeps rows whose ``unit_field`` (a lookup to an AdministrativeUnit, '' for the
    unit model itself) is in scope."""
    path = scope_path(user)
    if path is None:
        return Q(pk__in=[])
    if path == "":
        return Q()
    prefix = f"{unit_field}__" if unit_field else ""
    return Q(**{f"{prefix}path__startswith": path})


def units_in_scope(user) -> QuerySet[AdministrativeUnit]:
    return AdministrativeUnit.objects.select_related("level", "parent").filter(scope_filter(user, ""))


def agencies_in_scope(user) -> QuerySet[Agency]:
    return Agency.objects.select_related("unit").filter(scope_filter(user, "unit"))


def departments_in_scope(user) -> QuerySet[Department]:
    return Department.objects.select_related("agency").filter(scope_filter(user, "agency__unit"))


def users_in_scope(user) -> QuerySet[User]:
    users = User.objects.select_related("unit", "agency", "department").filter(scope_filter(user, "unit"))
    if not is_system_admin(user):
        # A unit administrator never sees, and so never edits, the people who administer the system.
        users = users.exclude(Q(is_superuser=True) | Q(roles__role=Role.SYSTEM_ADMIN))
    return users


def unit_in_scope(user, unit: AdministrativeUnit | None) -> bool:
    path = scope_path(user)
    if path is None or unit is None:
        return path == ""
    return unit.path.startswith(path)


def is_staff_account(user) -> bool:
    """A staff account (any role but citizen, desk access, or a unit): never a portal (citizen) account.

    The portal's log-in and password reset refuse these; staff log in at /staff/login/ and get a new
    password from their unit administrator.
    """
    if not getattr(user, "pk", None):
        return False
    if user.is_staff or user.is_superuser or user.unit_id:
        return True
    return bool(user.role_codes - {Role.CITIZEN})
