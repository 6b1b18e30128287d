"""The only code that changes the organisation. Each function runs in one transaction."""

from collections.abc import Iterable

from django.db import transaction

from motcua.org.models import AdministrativeUnit, Agency, Role, User, UserRole
from motcua.text import normalize

#: Roles whose holders use the desk (/admin/); the others work in the counter and inbox screens.
DESK_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.UNIT_ADMIN, Role.MONITOR})


@transaction.atomic
def save_unit(unit: AdministrativeUnit) -> AdministrativeUnit:
    """Validate and save a unit, keeping its materialised path and its subtree's paths right."""
    unit.name = normalize(unit.name)
    unit.full_clean(exclude=["path"])
    old_path = unit.path
    if unit.pk is None:
        unit.save()
    new_path = (unit.parent.path if unit.parent_id else "/") + f"{unit.pk}/"
    unit.path = new_path
    unit.save()
    if old_path and old_path != new_path:
        # The unit moved: rewrite the prefix of every unit below it.
        for child in AdministrativeUnit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk):
            child.path = new_path + child.path[len(old_path) :]
            child.save(update_fields=["path"])
    return unit


@transaction.atomic
def save_agency(agency: Agency, supervising_units: Iterable[AdministrativeUnit] | None = None) -> Agency:
    agency.name = normalize(agency.name)
    agency.code = agency.code.strip().upper()
    agency.full_clean()
    agency.save()
    if supervising_units is not None:
        agency.supervising_units.set(supervising_units)
    return agency


@transaction.atomic
def set_roles(user: User, roles: Iterable[str]) -> User:
    """Give ``user`` exactly ``roles``; desk access (is_staff) follows the roles."""
    wanted = set(roles)
    unknown = wanted - set(Role.values)
    if unknown:
        raise ValueError(f"Unknown roles: {sorted(unknown)}")
    UserRole.objects.filter(user=user).exclude(role__in=wanted).delete()
    for role in wanted:
        UserRole.objects.get_or_create(user=user, role=role)
    sync_desk_access(user)
    return user


def sync_desk_access(user: User) -> None:
    user.__dict__.pop("_role_codes", None)
    user.is_staff = user.is_superuser or bool(user.role_codes & DESK_ROLES)
    User.objects.filter(pk=user.pk).update(is_staff=user.is_staff)


@transaction.atomic
def save_user(user: User, password: str | None = None, roles: Iterable[str] | None = None) -> User:
    user.full_name = normalize(user.full_name)
    if password is not None:
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    if roles is not None:
        set_roles(user, roles)
    return user


@transaction.atomic
def password_set_by_administrator(user: User) -> User:
    """Save a password an administrator has just set for ``user`` (the seed's staff reset: staff ask
    their unit administrator, never a mail link).

    The person must choose their own at the next log-in (when passwords expire at all), and the
    account's failed log-ins are forgotten, so the new password works at once.
    """
    user.password_changed_at = None
    user.save(update_fields=["password", "password_changed_at"])
    unlock_login(user.email)
    return user


def unlock_login(username: str) -> int:
    """Forget the failed staff log-ins of one account (django-axes' records); returns how many rows."""
    from axes.models import AccessAttempt

    deleted, _rows = AccessAttempt.objects.filter(username=username.strip().lower()).delete()
    return deleted


def unlock_attempts(attempts) -> int:
    """Forget the given failed-log-in records (the desk's "unlock"); the failure log keeps them."""
    deleted, _rows = attempts.delete()
    return deleted
