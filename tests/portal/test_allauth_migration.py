"""The data migration that carries the hand-written accounts over to django-allauth (portal 0004)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from motcua.org.models import Role, User, UserRole

BEFORE = [("portal", "0003_drop_phone_codes_for_allauth")]
AFTER = [("portal", "0004_allauth_email_addresses")]


def migrate(target) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


@pytest.mark.django_db(transaction=True)
def test_old_accounts_get_allauth_email_addresses():
    from allauth.account.models import EmailAddress

    def citizen(email: str, *, active: bool, logged_in: bool = False) -> User:
        user = User.objects.create_user(email=email, password="x-pass-2026-abc", full_name="A", is_active=active)
        if logged_in:
            User.objects.filter(pk=user.pk).update(last_login="2026-01-01T00:00:00+07:00")
        UserRole.objects.create(user=user, role=Role.CITIZEN)
        return user

    migrate(BEFORE)
    verified = citizen("verified@example.vn", active=True)
    waiting = citizen("waiting@example.vn", active=False)
    locked = citizen("locked@example.vn", active=False, logged_in=True)
    phone_only = citizen("sdt-0912345678-ab12@phone.invalid", active=True)
    staff = User.objects.create_user(email="staff@example.vn", password="x-pass-2026-abc", full_name="S")
    migrate(AFTER)

    assert EmailAddress.objects.get(user=verified).verified
    assert not EmailAddress.objects.get(user=waiting).verified and User.objects.get(pk=waiting.pk).is_active
    assert not EmailAddress.objects.get(user=locked).verified and not User.objects.get(pk=locked.pk).is_active
    assert not EmailAddress.objects.filter(user__in=[phone_only, staff]).exists()
