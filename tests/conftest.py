"""Shared fixtures. Tests run against the database named by DATABASE_URL (SQLite or PostgreSQL)."""

import pytest

from motcua.l10n import compile_catalogues

# MOTCUA_TEST_CLOCK=<ISO moment> shifts "now" for the whole suite (see tests/clock.py).
# DATABASE_OWNER_URL beside DATABASE_URL: migrate as the owner, test as the DML-only role (tests/dbroles.py).
pytest_plugins = ["tests.clock", "tests.dbroles"]

if compile_catalogues(only_stale=True):
    # Django may have read the old .mo files while starting up: clear its caches the way its
    # autoreloader does when a .mo file changes.
    from pathlib import Path

    from django.utils.translation.reloader import translation_file_changed

    translation_file_changed(None, Path("changed.mo"))


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # PBKDF2 at production strength costs ~0.4 s a user; the tests create many.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_org(db):
    """The demo province's organisation (units by key); accounts share org.demo.DEMO_PASSWORD."""
    from motcua.org import demo

    return demo.load()
