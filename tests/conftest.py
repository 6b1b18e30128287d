"""Shared fixtures. Tests run against the database named by DATABASE_URL (SQLite or PostgreSQL)."""

import pytest

from motcua.l10n import compile_catalogues

compile_catalogues(only_stale=True)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # PBKDF2 at production strength costs ~0.4 s a user; the tests create many.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_org(db):
    """The demo province's organisation (units by key); accounts share org.demo.DEMO_PASSWORD."""
    from motcua.org import demo

    return demo.load()
