"""Portal fixtures: the dossier tests' organisation and catalogue helpers, plus citizen accounts."""

import pytest

from motcua.catalog.models import ProcedureVersion
from motcua.org.models import Role, User, UserRole
from tests.dossiers.conftest import (  # noqa: F401  (fixtures re-exported for this package)
    LIENBAO,
    Proc,
    _demo_module,
    _fresh_calendars,
    _media,
    clerk,
    clerk_tamhop,
    demo_org,
    make_procedure,
    media,
    org,
)

PASSWORD = "citizen-pass-2026"


def make_citizen(email: str, name: str = "Nguyễn Văn An") -> User:
    """A citizen whose e-mail address is verified (as after allauth's confirmation link)."""
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(email=email, password=PASSWORD, full_name=name)
    UserRole.objects.create(user=user, role=Role.CITIZEN)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def citizen(org) -> User:  # noqa: F811
    return make_citizen("an@example.vn")


@pytest.fixture
def other_citizen(org) -> User:  # noqa: F811
    return make_citizen("binh@example.vn", "Trần Thị Bình")


@pytest.fixture
def online_birth(org) -> Proc:  # noqa: F811
    """The birth registration of the dossier tests, fully online."""
    proc = make_procedure("1.001193")
    ProcedureVersion.objects.filter(pk=proc.version.pk).update(online_level=ProcedureVersion.OnlineLevel.FULL)
    proc.version.refresh_from_db()
    return proc


@pytest.fixture(autouse=True)
def _clear_cache(django_db_setup, django_db_blocker):
    # The cache is a database table (settings.CACHES), in the test database: emptied around each test,
    # outside its transaction (this runs before and after the "db" fixture's).
    from django.core.cache import cache

    with django_db_blocker.unblock():
        cache.clear()
    yield
    with django_db_blocker.unblock():
        cache.clear()
