"""Run the PostgreSQL suite as the app's DML-only role (README, "Production: two database roles").

With ``DATABASE_OWNER_URL`` beside ``DATABASE_URL`` (``eval "$(scripts/ci-db-roles.sh)"``), the test
databases are created and migrated as the owner — so ``migrate`` grants the app role its privileges
exactly as in production — and the tests then connect as ``DATABASE_URL``'s role. The flush after a
transactional test (``transactional_db``, ``live_server``) runs as the owner through our ``flush``
command (motcua/management/commands/flush.py); the app role itself cannot truncate. Without
``DATABASE_OWNER_URL``, or on SQLite, nothing changes.
"""

import pytest

_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")
_app: dict = {}  # the app role's credentials, as DATABASE_URL gave them


def _separate() -> bool:
    from motcua import dbroles

    return dbroles.separate_roles()


def _credentials() -> dict:
    from django.conf import settings

    return {key: settings.DATABASES["default"].get(key, "") for key in _CREDENTIALS}


def _connect_as(credentials: dict) -> None:
    from django.conf import settings
    from django.db import connections

    conn = connections["default"]
    conn.close()
    for settings_dict in {id(d): d for d in (settings.DATABASES["default"], conn.settings_dict)}.values():
        settings_dict.update(credentials)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """Before pytest-django creates the test database: connect as the owner."""
    if not _separate():
        yield
        return
    from django.conf import settings

    _app.update(_credentials())
    _connect_as(settings.DATABASE_OWNER)
    yield
    _connect_as(_app)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Once the test database is migrated (as the owner): the tests connect as the app's role."""
    if not _separate():
        yield
        return
    from django.db import connections

    owner = _credentials()
    _connect_as(_app)
    with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == _app["USER"], "the tests must connect as the app's role"
    yield
    _connect_as(owner)  # pytest-django drops the test database as its owner
