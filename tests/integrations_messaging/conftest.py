"""SMS and Zalo simulators on 127.0.0.1, settings pointing to them, and a worker driven in-process."""

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from motcua.integrations.messaging.models import Outgoing, ZaloToken
from motcua.integrations.messaging.simulators import SmsSimulator, ZaloSimulator
from tests.dossiers.conftest import (  # noqa: F401  (fixtures)
    _demo_module,
    _fresh_calendars,
    _media,
    birth,
    clerk,
    demo_org,
    media,
    org,
    receive,
)


@pytest.fixture
def sms_sim():
    sim = SmsSimulator().start()
    yield sim
    sim.stop()


@pytest.fixture
def zalo_sim():
    sim = ZaloSimulator(refresh_token="rt-initial").start()
    yield sim
    sim.stop()


@pytest.fixture(autouse=True)
def _messaging_settings(settings, sms_sim, zalo_sim):
    settings.MOTCUA_MESSAGING = {
        "sms": {"backend": "http", "url": f"{sms_sim.base_url}/send", "brandname": "MOTCUA"},
        "zalo": {
            "oauth_url": f"{zalo_sim.base_url}/oauth",
            "api_url": f"{zalo_sim.base_url}/zns",
            "app_id": "app-1",
            "secret_key": zalo_sim.app_secret,
        },
        "timeout": 5,
        "backoff": [0.05, 0.1],
        "max_attempts": 50,
    }
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _default_templates(db):
    """The default templates a data migration seeds, as a test expects them: a transactional test that ran
    earlier in the same worker flushes every table, migration data included."""
    from motcua.integrations.messaging import defaults
    from motcua.integrations.messaging.models import MessageTemplate

    for row in defaults.rows():
        MessageTemplate.objects.get_or_create(
            event=row["event"], channel=row["channel"], defaults={"subject": row["subject"], "body": row["body"]}
        )


@pytest.fixture
def zalo_token(db):
    """Expired access token: the first send refreshes (and rotates the single-use refresh token)."""
    return ZaloToken.objects.create(
        app_id="app-1", access_token="old", refresh_token="rt-initial", expires_at=timezone.now() - timedelta(hours=1)
    )


@pytest.fixture
def drain(django_capture_on_commit_callbacks, monkeypatch):
    """Run ``db_worker --batch`` in this process until nothing is waiting (or the time is up).

    The worker's ``close_old_connections`` would close the test's connection on PostgreSQL (inside
    the test's transaction autocommit is off, which Django reads as unusable), so it is a no-op here.
    """
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def _drain(seconds: float = 20) -> int:
        rounds, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            rounds += 1
            with django_capture_on_commit_callbacks(execute=True):
                call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
            if not Outgoing.objects.filter(status__in=["queued", "sending"]).exists():
                return rounds
            time.sleep(0.05)
        raise AssertionError("messages still waiting")

    return _drain
