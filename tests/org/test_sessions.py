"""Sessions at shared counter PCs (review F18): the cookie ends with the browser, and a session left unused for
MOTCUA_SESSION_IDLE_MINUTES (default 8 hours) is over, while one in use stays alive."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from motcua.org.demo import DEMO_PASSWORD, demo_email
from motcua.org.models import Role

CLERK = demo_email(Role.CLERK, "lienbao")


def settings_in_a_fresh_process(**env: str) -> dict:
    code = (
        "import json, motcua.settings as s; print(json.dumps({'close': s.SESSION_EXPIRE_AT_BROWSER_CLOSE, "
        "'age': s.SESSION_COOKIE_AGE, 'cache': s.CACHES['default']['BACKEND'], 'proxies': s.MOTCUA_TRUSTED_PROXIES}))"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MOTCUA_SESSION", "MOTCUA_CACHE"))}
    out = subprocess.run(
        [sys.executable, "-c", code], env={**environ, **env}, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_defaults_and_settings():
    assert settings_in_a_fresh_process() == {
        "close": True,
        "age": 8 * 3600,
        "cache": "django.core.cache.backends.db.DatabaseCache",
        "proxies": [],
    }
    assert settings_in_a_fresh_process(
        MOTCUA_SESSION_EXPIRE_AT_BROWSER_CLOSE="0",
        MOTCUA_SESSION_IDLE_MINUTES="30",
        MOTCUA_CACHE_URL="redis://127.0.0.1:6379/1",
        MOTCUA_TRUSTED_PROXIES="127.0.0.1, 10.20.0.0/16",
    ) == {
        "close": False,
        "age": 1800,
        "cache": "django.core.cache.backends.redis.RedisCache",
        "proxies": ["127.0.0.1", "10.20.0.0/16"],
    }


@pytest.mark.django_db
def test_the_staff_session_cookie_ends_with_the_browser(demo_org):
    client = Client()
    response = client.post("/staff/login/", {"username": CLERK, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]


@pytest.mark.django_db
def test_an_idle_session_ends_and_a_used_one_stays(demo_org, time_machine, settings):
    settings.SESSION_COOKIE_AGE = 8 * 3600
    settings.MOTCUA_SESSION_TOUCH_SECONDS = 300
    time_machine.move_to(timezone.now(), tick=True)
    client = Client()
    assert client.post("/staff/login/", {"username": CLERK, "password": DEMO_PASSWORD}).status_code == 302
    for _ in range(3):  # a working day and more, a request every 7 hours: still logged in
        time_machine.shift(timedelta(hours=7))
        assert client.get("/counter/").status_code == 200
    time_machine.shift(timedelta(hours=8, minutes=1))  # left logged in overnight
    response = client.get("/counter/")
    assert response.status_code == 302 and response.url.startswith("/staff/login/")


@pytest.mark.django_db
def test_requests_close_together_do_not_rewrite_the_session(demo_org, settings):
    settings.MOTCUA_SESSION_TOUCH_SECONDS = 300
    client = Client()
    client.post("/staff/login/", {"username": CLERK, "password": DEMO_PASSWORD})
    client.get("/counter/")  # the first request after log-in may touch it
    from django.contrib.sessions.models import Session

    key = client.session.session_key
    before = Session.objects.get(session_key=key).expire_date
    client.get("/counter/")
    assert Session.objects.get(session_key=key).expire_date == before
